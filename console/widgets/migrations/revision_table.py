"""The revision graph as a list, newest first, with a mark per revision.

◉ current (in the version table), ● applied, ○ pending, ? unknown (the database records
it, these scripts do not). Branch and merge points and labels are named beside it.
It draws only the lines on screen, straight from the rows (Textual's Line API), as
the Users table does: DataTable measured and rendered every cell of 200 revisions
through Rich, the larger part of the screen's opening time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backend.services.migrations import MigrationState
from backend.services.migrations.graph import Mark, RevisionNode

GLYPHS = {
    Mark.CURRENT: ("◉", "bold green"),
    Mark.APPLIED: ("●", "green"),
    Mark.PENDING: ("○", "yellow"),
}
UNKNOWN = ("?", "bold red")
MARKS_WIDTH = 24


def node_tags(node: RevisionNode) -> str:
    """E.g. "current · head · merge"."""
    tags = [node.mark.value]
    if node.is_head:
        tags.append("head")
    if node.is_branch_point:
        tags.append("branch point")
    if node.is_merge_point:
        tags.append("merge")
    tags += [f"@{label}" for label in node.branch_labels]
    return " · ".join(tags)


@dataclass(frozen=True, slots=True)
class _Row:
    revision: str
    glyph: tuple[str, str]  # (character, style)
    marks: str
    message: str
    unknown: bool = False

    def cells(self) -> tuple[str, str, str, str]:
        return (self.glyph[0], self.revision, self.marks, self.message)


@functools.lru_cache(maxsize=64)
def _style(definition: str) -> Style:
    return Style.parse(definition)


class RevisionTable(ScrollView, can_focus=True):
    """One line per revision, a row cursor; `Highlighted` tells which revision it is on."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"revision-table--cursor"}
    DEFAULT_CSS = """
    RevisionTable {
        background: $surface;
    }
    RevisionTable > .revision-table--cursor {
        background: $block-cursor-blurred-background;
    }
    RevisionTable:focus > .revision-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    class Highlighted(Message):
        def __init__(self, revision: str) -> None:
            super().__init__()
            self.revision = revision

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[_Row] = []
        self._cursor = 0
        self._id_width = 8

    def show(self, state: MigrationState, selected: str | None) -> None:
        """Fill the list from `state`, keeping `selected` under the cursor."""
        rows = [
            _Row(unknown, UNKNOWN, "unknown: not in these migrations", "", True)
            for unknown in state.unknown
        ]
        rows += [
            _Row(node.revision, GLYPHS[node.mark], node_tags(node), node.message)
            for node in state.nodes
        ]
        self._rows = rows
        self._id_width = max((len(row.revision) for row in rows), default=8)
        self.virtual_size = Size(self.size.width, len(rows))
        keys = [row.revision for row in rows]
        self.move_cursor(row=keys.index(selected) if selected in keys else 0, announce=True)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def selected_revision(self) -> str | None:
        return self._rows[self._cursor].revision if self._rows else None

    def row_cells(self, index: int) -> tuple[str, str, str, str]:
        """The row's glyph, revision, marks and message, as shown."""
        return self._rows[index].cells()

    def move_cursor(self, *, row: int, announce: bool = False) -> None:
        """Put the cursor on `row`; `Highlighted` follows a move (or any time, `announce`)."""
        if not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        moved = row != self._cursor
        self._cursor = row
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)
        self.refresh()
        if moved or announce:
            self.post_message(self.Highlighted(self._rows[row].revision))

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    async def _on_click(self, event: events.Click) -> None:
        self.move_cursor(row=self.scroll_offset.y + event.y)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        cursor = index == self._cursor
        style = base + self.get_component_rich_style("revision-table--cursor") if cursor else base
        text_style = style + _style("red") if row.unknown else style
        message_width = max(0, width - self._id_width - MARKS_WIDTH - 6)
        segments = [
            Segment(" ", style),
            Segment(row.glyph[0], style + _style(row.glyph[1])),
            Segment(" ", style),
            Segment(row.revision.ljust(self._id_width), text_style),
            Segment("  ", style),
            Segment(_fit(row.marks, MARKS_WIDTH), text_style),
            Segment(" ", style),
            Segment(_fit(row.message, message_width), style),
        ]
        return Strip(segments).adjust_cell_length(width, style)


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text.ljust(width)
    return text[: max(0, width - 1)] + "…" if width else ""
