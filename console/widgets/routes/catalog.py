"""The catalog: every route of the target API, grouped by tag, filtered as you type."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from backend.services.routes_catalog import RouteInfo

METHOD_STYLES = {
    "GET": "bold green",
    "POST": "bold yellow",
    "PUT": "bold blue",
    "PATCH": "bold cyan",
    "DELETE": "bold red",
}


def route_line(route: RouteInfo) -> Text:
    """`GET    /api/users  List Users · admin, support` as one styled line."""
    line = Text()
    line.append(f"{route.method:<7}", METHOD_STYLES.get(route.method, "bold"))
    line.append(route.path)
    roles = ", ".join(route.roles) if route.roles else "public"
    line.append(f"  {route.summary}" if route.summary else "", "dim")
    line.append(f" · {roles}", "italic dim")
    return line


def grouped_options(routes: Sequence[RouteInfo], text: str) -> list[Option]:
    """Options for the routes matching `text`, under a heading per tag (headings disabled)."""
    groups: dict[str, list[int]] = {}
    for index, route in enumerate(routes):
        if route.matches(text):
            groups.setdefault(route.group, []).append(index)
    options: list[Option] = []
    for group in sorted(groups):
        options.append(Option(Text(group, style="bold underline"), disabled=True))
        options.extend(Option(route_line(routes[i]), id=str(i)) for i in groups[group])
    return options


class RouteCatalog(Vertical):
    """A filter field over the list; posts Chosen when a route is highlighted or picked."""

    class Chosen(Message):
        def __init__(self, route: RouteInfo, *, picked: bool) -> None:
            super().__init__()
            self.route = route
            self.picked = picked  # enter, rather than moving the cursor onto it

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.routes: tuple[RouteInfo, ...] = ()

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="/ filter: method, path or summary", compact=True, id="routes-filter"
        )
        yield OptionList(id="routes-list")

    def show(self, routes: Sequence[RouteInfo]) -> None:
        self.routes = tuple(routes)
        self._redraw()

    @property
    def shown_count(self) -> int:
        return sum(1 for o in self.query_one(OptionList).options if not o.disabled)

    @on(Input.Changed, "#routes-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self._redraw()

    @on(Input.Submitted, "#routes-filter")
    def _to_list(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    def _redraw(self) -> None:
        listing = self.query_one(OptionList)
        text = self.query_one("#routes-filter", Input).value
        listing.set_options(grouped_options(self.routes, text))
        first = next((i for i, o in enumerate(listing.options) if not o.disabled), None)
        listing.highlighted = first

    @on(OptionList.OptionHighlighted, "#routes-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(self.routes[int(event.option.id)], picked=False))

    @on(OptionList.OptionSelected, "#routes-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(self.routes[int(event.option.id)], picked=True))
