"""The answer's body: JSON highlighted with folds, or plain text; searchable, selectable.

Drawn with the Line API: only the lines on screen are drawn, so an answer's first
frame costs the same for 10 lines as for 10,000. A large JSON document starts folded
(see json_lines); enter or a click on the ▸ opens a container, ← closes the one the
cursor is in. A search opens whatever hides its match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from console.widgets.routes.json_lines import INDENT, FoldedJson, Kind, folded_summary
from console.widgets.routes.route_list import CURSOR_BINDINGS

Part = tuple[str, Style]
OPEN_MARKER, FOLDED_MARKER, NO_MARKER = "▾ ", "▸ ", "  "


def find_in_lines(
    texts: Sequence[str], needle: str, line: int, column: int
) -> tuple[int, int] | None:
    """The next (line, column) of `needle` (any case) from (line, column), wrapping round."""
    wanted = needle.lower()
    count = len(texts)
    if not wanted or not count:
        return None
    for step in range(count + 1):
        index = (line + step) % count
        start = column if step == 0 else 0
        found = texts[index].lower().find(wanted, start)
        if found >= 0 and (step < count or found < column):
            return index, found
    return None


def overlay(parts: list[Part], start: int, end: int, style: Style) -> list[Part]:
    """`parts` with `style` laid over the characters from `start` to `end`."""
    result: list[Part] = []
    position = 0
    for text, base in parts:
        stop = position + len(text)
        cut_start, cut_end = max(start, position), min(end, stop)
        if cut_start >= cut_end:
            result.append((text, base))
        else:
            before, inside, after = (
                text[: cut_start - position],
                text[cut_start - position : cut_end - position],
                text[cut_end - position :],
            )
            result += [(p, s) for p, s in ((before, base), (inside, base + style)) if p]
            if after:
                result.append((after, base))
        position = stop
    return result


class BodyView(ScrollView, can_focus=True):
    """Shows one body; posts FoldsChanged when containers are opened or closed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_fold", "Fold/unfold", show=False),
        Binding("left", "fold", "Fold", show=False),
        Binding("right", "unfold", "Unfold", show=False),
        *CURSOR_BINDINGS,
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "body-view--key",
        "body-view--string",
        "body-view--number",
        "body-view--literal",
        "body-view--gutter",
        "body-view--summary",
        "body-view--cursor",
        "body-view--match",
    }
    DEFAULT_CSS = """
    BodyView {
        overflow-x: auto;
        overflow-y: scroll;
    }
    BodyView > .body-view--key { color: #569cd6; text-style: bold; }
    BodyView > .body-view--string { color: #ce9178; }
    BodyView > .body-view--number { color: #b5cea8; }
    BodyView > .body-view--literal { color: #7DAF9C; }
    BodyView > .body-view--gutter { color: $text-disabled; }
    BodyView > .body-view--summary { color: $text-muted; text-style: italic; }
    BodyView > .body-view--cursor { background: $block-cursor-blurred-background; }
    BodyView > .body-view--match { background: $accent; color: $text; }
    """

    class FoldsChanged(Message):
        """Containers were opened or closed; `folds` is how many are closed now."""

        def __init__(self, folds: int) -> None:
            super().__init__()
            self.folds = folds

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts: list[str] = []
        self._doc: FoldedJson | None = None
        self._cursor = 0  # a line (not a row: it stays put as folds change)
        self._match: tuple[int, int, int] | None = None  # line, start, end
        self._gutter = 0
        self._widest = 0  # the widest line's cells
        self.frames = 0  # how many frames have drawn this view
        self._styles: dict[str, Style] = {}

    # --- what is shown ----------------------------------------------------------------

    def show_json(self, doc: FoldedJson) -> None:
        """Show a JSON document (a large one folded: see FoldedJson)."""
        self._doc = doc
        self._load(doc.texts, doc.widest)

    def show_text(self, text: str) -> None:
        self._doc = None
        texts = text.split("\n") if text else []
        self._load(texts, max(map(cell_len, texts), default=0))

    def _load(self, texts: list[str], widest: int) -> None:
        self._texts = texts
        self._widest = widest
        self._cursor = 0
        self._match = None
        digits = len(str(len(texts))) if texts else 1
        self._gutter = digits + 1 + (len(NO_MARKER) if self._doc is not None else 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._resized()

    @property
    def text(self) -> str:
        """The whole body, unfolded."""
        return "\n".join(self._texts)

    @property
    def shown_text(self) -> str:
        """The body as shown: folded containers on one line each."""
        return "\n".join(self._row_text(row) for row in range(self._row_count))

    @property
    def folds(self) -> int:
        return len(self._doc.folded) if self._doc is not None else 0

    @property
    def match_text(self) -> str:
        """The text of the last search's match ("" when none)."""
        if self._match is None:
            return ""
        line, start, end = self._match
        return self._texts[line][start:end]

    @property
    def _row_count(self) -> int:
        return len(self._doc.rows) if self._doc is not None else len(self._texts)

    def _line_of(self, row: int) -> int:
        return self._doc.rows[row] if self._doc is not None else row

    def _row_of(self, line: int) -> int:
        if self._doc is None:
            return line
        row = self._doc.row_of(line)
        return row if row is not None else 0

    def _row_text(self, row: int) -> str:
        return self._doc.shown_text(row) if self._doc is not None else self._texts[row]

    def _widest_row(self) -> int:
        """The widest row's cells: the widest line, or a folded row with its summary."""
        doc = self._doc
        if doc is None or not doc.folded:
            return self._widest
        folded = (
            cell_len(doc.shown_text(row)) + 2 + cell_len(folded_summary(doc.lines[index]))
            for row, index in enumerate(doc.rows)
            if index in doc.folded
        )
        return max(self._widest, max(folded, default=0))

    def _resized(self) -> None:
        widest = self._widest_row()
        size = Size(self._gutter + widest + 1, self._row_count)
        if size == self.virtual_size:
            self.refresh()
            return
        # Assigned quietly: the virtual_size reactive lays out the whole screen, and only
        # the scrollbars depend on it (they lay out themselves should one appear).
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    # --- folding ----------------------------------------------------------------------

    def _set_fold(self, line: int, folded: bool) -> None:
        doc = self._doc
        if doc is None or (line in doc.folded) == folded:
            return
        doc.set_folded(line, folded)
        self._after_folds_changed(line)

    def _after_folds_changed(self, cursor_line: int) -> None:
        self._cursor = cursor_line
        self._resized()
        self._scroll_to_cursor(center=False)
        self.post_message(self.FoldsChanged(self.folds))

    def unfold_all(self) -> None:
        """Open every container."""
        if self._doc is not None and self._doc.folded:
            self._doc.unfold_all()
            self._after_folds_changed(self._cursor)

    def action_toggle_fold(self) -> None:
        doc = self._doc
        container = doc.container_at(self._cursor) if doc is not None and self._texts else None
        if doc is not None and container is not None:
            self._set_fold(container, container not in doc.folded)

    def action_fold(self) -> None:
        doc = self._doc
        if doc is None or not self._texts:
            return
        line = self._cursor
        opens = doc.lines[line].kind is Kind.OPEN and line not in doc.folded
        container = line if opens else doc.lines[line].parent
        if container >= 0:
            self._set_fold(container, True)

    def action_unfold(self) -> None:
        if self._doc is not None and self._texts:
            self._set_fold(self._cursor, False)

    # --- the cursor -------------------------------------------------------------------

    def _move_to_row(self, row: int) -> None:
        if not self._row_count:
            return
        row = min(max(row, 0), self._row_count - 1)
        self._cursor = self._line_of(row)
        self._scroll_to_cursor(center=False)
        self.refresh()

    def action_move(self, step: int) -> None:
        self._move_to_row(self._row_of(self._cursor) + step)

    def action_page(self, step: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self._move_to_row(self._row_of(self._cursor) + step * height)

    def action_edge(self, step: int) -> None:
        self._move_to_row(0 if step < 0 else self._row_count - 1)

    def _scroll_to_cursor(self, *, center: bool) -> None:
        row = self._row_of(self._cursor)
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if center:
            self.scroll_to(y=max(0, row - height // 2), animate=False, immediate=True)
        elif row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    async def _on_click(self, event: events.Click) -> None:
        row = event.y + self.scroll_offset.y
        if not 0 <= row < self._row_count:
            return
        self._move_to_row(row)
        if event.x < self._gutter:  # on the line number or the fold marker
            self.action_toggle_fold()

    # --- search -----------------------------------------------------------------------

    def find(self, needle: str) -> bool:
        """Select the next match of `needle` (any case), opening the folds that hide it."""
        line, column = self._cursor, 0
        if self._match is not None:
            line, column = self._match[0], self._match[1] + 1
        found = find_in_lines(self._texts, needle, line, column)
        if found is None:
            return False
        line, start = found
        self._match = (line, start, start + len(needle))
        if self._doc is not None and self._doc.row_of(line) is None:
            self._doc.reveal(line)
            self._after_folds_changed(line)
        self._cursor = line
        self._scroll_to_cursor(center=True)
        content_width = self.scrollable_content_region.width - self._gutter
        left = self.scroll_offset.x
        if not left <= start < left + content_width - len(needle):
            self.scroll_to(x=max(0, start - 4), animate=False, immediate=True)
        self.refresh()
        return True

    # --- selection (the screen's own: drag to select, then copy) -----------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        rows = "\n".join(self._row_text(row) for row in range(self._row_count))
        return selection.extract(rows), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # --- drawing ----------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self.frames += 1
        if not self._styles:
            self._styles = self._look_up_styles()
        return super().render_lines(crop)

    def _look_up_styles(self) -> dict[str, Style]:
        # Once until the styles change (each lookup walks the CSS), not once a frame.
        get = self.get_component_rich_style
        styles = {
            name: get(f"body-view--{name}")
            for name in ("key", "string", "number", "literal", "gutter", "summary", "match")
        }
        styles["cursor"] = get("body-view--cursor", partial=True)  # its background only
        styles["selection"] = self.screen.get_component_rich_style("screen--selection")
        styles["base"] = self.rich_style
        return styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self._styles.get("base", Style())
        if not 0 <= row < self._row_count:
            return Strip.blank(width, base)
        line = self._line_of(row)
        parts = self._parts(line, base)
        fill = base
        if line == self._cursor and self.has_focus:
            fill = base + self._styles["cursor"]
            parts = [(text, style + self._styles["cursor"]) for text, style in parts]
        if self._match is not None and self._match[0] == line:
            parts = overlay(parts, self._match[1], self._match[2], self._styles["match"])
        selection = self.text_selection
        span = selection.get_span(row) if selection is not None else None
        if span is not None:
            end = span[1] if span[1] >= 0 else len(self._row_text(row))
            parts = overlay(parts, span[0], end, self._styles["selection"])
        gutter = Strip([Segment(self._gutter_text(line), base + self._styles["gutter"])])
        scroll_x = self.scroll_offset.x
        content = (
            Strip([Segment(text, style) for text, style in parts])
            .crop_extend(scroll_x, scroll_x + max(0, width - self._gutter), fill)
            .apply_offsets(scroll_x, row)
        )
        return Strip.join([gutter, content])

    def _gutter_text(self, line: int) -> str:
        number = str(line + 1).rjust(self._gutter - 1 - (2 if self._doc is not None else 0))
        if self._doc is None:
            return number + " "
        kind = self._doc.lines[line].kind
        marker = NO_MARKER
        if kind is Kind.OPEN:
            marker = FOLDED_MARKER if line in self._doc.folded else OPEN_MARKER
        return f"{number} {marker}"

    def _parts(self, line: int, base: Style) -> list[Part]:
        if self._doc is None:
            return [(self._texts[line], base)]
        json_line = self._doc.lines[line]
        text = json_line.text
        styles = self._styles
        indent = len(INDENT) * json_line.depth
        parts: list[Part] = [(text[:indent], base)]
        if json_line.has_key:
            parts.append((text[indent : json_line.key_end], base + styles["key"]))
            parts.append((text[json_line.key_end : json_line.value_start], base))
        value_style = base + styles.get(json_line.kind.value, Style())
        if line in self._doc.folded:
            closing = self._doc.lines[json_line.end].text.lstrip()
            parts.append((text[json_line.value_start :] + "…" + closing, base))
            parts.append((f"  {folded_summary(json_line)}", base + styles["summary"]))
        else:
            parts.append((text[json_line.value_start : json_line.value_end], value_style))
            parts.append((text[json_line.value_end :], base))
        return [part for part in parts if part[0]]

    def on_resize(self, event: events.Resize) -> None:
        self._resized()
