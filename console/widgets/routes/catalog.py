"""The catalog: every route of the target API, grouped by tag, filtered as you type."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from backend.services.routes_catalog import RouteInfo
from console.widgets.fixed_size_input import FixedSizeInput
from console.widgets.routes.route_list import RouteList


def grouped(routes: Sequence[RouteInfo], text: str) -> list[tuple[str, list[RouteInfo]]]:
    """The routes matching `text`, by tag (tags in order, routes as listed)."""
    groups: dict[str, list[RouteInfo]] = {}
    for route in routes:
        if route.matches(text):
            groups.setdefault(route.group, []).append(route)
    return sorted(groups.items())


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
        yield FixedSizeInput(
            placeholder="/ filter: method, path or summary", compact=True, id="routes-filter"
        )
        yield RouteList(id="routes-list")

    def show(self, routes: Sequence[RouteInfo]) -> None:
        self.routes = tuple(routes)
        self._redraw()

    @property
    def shown_count(self) -> int:
        return self.query_one(RouteList).routes_shown

    @on(Input.Changed, "#routes-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self._redraw()

    @on(Input.Submitted, "#routes-filter")
    def _to_list(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(RouteList).focus()

    def _redraw(self) -> None:
        text = self.query_one("#routes-filter", Input).value
        self.query_one(RouteList).show(grouped(self.routes, text))

    def on_route_list_highlighted(self, event: RouteList.Highlighted) -> None:
        event.stop()
        self.post_message(self.Chosen(event.route, picked=False))

    def on_route_list_picked(self, event: RouteList.Picked) -> None:
        event.stop()
        self.post_message(self.Chosen(event.route, picked=True))
