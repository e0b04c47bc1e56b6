"""Usage errors (a missing argument, an unknown option, a bad value) as one sentence, exit 2.

Typer prints Click's usage errors as a usage line and a boxed message; the CLI's
contract is one sentence on stderr. The root command's group catches them wherever
they arise (its own options, a subcommand's, a nested group's) and prints them with
the CLI's one error printer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Typer 0.29 vendors Click: its usage errors are these classes, not the `click` package's.
from typer._click.core import Command, Context
from typer._click.exceptions import MissingParameter, NoSuchOption, UsageError
from typer.core import TyperGroup
from typer.exceptions import Exit

from console.cli.errors import print_error

USAGE_EXIT_STATUS = 2
ARGS_KEY = "backend_console.subcommand_args"
MISSING_COMMAND = "Missing command."  # Click's message for a group named alone


def usage_sentence(error: UsageError, command_path: str) -> str:
    """One sentence for a usage error, ending with where to read the command's usage.

    `command_path` names the command when the error does not (a few of Click's
    parser errors carry no context).
    """
    context = error.ctx
    command = context.command_path if context is not None else command_path
    see = f"see {command} -h"
    if error.message == MISSING_COMMAND and context is not None:
        group = context.command
        names = ", ".join(group.list_commands(context)) if isinstance(group, TyperGroup) else ""
        return f"{command} needs a command: {names} ({see})."
    if isinstance(error, MissingParameter) and error.param is not None:
        param = error.param
        if param.param_type_name == "argument":
            name = (param.metavar or param.name or "an argument").upper()
            return f"{command} needs its {name} argument ({see})."
        return f"{command} needs the option {_option_name(param.opts)} ({see})."
    if isinstance(error, NoSuchOption):
        guesses = sorted(error.possibilities or ())
        guess = f"perhaps {' or '.join(guesses)}; " if guesses else ""
        return f"{command} has no option {error.option_name} ({guess}{see})."
    reason = " ".join(error.format_message().split()).replace("Value error, ", "")
    return f"{reason.rstrip('. ')} ({see})."


def _option_name(opts: Sequence[str]) -> str:
    return max(opts, key=len) if opts else "that is required"


def command_path(context: Context, args: Sequence[str]) -> str:
    """The path of the (sub)command that `args` name under `context`'s command."""
    command: Command = context.command
    names = [context.command_path]
    for token in args:
        sub = command.get_command(context, token) if isinstance(command, TyperGroup) else None
        if sub is None:
            break
        names.append(token)
        command = sub
    return " ".join(names)


def _groups_under(group: TyperGroup) -> Iterator[TyperGroup]:
    for command in group.commands.values():
        if isinstance(command, TyperGroup):
            yield command
            yield from _groups_under(command)


@contextmanager
def usage_as_sentence(context: Context | None) -> Iterator[None]:
    """Print a usage error raised inside as one sentence and exit with status 2."""
    try:
        yield
    except UsageError as error:
        args = context.meta.get(ARGS_KEY, ()) if context is not None else ()
        path = command_path(context, args) if context is not None else "backend-console"
        print_error(usage_sentence(error, path))
        raise Exit(USAGE_EXIT_STATUS) from None


class SentenceGroup(TyperGroup):
    """The root group: usage errors of every command under it become one sentence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A group named alone then fails with "Missing command." (a sentence, above)
        # rather than printing its help: Typer prints it while building that error.
        for group in _groups_under(self):
            group.no_args_is_help = False

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        # The root's own options are parsed here; a subcommand's inside invoke().
        with usage_as_sentence(None):
            return super().make_context(info_name, args, parent, **extra)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        ctx.meta[ARGS_KEY] = tuple(args)  # to name the subcommand of an error without context
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        with usage_as_sentence(ctx):
            return super().invoke(ctx)
