"""The CLI's one error printer: an expected failure becomes one sentence on stderr, exit 1."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from backend.services.errors import DomainError

if TYPE_CHECKING:
    from pydantic import ValidationError


class CliError(Exception):
    """A failure the CLI detects itself; `message` is one sentence for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_sentence(error: BaseException) -> str | None:
    """The sentence to show for an expected error, or None for a bug (keeps its traceback)."""
    if isinstance(error, CliError | DomainError):
        return error.message
    # Imported here: loading settings and pydantic is what `--help` must not pay for.
    from pydantic import ValidationError

    from backend.config import ConfigError

    if isinstance(error, ConfigError):
        return str(error)
    if isinstance(error, ValidationError):
        return validation_sentence(error)
    return None


def validation_sentence(error: ValidationError, field: str | None = None) -> str:
    """The first problem pydantic found, as "Invalid <field>: <why>."."""
    first = error.errors()[0]
    field = field or ".".join(str(part) for part in first["loc"]) or "input"
    reason = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
    return f"Invalid {field}: {reason}."


def print_error(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)


def reporting_errors(command: Callable[[], object]) -> None:
    """Run `command`; an expected failure becomes one sentence on stderr and exit status 1."""
    try:
        command()
    except Exception as error:
        message = error_sentence(error)
        if message is None:
            raise
        print_error(message)
        raise SystemExit(1) from None
