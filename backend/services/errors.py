"""Domain errors raised by services and translated once at each edge (API, console, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose; `message` is one sentence.

    `field` names the input the error is about (e.g. "email"), when it is about one,
    so that a form can show it beside that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The target does not exist (or the actor may not know that it does)."""


class Conflict(DomainError):
    """The write clashes with the current state: a duplicate, a stale version, a last admin."""


class PermissionDenied(DomainError):
    """The actor's role does not allow this."""


class InvalidInput(DomainError):
    """The input is well-formed but unacceptable."""


class NotAuthenticated(DomainError):
    """Credentials or token missing, wrong, expired or revoked."""


class Locked(DomainError):
    """The account is locked after too many failed logins."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """The database cannot be reached."""
