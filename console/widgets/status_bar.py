"""The line at the top of every screen: API, database, schema, read-only."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from console.widgets.formatting import truncate_middle


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """What the status bar shows; the app replaces it as the backend starts."""

    database: str  # the URL with its password masked
    api: str = "API starting…"
    api_ok: bool | None = None  # None while unknown
    schema: str = "schema: checking…"
    schema_ok: bool | None = None
    read_only: bool = False


class StatusBar(Horizontal):
    """One line docked at the top; follows the app's `backend_status`."""

    status: reactive[BackendStatus | None] = reactive(None, init=False)

    def compose(self) -> ComposeResult:
        yield Label("backend-console", id="status-title")
        yield Label(id="status-api")
        yield Label(id="status-database")
        yield Label(id="status-schema")
        yield Label("READ-ONLY", id="status-read-only")

    def on_mount(self) -> None:
        self._database = ""
        # Follow the app's reactive: every screen's bar stays current.
        self.watch(self.app, "backend_status", self._show, init=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_database)

    def _show(self, status: BackendStatus | None) -> None:
        if status is None:
            return
        self._set("#status-api", status.api, status.api_ok)
        self._set("#status-schema", status.schema, status.schema_ok)
        self.query_one("#status-read-only").display = status.read_only
        self._database = f"DB {status.database}"
        # The other labels may have changed width: measure once the layout settles.
        self.call_after_refresh(self._fit_database)

    def _fit_database(self) -> None:
        # The end of a URL names the database: cut the middle, not the end.
        label = self.query_one("#status-database", Label)
        room = label.content_size.width or len(self._database)
        label.update(truncate_middle(self._database, room))

    def _set(self, selector: str, text: str, ok: bool | None) -> None:
        label = self.query_one(selector, Label)
        label.update(text)
        label.set_class(ok is True, "-ok")
        label.set_class(ok is False, "-bad")
