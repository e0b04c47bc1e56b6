"""The selected audit event: who, what, when, and its changed fields as before/after."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from backend.services.audit import AuditRecord

SECRET_SHOWN = "(changed, not recorded)"


def before_and_after(value: Any) -> tuple[str, str]:
    """How one recorded change reads: `[old, new]`, "changed" (a secret), or a plain value."""
    if isinstance(value, list) and len(value) == 2:
        return _shown(value[0]), _shown(value[1])
    if value == "changed":
        return "", SECRET_SHOWN
    return "", _shown(value)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class EventChanges(Static):
    """The event's header and a field / before / after table."""

    def show(self, event: AuditRecord | None, zone: dt.tzinfo | None) -> None:
        if event is None:
            self.update(Text("No event selected.", style="dim"))
            return
        header = Table.grid(padding=(0, 1))
        header.add_column(style="bold", no_wrap=True)
        header.add_column(overflow="fold")
        header.add_row(
            "Event",
            f"{event.id}" + ("" if event.chain_seq is None else f" (link {event.chain_seq})"),
        )
        header.add_row("At", event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"))
        header.add_row("Actor", event.actor)
        header.add_row("Action", event.action)
        header.add_row("Target", event.target or "-")
        grid = Table.grid()
        grid.add_row(header)
        grid.add_row("")
        grid.add_row(_changes_table(event) if event.changes else Text("No fields changed.", "dim"))
        self.update(grid)


def _changes_table(event: AuditRecord) -> Table:
    """field / before / after; field / value when no field changed from one value to
    another (an account created or deleted, a login refused): no empty column then, and
    the values keep the narrow panel's width."""
    rows = [(field, *before_and_after(value)) for field, value in sorted(event.changes.items())]
    with_before = any(before for _field, before, _after in rows)
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None)
    table.add_column("field", style="bold", no_wrap=True)
    if with_before:
        table.add_column("before", overflow="fold", style="red")
    table.add_column("after" if with_before else "value", overflow="fold", style="green")
    for field, before, after in rows:
        table.add_row(*((field, before, after) if with_before else (field, after)))
    return table
