"""The catalog's list: tag headings and one line per route, drawn with the Line API.

Only the lines on screen are drawn, each cut to the width: an OptionList wrapped and
measured every option on each change, ~100 ms per keystroke of the filter at 300
routes. The cursor skips headings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backend.services.routes_catalog import RouteInfo

METHOD_STYLES = {
    "GET": "bold green",
    "POST": "bold yellow",
    "PUT": "bold blue",
    "PATCH": "bold cyan",
    "DELETE": "bold red",
}
HEADING_STYLE = Style(bold=True, underline=True)
# The keys that move a Line API list's cursor (its actions: move, page, edge).
CURSOR_BINDINGS: list[BindingType] = [
    Binding("up", "move(-1)", "Up", show=False),
    Binding("down", "move(1)", "Down", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("home", "edge(-1)", "First", show=False),
    Binding("end", "edge(1)", "Last", show=False),
]


def route_line(route: RouteInfo) -> Text:
    """`GET    /api/users  List Users · admin, support` as one styled line."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{route.method:<7}", METHOD_STYLES.get(route.method, "bold"))
    line.append(route.path)
    if route.summary:
        line.append(f"  {route.summary}", "dim")
    line.append(f" · {', '.join(route.roles) if route.roles else 'public'}", "italic dim")
    return line


class RouteList(ScrollView, can_focus=True):
    """Posts Highlighted as the cursor moves onto a route and Picked on enter or click."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Pick", show=False),
        *CURSOR_BINDINGS,
    ]

    class Highlighted(Message):
        def __init__(self, route: RouteInfo) -> None:
            super().__init__()
            self.route = route

    class Picked(Message):
        def __init__(self, route: RouteInfo) -> None:
            super().__init__()
            self.route = route

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # A heading is a str, a route a RouteInfo with its line drawn once.
        self._rows: list[str | tuple[RouteInfo, Text]] = []
        self._lines: dict[RouteInfo, Text] = {}
        self.cursor: int | None = None
        self._base = Style()
        self._cursor_style = Style()
        # Lines drawn, by route (or heading) and whether the cursor is on it, for the
        # styles and width in _drawn_with.
        self._strips: dict[tuple[RouteInfo | str, bool], Strip] = {}
        self._drawn_with: tuple[Style, Style, int] | None = None

    def show(self, groups: Sequence[tuple[str, Sequence[RouteInfo]]]) -> None:
        """Replace the rows; the cursor goes to the first route."""
        rows: list[str | tuple[RouteInfo, Text]] = []
        for heading, routes in groups:
            rows.append(heading)
            for route in routes:
                line = self._lines.get(route)
                if line is None:
                    line = self._lines[route] = route_line(route)
                rows.append((route, line))
        self._rows = rows
        self._set_height(len(rows))
        # The form on the right stays as it is until the cursor is moved by hand: a
        # rebuilt form on every keystroke of the filter cost a full layout each time.
        self.cursor = self._next_route(0, 1)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    @property
    def routes_shown(self) -> int:
        return sum(1 for row in self._rows if not isinstance(row, str))

    @property
    def highlighted(self) -> RouteInfo | None:
        if self.cursor is None:
            return None
        row = self._rows[self.cursor]
        return None if isinstance(row, str) else row[0]

    def _next_route(self, start: int, step: int) -> int | None:
        index = start
        while 0 <= index < len(self._rows):
            if not isinstance(self._rows[index], str):
                return index
            index += step
        return None

    def _move_to(self, index: int | None, *, scroll: bool) -> None:
        if index is None or index == self.cursor:
            return
        self.cursor = index
        if scroll:
            self.scroll_to_region_of(index)
        self.refresh()
        route = self.highlighted
        if route is not None:
            self.post_message(self.Highlighted(route))

    def scroll_to_region_of(self, index: int) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=max(0, index - 1), animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def action_move(self, step: int) -> None:
        start = (self.cursor if self.cursor is not None else -step) + step
        self._move_to(self._next_route(start, step), scroll=True)

    def action_page(self, step: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        start = min(max((self.cursor or 0) + step * height, 0), len(self._rows) - 1)
        target = self._next_route(start, step)
        self._move_to(target if target is not None else self._next_route(start, -step), scroll=True)

    def action_edge(self, step: int) -> None:
        start = 0 if step < 0 else len(self._rows) - 1
        self._move_to(self._next_route(start, -step), scroll=True)

    def action_pick(self) -> None:
        route = self.highlighted
        if route is not None:
            self.post_message(self.Picked(route))

    async def _on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self._rows) and not isinstance(self._rows[index], str):
            self._move_to(index, scroll=False)
            self.action_pick()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once per frame rather than per line (each lookup walks the styles).
        base = self.rich_style
        cursor_style = self.get_component_rich_style("route-list--cursor")
        width = self.scrollable_content_region.width
        if (base, cursor_style, width) != self._drawn_with:
            self._drawn_with = (base, cursor_style, width)
            self._strips.clear()
        self._base, self._cursor_style = base, cursor_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self._base)
        row = self._rows[index]
        # A route's line is drawn once for as long as the width and styles hold: the
        # filter shows the same lines again and again, in other places.
        key = (row if isinstance(row, str) else row[0], index == self.cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._draw(row, width, cursor=key[1])
        return strip

    def _draw(self, row: str | tuple[RouteInfo, Text], width: int, *, cursor: bool) -> Strip:
        base = self._base + self._cursor_style if cursor else self._base
        if isinstance(row, str):
            segments = [Segment(row, base + HEADING_STYLE)]
        else:
            text = row[1].copy()
            text.truncate(max(1, width - 1), overflow="ellipsis")
            segments = [
                Segment(part.text, base + part.style if part.style else base)
                for part in text.render(self.app.console)
            ]
        return Strip(segments).extend_cell_length(width, base).crop(0, width)

    COMPONENT_CLASSES: ClassVar[set[str]] = {"route-list--cursor"}
    DEFAULT_CSS = """
    RouteList {
        overflow-x: hidden;
        overflow-y: scroll;
        padding-left: 1;
    }
    RouteList > .route-list--cursor {
        background: $block-cursor-blurred-background;
    }
    RouteList:focus > .route-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    def _set_height(self, rows: int) -> None:
        # Assigning virtual_size lays out the whole screen (~45 ms with a form beside the
        # list). The scrollbar is always shown (overflow-y: scroll), so a new height only
        # changes the scrollbar: textual 8.2.8's own update for that is _scroll_update.
        size = Size(self.size.width, rows)
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows))
