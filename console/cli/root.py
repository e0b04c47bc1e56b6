"""The `backend-console` command: root options, the console, and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli import db, routes, serve, tokens, users
from console.cli.errors import error_sentence, print_error
from console.cli.state import CliState

app = typer.Typer(
    name="backend-console",
    help="A terminal console for the backend's users, tokens, migrations and routes.",
    add_completion=False,
    # Locals may hold settings and passwords: a bug's traceback must not print them.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="token")
app.command("serve")(serve.serve)
app.command("routes")(routes.routes)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Async SQLAlchemy URL; overrides DATABASE_URL.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="Where the API listens (default: API_HOST).", metavar="H"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="The API's port (default: API_PORT).", metavar="P", min=0, max=65535),
    ] = None,
    no_server: Annotated[
        bool, typer.Option("--no-server", help="Run the console without the embedded API.")
    ] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Browse only: refuse every write.")
    ] = False,
) -> None:
    """Without a command: open the console, with the API served alongside it."""
    ctx.obj = CliState(
        database_url=database_url, host=host, port=port, no_server=no_server, read_only=read_only
    )
    if ctx.invoked_subcommand is None:
        _open_console(ctx.obj)


def _open_console(state: CliState) -> None:
    from console.startup import collector_paused

    # Paused from the first heavy import on: the console's modules and screens live
    # as long as it does, so collecting meanwhile only rescans them.
    with collector_paused():
        # Textual is imported only when the console really opens.
        from console.app import run_console

        run_console(
            state.settings,
            host=state.host,
            port=state.port,
            no_server=state.no_server,
            read_only=state.read_only,
        )


def main() -> None:
    """The entry point: run the CLI and print expected failures as one sentence."""
    try:
        app()
    except Exception as error:
        message = error_sentence(error)
        if message is None:
            raise
        print_error(message)
        raise SystemExit(1) from None
