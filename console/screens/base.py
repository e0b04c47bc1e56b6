"""What the console's own screens and dialogs share."""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from console.context import ConsoleContext
from console.notify import notify_error
from console.widgets.database_banner import DatabaseBanner
from console.widgets.key_bar import KeyBar
from console.widgets.status_bar import StatusBar

ResultType = TypeVar("ResultType")


def context_of(screen: Screen[Any]) -> ConsoleContext:
    """The app's ConsoleContext (a RuntimeError when the app has none: a wiring bug)."""
    context = getattr(screen.app, "context", None)
    if not isinstance(context, ConsoleContext):
        raise RuntimeError("This screen needs an app with a ConsoleContext.")
    return context


class ConsoleScreen(Screen[None]):
    """A full screen: the status bar, the screen's own content, the key bar.

    Workers run with `exit_on_error=False`; a failed one is reported here as a red
    notice (Worker.StateChanged does not bubble, so each screen listens for its own).
    """

    @property
    def context(self) -> ConsoleContext:
        return context_of(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield DatabaseBanner()
        yield from self.compose_content()
        yield KeyBar()

    def compose_content(self) -> ComposeResult:
        """The screen's own widgets, between the status bar and the key bar."""
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_error(self, event.worker.error)


class ConsoleDialog(ModalScreen[ResultType]):
    """A modal dialog returning `ResultType`; esc closes it with None."""

    BINDINGS = [("escape", "cancel", "Close")]

    @property
    def context(self) -> ConsoleContext:
        return context_of(self)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_error(self, event.worker.error)
