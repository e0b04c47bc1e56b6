"""The live request log: the newest requests, filtered by status class and path.

It reads the embedded server's ring (backend.middleware.request_log) once a second:
an in-memory read of a few dozen entries, no I/O, so it runs on the timer itself.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, Sparkline, Static

from backend.middleware.request_log import RequestEntry, RequestLog

STATUS_CLASSES = ("all", "2xx", "3xx", "4xx", "5xx")
SCAN_LIMIT = 2000  # entries looked at per refresh: enough for a filter to find a page
SPARK_SECONDS = 60
_STATUS_STYLES = {2: "green", 3: "cyan", 4: "yellow", 5: "bold red"}


def matches(entry: RequestEntry, status_class: str, path_part: str) -> bool:
    if status_class != "all" and entry.status // 100 != int(status_class[0]):
        return False
    return not path_part or path_part in entry.path


def entry_line(entry: RequestEntry, zone: dt.tzinfo | None) -> Text:
    moment = dt.datetime.fromtimestamp(entry.at, zone).strftime("%H:%M:%S")
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{moment} {entry.method:<6} ")
    line.append(f"{entry.status}", style=_STATUS_STYLES.get(entry.status // 100, ""))
    line.append(f" {entry.duration_ms:>7.1f} ms  {entry.client:<21} {entry.request_id[:12]:<12} ")
    line.append(entry.target)
    return line


class RequestLogView(Vertical):
    """Filters, two sparklines (requests per second, p95 latency) and the newest requests."""

    status_class: reactive[str] = reactive("all")
    paused: reactive[bool] = reactive(False)

    def __init__(self, *, zone: dt.tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.request_log: RequestLog | None = None
        self._lines = 8
        self._drawn_at: tuple[int, int] | None = None  # (requests recorded, lines) last drawn

    def compose(self) -> ComposeResult:
        with Horizontal(classes="request-filters"):
            yield Label("status: all", id="requests-status")
            yield Input(placeholder="path contains…", id="requests-path", compact=True)
            yield Label("", id="requests-paused")
        with Horizontal(classes="request-sparks"):
            yield Label("rps", classes="spark-label")
            yield Sparkline([0.0, 0.0], id="requests-rps-spark", summary_function=max)
            yield Label("p95", classes="spark-label")
            yield Sparkline([0.0, 0.0], id="requests-latency-spark", summary_function=max)
        yield Static(id="requests-lines")

    def on_resize(self) -> None:
        self._lines = max(self.query_one("#requests-lines").size.height, 1)

    def cycle_status_class(self) -> None:
        index = STATUS_CLASSES.index(self.status_class)
        self.status_class = STATUS_CLASSES[(index + 1) % len(STATUS_CLASSES)]

    def watch_status_class(self, value: str) -> None:
        self.query_one("#requests-status", Label).update(f"status: {value}", layout=False)
        self.refresh_lines(force=True)

    def watch_paused(self, paused: bool) -> None:
        self.query_one("#requests-paused", Label).update("PAUSED (p resumes)" if paused else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_lines(force=True)

    def refresh_lines(self, *, force: bool = False) -> None:
        """Redraw from the ring (a paused log keeps its lines unless a filter changed).

        Every widget here keeps its size: redrawn without a new layout, and the lines
        only when a request came in or a filter changed.
        """
        lines = self.query_one("#requests-lines", Static)
        sparks = self.query_one(".request-sparks")
        if sparks.display != (self.request_log is not None):
            sparks.display = self.request_log is not None
        if self.request_log is None:
            if self._drawn_at != (0, 0):
                self._drawn_at = (0, 0)
                lines.update(Text("The embedded server is off: no requests to show.", "dim"))
            return
        if self.paused and not force:
            return
        per_second = self.request_log.per_second(SPARK_SECONDS)
        self.query_one("#requests-rps-spark", Sparkline).data = [float(s.count) for s in per_second]
        self.query_one("#requests-latency-spark", Sparkline).data = [s.p95_ms for s in per_second]
        drawn_at = (self.request_log.recorded, self._lines)
        if drawn_at == self._drawn_at and not force:
            return
        self._drawn_at = drawn_at
        path_part = self.query_one("#requests-path", Input).value.strip()
        filtered = self.status_class != "all" or bool(path_part)
        shown = [
            entry
            for entry in self.request_log.newest(SCAN_LIMIT if filtered else self._lines)
            if matches(entry, self.status_class, path_part)
        ][: self._lines]
        if not shown:
            lines.update(Text("No request matches yet.", style="dim"), layout=False)
            return
        text = Text("\n").join(entry_line(entry, self.zone) for entry in shown)
        lines.update(text, layout=False)
