"""A run's progress: a bar and one line per step, lock wait and Alembic log line."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, RichLog, Static

from backend.services.migrations import (
    LockWaiting,
    LogLine,
    MigrationEvent,
    StepFinished,
    StepStarted,
)


class RunLog(Vertical):
    """Mounted by the first run; keeps the last run's lines afterwards."""

    def compose(self) -> ComposeResult:
        yield Static("Run log", classes="pane-title")
        yield ProgressBar(total=None, show_eta=False, id="run-progress")
        yield RichLog(id="run-lines", wrap=True, markup=False, auto_scroll=True)

    def begin(self, description: str, total: int, caveat: str | None = None) -> None:
        """A new run: its plan, and what the database cannot undo in it (SQLite's limits)."""
        self.query_one(RichLog).clear()
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=0)
        self.write(Text(f"Running: {description}", style="bold"))
        if caveat is not None:
            self.write(Text(caveat, style="yellow"))

    def write(self, line: Text | str) -> None:
        self.query_one(RichLog).write(line)

    def show_event(self, event: MigrationEvent) -> None:
        if isinstance(event, StepStarted):
            step = event.step
            self.write(f"[{event.index}/{event.total}] {step.direction.value} {step.label} …")
        elif isinstance(event, StepFinished):
            self.query_one(ProgressBar).update(total=event.total, progress=event.index)
            self.write(
                Text(
                    f"[{event.index}/{event.total}] {event.step.revision} done in "
                    f"{event.elapsed:.2f} s",
                    style="green",
                )
            )
        elif isinstance(event, LockWaiting):
            self.write(
                Text(
                    f"Waiting for the migration lock, held by {event.holder} "
                    f"({event.waited:.0f} s)…",
                    style="yellow",
                )
            )
        elif isinstance(event, LogLine):
            self.write(Text(event.text, style="dim"))

    def end(self, message: str, *, ok: bool) -> None:
        self.write(Text(message, style="bold green" if ok else "bold red"))
