"""The detail panel: everything about the selected user, and their recent audit events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from backend.schemas.user import UserRead
from backend.services.audit import AuditRecord
from console.widgets.formatting import absolute_time, relative_time

RECENT_EVENTS = 10


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit event as the panel shows it (never a secret: audit holds none)."""

    at: dt.datetime
    actor: str
    action: str
    fields: str

    @classmethod
    def of(cls, event: AuditRecord) -> AuditLine:
        return cls(event.at, event.actor, event.action, _fields(event.changes))


def _fields(changes: dict[str, Any]) -> str:
    return ", ".join(sorted(changes)) if changes else ""


class UserDetail(VerticalScroll):
    """Shows one user; the screen loads the data and hands it in."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now: dt.datetime = dt.datetime.now(dt.UTC)
        self.zone: dt.tzinfo | None = None

    def compose(self) -> Any:
        yield Static(Text("No user selected.", style="dim"), id="detail-body")

    def show_message(self, message: str) -> None:
        self.query_one("#detail-body", Static).update(Text(message, style="dim"))

    def show_user(self, user: UserRead, events: list[AuditLine]) -> None:
        self.query_one("#detail-body", Static).update(
            Group(self._heading(user), self._facts(user), self._events(events))
        )

    def _heading(self, user: UserRead) -> Text:
        heading = Text(user.email, style="bold")
        state = "active" if user.is_active else "inactive"
        heading.append(f"\n{user.full_name or '(no name)'} · {user.role.value} · {state}")
        return heading

    def _facts(self, user: UserRead) -> Table:
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim", no_wrap=True)
        facts.add_column()
        facts.add_row("Locked", self._lock_text(user))
        facts.add_row("Last login", self._moment(user.last_login_at))
        facts.add_row("Created", self._moment(user.created_at))
        facts.add_row("Updated", self._moment(user.updated_at))
        facts.add_row("Sessions ended", self._moment(user.tokens_valid_after))
        facts.add_row("Version", Text(f"{user.version} · id {user.id}"))
        return facts

    def _lock_text(self, user: UserRead) -> Text:
        failures = f"{user.failed_login_count} failed logins"
        if user.locked_until is not None and user.locked_until > self.now:
            until = absolute_time(user.locked_until, self.zone)
            return Text(f"until {until} ({failures})", style="red")
        return Text(f"no ({failures})")

    def _moment(self, moment: dt.datetime | None) -> Text:
        if moment is None:
            return Text("never", style="dim")
        when = absolute_time(moment, self.zone)
        return Text(f"{when} ({relative_time(moment, self.now)})")

    def _events(self, events: list[AuditLine]) -> Group:
        title = Text("\nRecent activity", style="bold")
        if not events:
            return Group(title, Text("no audit events", style="dim"))
        lines = Table.grid(padding=(0, 1))
        for column_style in ("dim", "", "bold", "dim"):
            lines.add_column(style=column_style, no_wrap=column_style != "dim")
        for event in events:
            when = absolute_time(event.at, self.zone)
            lines.add_row(when, event.actor, event.action, event.fields)
        return Group(title, lines)
