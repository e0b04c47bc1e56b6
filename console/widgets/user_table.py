"""The users table: a bounded window of rows that asks for the next page at its edges.

DataTable slows down with many rows (10,000 take about a second to paint), so the
table only ever holds one page; moving past its first or last row, or scrolling
past its end, asks the screen for the neighbouring page, which replaces the window.
Columns adapt to the width: narrow tables merge active/locked into one State column
and show last login as a relative time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from backend.services.user_search import UserRow
from console.widgets.formatting import absolute_date, absolute_time, relative_time

MARK = "●"
WIDE_TABLE = 110  # from this width on, every column gets its own cell
_CELL_PADDING = 2  # DataTable pads each cell by one on either side


class PageDirection(StrEnum):
    NEXT = "next"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    label: str
    width: int  # 0: shares the flexible width


_NARROW = (
    _Column("mark", " ", 1),
    _Column("email", "Email", 0),
    _Column("name", "Name", 0),
    _Column("role", "Role", 7),
    _Column("state", "State", 8),
    _Column("last_login", "Last login", 10),
)
_WIDE = (
    _Column("mark", " ", 1),
    _Column("email", "Email", 0),
    _Column("name", "Name", 0),
    _Column("role", "Role", 7),
    _Column("active", "Active", 6),
    _Column("locked", "Locked", 6),
    _Column("last_login", "Last login", 16),
    _Column("created", "Created", 10),
)


class UserTable(DataTable[Text]):
    """One page of users; the screen owns the data and hands rows in."""

    class PageRequested(Message):
        """The cursor or the wheel went past an edge of the window."""

        def __init__(self, direction: PageDirection) -> None:
            super().__init__()
            self.direction = direction

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[UserRow] = []
        self._marked: set[int] = set()
        self._layout: tuple[tuple[_Column, ...], int, int] | None = None
        self.now: dt.datetime = dt.datetime.now(dt.UTC)
        self.zone: dt.tzinfo | None = None

    # --- what the screen calls ---------------------------------------------------

    def show_rows(
        self, rows: list[UserRow], marked: set[int], *, cursor_at: int | None = None
    ) -> None:
        """Replace the window; put the cursor on row index `cursor_at` (default: first)."""
        self._rows = rows
        self._marked = marked
        self._rebuild(keep_columns=True)
        if rows:
            target = 0 if cursor_at is None else max(0, min(cursor_at, len(rows) - 1))
            self.move_cursor(row=target, animate=False, scroll=True)

    def set_marked(self, user_id: int, marked: bool) -> None:
        """Show or hide the mark on the row of `user_id` (when it is in the window)."""
        key = str(user_id)
        if key in self.rows:
            self.update_cell(key, "mark", Text(MARK if marked else " ", style="bold"))

    @property
    def selected(self) -> UserRow | None:
        """The row under the cursor."""
        if not self._rows or not self.is_valid_row_index(self.cursor_row):
            return None
        return self._rows[self.cursor_row]

    # --- paging at the edges -----------------------------------------------------

    def action_cursor_down(self) -> None:
        if self._at_last_row():
            self.post_message(self.PageRequested(PageDirection.NEXT))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.PageRequested(PageDirection.PREVIOUS))
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self._at_last_row():
            self.post_message(self.PageRequested(PageDirection.NEXT))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.PageRequested(PageDirection.PREVIOUS))
            return
        super().action_page_up()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        # At the bottom of the window the wheel turns the page instead of scrolling.
        if self.scroll_y >= self.max_scroll_y and not (event.ctrl or event.shift):
            event.prevent_default()
            event.stop()
            self.post_message(self.PageRequested(PageDirection.NEXT))

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0 and not (event.ctrl or event.shift):
            event.prevent_default()
            event.stop()
            self.post_message(self.PageRequested(PageDirection.PREVIOUS))

    def _at_last_row(self) -> bool:
        return self.row_count == 0 or self.cursor_row >= self.row_count - 1

    # --- layout ------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        if self._columns_for(event.size.width) != self._layout:
            cursor = self.cursor_row
            self._rebuild(keep_columns=False)
            if self._rows:
                self.move_cursor(row=min(cursor, len(self._rows) - 1), animate=False)

    def _columns_for(self, width: int) -> tuple[tuple[_Column, ...], int, int]:
        columns = _WIDE if width >= WIDE_TABLE else _NARROW
        fixed = sum(column.width for column in columns) + _CELL_PADDING * len(columns)
        flexible = max(width - fixed - 2, 24)  # 2: room for the vertical scrollbar
        email = max(flexible * 3 // 5, 14)
        return columns, email, max(flexible - email, 8)

    def _rebuild(self, *, keep_columns: bool) -> None:
        layout = self._columns_for(self.size.width or 80)
        if not keep_columns or layout != self._layout or not self.columns:
            self.clear(columns=True)
            self._layout = layout
            columns, email_width, name_width = layout
            flexible = {"email": email_width, "name": name_width}
            for column in columns:
                width = column.width or flexible[column.key]
                self.add_column(column.label, key=column.key, width=width)
        else:
            self.clear()
        for row in self._rows:
            self.add_row(*self._cells(row), key=str(row.id))

    def _cells(self, row: UserRow) -> list[Text]:
        columns = self._layout[0] if self._layout else _NARROW
        locked = row.locked_until is not None and row.locked_until > self.now
        values = {
            "mark": Text(MARK if row.id in self._marked else " ", style="bold"),
            "email": Text(row.email, no_wrap=True, overflow="ellipsis"),
            "name": Text(row.full_name, no_wrap=True, overflow="ellipsis"),
            "role": Text(row.role, style="bold" if row.role != "user" else ""),
            "state": _state(row.is_active, locked),
            "active": Text("yes") if row.is_active else Text("no", style="yellow"),
            "locked": Text("yes", style="red") if locked else Text("no", style="dim"),
            "last_login": self._last_login(row.last_login_at, len(columns) == len(_WIDE)),
            "created": Text(absolute_date(row.created_at, self.zone)),
        }
        return [values[column.key] for column in columns]

    def _last_login(self, moment: dt.datetime | None, wide: bool) -> Text:
        if wide:
            return Text(absolute_time(moment, self.zone), style="dim" if moment is None else "")
        return Text(relative_time(moment, self.now), style="dim" if moment is None else "")


def _state(active: bool, locked: bool) -> Text:
    if locked:
        return Text("locked", style="red")
    return Text("active") if active else Text("inactive", style="yellow")
