"""The console's one translation of errors into notices.

Domain errors carry a sentence meant for the operator and are shown as they are.
A database that stops answering gets its own sentence. Anything else is a bug: it is
shown as one line (type and message) and its traceback goes to the Textual log, so
the console stays usable.
"""

from __future__ import annotations

import traceback
from typing import Protocol

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from textual.notifications import SeverityLevel

from backend.database import is_unreachable
from backend.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    Locked,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Unavailable,
)

ERROR_TIMEOUT_SECONDS = 10
_TITLES: dict[type[DomainError], str] = {
    NotFound: "Not found",
    Conflict: "Conflict",
    PermissionDenied: "Not allowed",
    InvalidInput: "Invalid input",
    NotAuthenticated: "Not signed in",
    Locked: "Locked",
    Unavailable: "Unavailable",
}


class Notifier(Protocol):
    """Anything with Textual's `notify` (an App, a Screen, a Widget)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


def describe_error(error: BaseException) -> tuple[str, str]:
    """(title, one-sentence message) for any error a console action can meet."""
    if isinstance(error, DomainError):
        return _title_of(error), error.message
    if isinstance(error, OperationalError | InterfaceError | OSError):
        return "Database unavailable", f"The database did not answer: {_first_line(error)}."
    if isinstance(error, DBAPIError):
        return "Database error", f"The database refused the request: {_first_line(error)}."
    return "Unexpected error", f"{type(error).__name__}: {_first_line(error)}"


def notify_error(target: Notifier, error: BaseException) -> None:
    """Show `error` as a red notice on `target`'s app.

    An unreachable database is the app's banner instead (when the app has one), so a
    screen whose every query fails shows one clear state, not a stack of notices.
    """
    report_down = getattr(getattr(target, "app", target), "report_database_down", None)
    if report_down is not None and is_unreachable(error):
        report_down(error)
        return
    title, message = describe_error(error)
    if not isinstance(error, DomainError):
        _log_traceback(target, error)
    target.notify(
        message, title=title, severity="error", timeout=ERROR_TIMEOUT_SECONDS, markup=False
    )


def _title_of(error: DomainError) -> str:
    for kind, title in _TITLES.items():
        if isinstance(error, kind):
            return title
    return "Refused"


def _first_line(error: BaseException) -> str:
    # DBAPIError's str() spans lines (SQL, parameters, a link); the first one says why.
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0].rstrip(".") if text else type(error).__name__


def _log_traceback(target: Notifier, error: BaseException) -> None:
    log = getattr(getattr(target, "app", target), "log", None)
    if log is not None:
        log.error("".join(traceback.format_exception(error)))
