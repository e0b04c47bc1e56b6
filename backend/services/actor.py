"""Who performs a service call: a label for the audit log, a role for the rules."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from backend.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """`label` is what the audit log records and names the edge the call came through:
    `console:<os user>`, `cli:<os user>`, `api:user:<id>`, or `api:anonymous`."""

    label: str
    role: Role
    user_id: int | None = None

    @classmethod
    def console(cls, os_user: str | None = None) -> Actor:
        """The operator at the console: full rights, like anyone with the database URL."""
        return cls(label=f"console:{os_user or _os_user()}", role=Role.ADMIN)

    @classmethod
    def cli(cls, os_user: str | None = None) -> Actor:
        return cls(label=f"cli:{os_user or _os_user()}", role=Role.ADMIN)

    @classmethod
    def api_user(cls, user_id: int, role: Role | str) -> Actor:
        return cls(label=f"api:user:{user_id}", role=Role(role), user_id=user_id)

    @classmethod
    def anonymous(cls) -> Actor:
        """An API client not signed in: a failed login (its address is recorded beside)."""
        return cls(label="api:anonymous", role=Role.USER)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
