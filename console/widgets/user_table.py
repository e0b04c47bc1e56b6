"""The users table: a bounded window of rows that asks for the next page at its edges.

The table only ever holds one page; moving past its first or last row, or scrolling
past its end, asks the screen for the neighbouring page, which replaces the window.
It draws only the lines on screen, straight from the rows (Textual's Line API):
DataTable measured every new cell and rendered each one through Rich, about 100 ms
of CPU for every page turned, which the console felt as a stall while paging through
a million users. It keeps DataTable's look and keys (row cursor, zebra stripes, mouse hover).
Columns adapt to the width: narrow tables merge active/locked into one State column
and show last login as a relative time.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backend.services.user_search import UserRow
from console.widgets.formatting import absolute_date, absolute_time, relative_time

MARK = "●"
WIDE_TABLE = 110  # from this width on, every column gets its own cell
_CELL_PADDING = 1  # one space on either side of each cell
_PAD = " " * _CELL_PADDING
_HEADER_HEIGHT = 1
_HEADER = -1  # the header's row index, as in the mouse's style meta


class PageDirection(StrEnum):
    NEXT = "next"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    label: str
    width: int  # 0: shares the flexible width
    ellipsis: bool = False  # a long value ends in "…" rather than being cut short


_NARROW = (
    _Column("mark", " ", 1),
    _Column("email", "Email", 0, ellipsis=True),
    _Column("name", "Name", 0, ellipsis=True),
    _Column("role", "Role", 7),
    _Column("state", "State", 8),
    _Column("last_login", "Last login", 10),
)
_WIDE = (
    _Column("mark", " ", 1),
    _Column("email", "Email", 0, ellipsis=True),
    _Column("name", "Name", 0, ellipsis=True),
    _Column("role", "Role", 7),
    _Column("active", "Active", 6),
    _Column("locked", "Locked", 6),
    _Column("last_login", "Last login", 16),
    _Column("created", "Created", 10),
)


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: tuple[_Column, ...]
    widths: tuple[int, ...]  # of each column's text, padding excluded

    @property
    def wide(self) -> bool:
        return len(self.columns) == len(_WIDE)

    @property
    def width(self) -> int:
        return sum(self.widths) + 2 * _CELL_PADDING * len(self.widths)


class _Cell(NamedTuple):
    text: str
    style: Style
    fill: str = ""  # the spaces after the text, to its column's width (see _fit)


_PLAIN = Style.null()
_BOLD = Style(bold=True)
_DIM = Style(dim=True)
_RED = Style(color="red")
_YELLOW = Style(color="yellow")


@dataclass(frozen=True, slots=True)
class _Palette:
    """The widget's and its component classes' styles, resolved once for each render."""

    base: Style
    header: Style
    even_row: Style
    odd_row: Style
    cursor: Style
    hover: Style
    header_hover: Style

    def highlight(self, *, header: bool, cursor: bool, hover: bool) -> Style:
        style = Style()
        if hover:
            style += self.hover
            if header:
                style += self.header_hover
        if cursor:
            style += self.cursor
        return style


@functools.cache
def _cell_meta(row: int, column: int) -> Style:
    # The mouse events carry this: it tells which row was clicked or hovered.
    return Style.from_meta({"row": row, "column": column})


@functools.cache
def _edge_meta(row: int) -> Style:
    return Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})


class UserTable(ScrollView, can_focus=True):
    """One page of users; the screen owns the data and hands rows in."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "user-table--header",
        "user-table--even-row",
        "user-table--odd-row",
        "user-table--cursor",
        "user-table--hover",
        "user-table--header-hover",
    }  # styled in app.tcss

    class PageRequested(Message):
        """The cursor or the wheel went past an edge of the window."""

        def __init__(self, direction: PageDirection) -> None:
            super().__init__()
            self.direction = direction

    class RowHighlighted(Message):
        """The cursor moved to another row (keys, mouse or `move_cursor`)."""

        def __init__(self, row_index: int) -> None:
            super().__init__()
            self.row_index = row_index

    class RowSelected(Message):
        """Enter, or a click on the row under the cursor."""

        def __init__(self, row_index: int) -> None:
            super().__init__()
            self.row_index = row_index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[UserRow] = []
        self._marked: set[int] = set()
        self._layout = self._layout_for(80)
        self._header: list[_Cell] = []  # the column labels, fitted to the layout
        self._lines: list[list[_Cell]] = []  # the cells of each row, fitted to the layout
        self._cursor = 0
        self._hover_row = 0
        self._hover_shown = False  # after the mouse moved; a key hides it again
        self._palette: _Palette | None = None
        self.now: dt.datetime = dt.datetime.now(dt.UTC)
        self.zone: dt.tzinfo | None = None

    # --- what the screen calls ---------------------------------------------------

    def show_rows(
        self, rows: list[UserRow], marked: set[int], *, cursor_at: int | None = None
    ) -> None:
        """Replace the window; put the cursor on row index `cursor_at` (default: first)."""
        self._rows = rows
        self._marked = marked
        self._cursor = 0 if cursor_at is None else max(0, min(cursor_at, len(rows) - 1))
        self._hover_row = 0
        self._lay_out(self._layout_for(self.size.width or 80))
        self.scroll_to(0, 0, animate=False)  # a new window starts at its top
        self._scroll_cursor_into_view()

    def set_marked(self, user_id: int, marked: bool) -> None:
        """Show or hide the mark on the row of `user_id` (when it is in the window)."""
        if marked:
            self._marked.add(user_id)
        else:
            self._marked.discard(user_id)
        for index, row in enumerate(self._rows):
            if row.id == user_id:
                self._lines[index][0] = _fit(_mark(marked), self._layout.widths[0], False)
                self._refresh_row(index)

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row index `row` (kept within the window)."""
        target = max(0, min(row, len(self._rows) - 1))
        if target != self._cursor:
            self._refresh_row(self._cursor)
            self._cursor = target
            self._refresh_row(target)
            self.post_message(self.RowHighlighted(target))
        if scroll:
            self._scroll_cursor_into_view(animate=animate)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def selected(self) -> UserRow | None:
        """The row under the cursor."""
        return self._rows[self._cursor] if self._rows else None

    @property
    def column_labels(self) -> list[str]:
        return [column.label for column in self._layout.columns]

    # --- keys --------------------------------------------------------------------

    def action_select_cursor(self) -> None:
        self._show_hover(False)
        if self._rows:
            self.post_message(self.RowSelected(self._cursor))

    def action_cursor_down(self) -> None:
        self._show_hover(False)
        if self._at_last_row():
            self.post_message(self.PageRequested(PageDirection.NEXT))
            return
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._show_hover(False)
        if self._cursor <= 0:
            self.post_message(self.PageRequested(PageDirection.PREVIOUS))
            return
        self.move_cursor(row=self._cursor - 1)

    def action_page_down(self) -> None:
        self._show_hover(False)
        if self._at_last_row():
            self.post_message(self.PageRequested(PageDirection.NEXT))
            return
        height = self._rows_in_view()
        self.scroll_relative(y=height, animate=False, force=True)
        self.move_cursor(row=self._cursor + height, scroll=False)

    def action_page_up(self) -> None:
        self._show_hover(False)
        if self._cursor <= 0:
            self.post_message(self.PageRequested(PageDirection.PREVIOUS))
            return
        height = self._rows_in_view()
        self.scroll_relative(y=-height, animate=False)
        self.move_cursor(row=self._cursor - height, scroll=False)

    def action_scroll_top(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=len(self._rows) - 1)

    def action_cursor_left(self) -> None:
        self._show_hover(False)
        super().action_scroll_left()

    def action_cursor_right(self) -> None:
        self._show_hover(False)
        super().action_scroll_right()

    def action_scroll_home(self) -> None:
        self._show_hover(False)
        self.scroll_x = 0

    def action_scroll_end(self) -> None:
        self._show_hover(False)
        self.scroll_x = self.max_scroll_x

    def _at_last_row(self) -> bool:
        return self._cursor >= len(self._rows) - 1

    def _rows_in_view(self) -> int:
        return max(self.scrollable_content_region.height - _HEADER_HEIGHT, 0)

    # --- mouse -------------------------------------------------------------------

    async def _on_click(self, event: events.Click) -> None:
        self._show_hover(True)
        row = event.style.meta.get("row")
        if row is None or row == _HEADER:
            return
        on_the_cursor = row == self._cursor
        self.move_cursor(row=row, animate=True)
        if on_the_cursor:
            self.post_message(self.RowSelected(row))
        event.stop()

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        row = event.style.meta.get("row")
        if row is None:
            self._show_hover(False)
            return
        if row != self._hover_row:
            self._refresh_row(self._hover_row)
            self._hover_row = row
        self._show_hover(True)

    def _on_leave(self, event: events.Leave) -> None:
        self._show_hover(False)

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

    def _show_hover(self, shown: bool) -> None:
        if shown != self._hover_shown:
            self._hover_shown = shown
            self._refresh_row(self._hover_row)

    # --- layout ------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        layout = self._layout_for(event.size.width)
        if layout != self._layout:
            self._lay_out(layout)
            self._scroll_cursor_into_view()

    def _layout_for(self, width: int) -> _Layout:
        columns = _WIDE if width >= WIDE_TABLE else _NARROW
        padding = 2 * _CELL_PADDING * len(columns)
        flexible = max(width - sum(column.width for column in columns) - padding - 2, 24)
        email = max(flexible * 3 // 5, 14)  # 2 above: room for the vertical scrollbar
        shares = {"email": email, "name": max(flexible - email, 8)}
        return _Layout(columns, tuple(column.width or shares[column.key] for column in columns))

    def _lay_out(self, layout: _Layout) -> None:
        self._layout = layout
        self._header = self._fitted([_Cell(column.label, _PLAIN) for column in layout.columns])
        self._lines = [self._cells(row) for row in self._rows]
        self.virtual_size = Size(layout.width, _HEADER_HEIGHT + len(self._rows))
        self.refresh()

    def _scroll_cursor_into_view(self, *, animate: bool = False) -> None:
        region = Region(
            int(self.scroll_x), _HEADER_HEIGHT + self._cursor, self.virtual_size.width, 1
        )
        spacing = Spacing(_HEADER_HEIGHT, 0, 0, 0)  # the header stays on top
        self.scroll_to_region(region, animate=animate, spacing=spacing, force=True)

    def _refresh_row(self, index: int) -> None:
        y = 0 if index == _HEADER else _HEADER_HEIGHT + index - self.scroll_offset.y
        self.refresh(Region(0, y, self.size.width, 1))

    # --- cells -------------------------------------------------------------------

    def _cells(self, row: UserRow) -> list[_Cell]:
        locked = row.locked_until is not None and row.locked_until > self.now
        values = {
            "mark": _mark(row.id in self._marked),
            "email": _Cell(row.email, _PLAIN),
            "name": _Cell(row.full_name, _PLAIN),
            "role": _Cell(row.role, _BOLD if row.role != "user" else _PLAIN),
            "state": _state(row.is_active, locked),
            "active": _Cell("yes", _PLAIN) if row.is_active else _Cell("no", _YELLOW),
            "locked": _Cell("yes", _RED) if locked else _Cell("no", _DIM),
            "last_login": self._last_login(row.last_login_at),
            "created": _Cell(absolute_date(row.created_at, self.zone), _PLAIN),
        }
        return self._fitted([values[column.key] for column in self._layout.columns])

    def _fitted(self, cells: list[_Cell]) -> list[_Cell]:
        layout = self._layout
        return [
            _fit(cell, width, column.ellipsis)
            for cell, column, width in zip(cells, layout.columns, layout.widths, strict=True)
        ]

    def _last_login(self, moment: dt.datetime | None) -> _Cell:
        style = _DIM if moment is None else _PLAIN
        if self._layout.wide:
            return _Cell(absolute_time(moment, self.zone), style)
        return _Cell(relative_time(moment, self.now), style)

    # --- drawing -----------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._palette = None  # resolved again: :focus or the theme may have changed
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._palette is None:
            self._palette = self._resolve_palette()
        palette = self._palette
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        index = _HEADER if y < _HEADER_HEIGHT else y - _HEADER_HEIGHT + scroll_y
        if index >= len(self._rows):
            return Strip.blank(width, palette.base)
        rest = max(width - self._layout.width, 0)
        strip = Strip(self._draw_row(index, palette, rest), self._layout.width + rest)
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, palette.base)

    def _resolve_palette(self) -> _Palette:
        component = self.get_component_rich_style
        return _Palette(
            base=self.rich_style,
            header=self.get_component_styles("user-table--header").rich_style,
            even_row=self.get_component_styles("user-table--even-row").rich_style,
            odd_row=self.get_component_styles("user-table--odd-row").rich_style,
            cursor=component("user-table--cursor"),
            hover=component("user-table--hover"),
            header_hover=component("user-table--header-hover"),
        )

    def _draw_row(self, index: int, palette: _Palette, rest: int) -> list[Segment]:
        """Row `index` (or the header) as padded cells, then `rest` spaces in its style.

        Built straight as Textual's simplified strips are: one segment per run of one
        style, so a cell whose text has the row's style is a single segment.
        """
        header = index == _HEADER
        if header:
            row_style, cells = palette.header, self._header
        else:
            row_style = palette.odd_row if index % 2 else palette.even_row
            cells = self._lines[index]
        highlight = palette.highlight(
            header=header,
            cursor=index == self._cursor,
            hover=self._hover_shown and index == self._hover_row,
        )
        row_style += highlight
        # The cursor's colour wins over a cell's own (red, yellow) so it stays legible.
        over_text = Style.from_color(color=highlight.color)
        around_text = row_style + over_text
        segments: list[Segment] = []
        for column, cell in enumerate(cells):
            meta = _cell_meta(index, column)
            around = around_text + meta
            text_style = row_style + cell.style + over_text + meta
            if text_style == around:
                segments.append(Segment(f"{_PAD}{cell.text}{cell.fill}{_PAD}", around))
            else:
                segments += (
                    Segment(_PAD, around),
                    Segment(cell.text, text_style),
                    Segment(cell.fill + _PAD, around),
                )
        segments.append(Segment(" " * rest, row_style + _edge_meta(index)))
        return segments


def _fit(cell: _Cell, width: int, ellipsis: bool) -> _Cell:
    """`cell` cut to `width` (ending in "…" with `ellipsis`), or filled up to it."""
    length = cell_len(cell.text)
    if length <= width:
        return cell._replace(fill=" " * (width - length))
    if ellipsis:
        return cell._replace(text=set_cell_size(cell.text, width - 1) + "…")
    return cell._replace(text=set_cell_size(cell.text, width))


def _mark(marked: bool) -> _Cell:
    return _Cell(MARK if marked else " ", _BOLD)


def _state(active: bool, locked: bool) -> _Cell:
    if locked:
        return _Cell("locked", _RED)
    return _Cell("active", _PLAIN) if active else _Cell("inactive", _YELLOW)
