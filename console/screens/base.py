"""What the console's own screens and dialogs share."""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from console.context import ConsoleContext
from console.notify import notify_error
from console.widgets.status_bar import StatusBar

ResultType = TypeVar("ResultType")


class ConsoleFooter(Footer):
    """Textual's Footer, rebuilt only when the keys it shows change.

    Footer rebuilds every key on each bindings signal: while the Users screen opens,
    focus and the screen stack change six times in a row, mostly without changing a
    key, and each rebuild restyled every key. The check waits for the next refresh,
    so a burst of signals costs one look at the bindings.
    """

    _check_queued = False
    _shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        keys = self._keys_to_show()
        composed_any = False
        for widget in super().compose():
            composed_any = True
            yield widget
        # Footer composes nothing until the screen first reports its bindings.
        self._shown = keys if composed_any else None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not self._check_queued:
            self._check_queued = True
            self.call_after_refresh(self._rebuild_if_changed, screen)

    def _rebuild_if_changed(self, screen: Screen[Any]) -> None:
        self._check_queued = False
        if self.is_attached and self._shown is not None and self._keys_to_show() == self._shown:
            return  # the keys on show are still the right ones
        super().bindings_changed(screen)

    def _keys_to_show(self) -> tuple[object, ...]:
        return tuple(
            (binding, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )


def context_of(screen: Screen[Any]) -> ConsoleContext:
    """The app's ConsoleContext (a RuntimeError when the app has none: a wiring bug)."""
    context = getattr(screen.app, "context", None)
    if not isinstance(context, ConsoleContext):
        raise RuntimeError("This screen needs an app with a ConsoleContext.")
    return context


class ConsoleScreen(Screen[None]):
    """A full screen: the status bar, the screen's own content, the footer.

    Workers run with `exit_on_error=False`; a failed one is reported here as a red
    notice (Worker.StateChanged does not bubble, so each screen listens for its own).
    """

    @property
    def context(self) -> ConsoleContext:
        return context_of(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield from self.compose_content()
        yield ConsoleFooter()

    def compose_content(self) -> ComposeResult:
        """The screen's own widgets, between the status bar and the footer."""
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
