"""Failed workers of the token panes, reported like every console worker."""

from __future__ import annotations

from textual.widget import Widget
from textual.worker import Worker, WorkerState

from console.notify import notify_error


class ReportsWorkerErrors(Widget):
    """A widget whose failed workers show as red notices.

    Worker.StateChanged does not bubble, so a widget that runs workers reports their
    errors itself: a domain error's sentence, or what the notify helper makes of others.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_error(self, event.worker.error)
