"""Export a screen's current view to CSV, streamed page by page, with progress.

ExportDialog writes the Users screen's view; a subclass names what it exports
(`noun`) and writes it (`write_csv`), as the Audit screen's does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Static

from backend.services.errors import DomainError
from backend.services.export import export_users_csv, open_export_file
from backend.services.user_search import UserQuery
from console.notify import describe_error
from console.screens.base import ConsoleDialog
from console.screens.dialogs import FIELD_FOCUS_BINDINGS
from console.widgets.formatting import TotalKind, count

_QUALIFIERS = {TotalKind.EXACT: "", TotalKind.ABOUT: "about ", TotalKind.AT_LEAST: "at least "}


class ExportDialog(ConsoleDialog[int]):
    """Asks for a file, writes the CSV, returns how many rows it wrote (None: cancelled)."""

    BINDINGS = FIELD_FOCUS_BINDINGS
    noun = "users"
    hint = "No passwords or hashes."

    class Progressed(Message):
        def __init__(self, written: int) -> None:
            super().__init__()
            self.written = written

    class Finished(Message):
        def __init__(self, written: int, path: Path) -> None:
            super().__init__()
            self.written = written
            self.path = path

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self,
        query: UserQuery | None,
        expected: int | None,
        default_path: Path,
        *,
        kind: TotalKind = TotalKind.ABOUT,
    ) -> None:
        super().__init__()
        self.user_query = query
        self.expected = expected
        self.kind = kind  # how sure `expected` is
        self.default_path = default_path
        self._written: int | None = None

    def compose(self) -> ComposeResult:
        about = (
            f"the {self.noun}"
            if self.expected is None
            else _how_many(self.expected, self.kind, self.noun)
        )
        with Vertical(classes="dialog"):
            yield Static("Export to CSV", classes="dialog-title")
            yield Static(
                f"Writes {about} of the current view (filters and order as shown). {self.hint}",
                classes="dialog-hint",
            )
            with Horizontal(classes="form-row"):
                yield Label("File", classes="form-label")
                yield Input(str(self.default_path), id="path", compact=True)
            yield Static(id="path-error", classes="field-error", markup=False)
            yield ProgressBar(total=self.expected, show_eta=False, id="progress")
            yield Static(id="export-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#path", Input).focus()

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#path")
    def _start(self) -> None:
        if self._written is not None:
            self.dismiss(self._written)
            return
        raw = self.query_one("#path", Input).value.strip()
        path = Path(raw).expanduser() if raw else None
        problem = _path_problem(path)
        if problem or path is None:
            self._path_error(problem or "Give a file name.")
            return
        self._path_error(None)
        self.query_one("#export", Button).disabled = True
        self.query_one("#path", Input).disabled = True
        self.query_one("#progress").display = True
        self.export(path)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def export(self, path: Path) -> None:
        context = self.context

        def progressed(written: int) -> None:
            self.post_message(self.Progressed(written))

        try:
            # Never overwrites a file the operator did not mean to lose; 0600.
            with open_export_file(path) as out:
                async with context.database.session() as session:
                    written = await self.write_csv(session, out, progressed)
        except asyncio.CancelledError:
            _remove_partial(path)  # a half-written export is worse than none
            raise
        except (DomainError, OSError) as error:
            if not isinstance(error, FileExistsError):
                _remove_partial(path)
            self.post_message(self.Failed(_reason(error, path)))
            return
        self.post_message(self.Finished(written, path))

    async def write_csv(
        self, session: AsyncSession, out: TextIO, progressed: Callable[[int], None]
    ) -> int:
        """Write the view to `out`, calling `progressed` with the rows written so far."""
        assert self.user_query is not None  # the Users screen always gives its query
        context = self.context
        return await export_users_csv(
            session,
            context.actor,
            self.user_query,
            out,
            on_progress=progressed,
            audit=not context.read_only,
        )

    def on_export_dialog_progressed(self, event: Progressed) -> None:
        self.query_one("#progress", ProgressBar).update(progress=event.written)
        self.query_one("#export-status", Static).update(f"{count(event.written)} written…")

    def on_export_dialog_finished(self, event: Finished) -> None:
        self._written = event.written
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(event.written, 1), progress=max(event.written, 1))
        self.query_one("#export-status", Static).update(
            f"Exported {count(event.written)} {self.noun} to {event.path}."
        )
        button = self.query_one("#export", Button)
        button.label, button.disabled = "Close", False
        self.query_one("#cancel").display = False
        button.focus()

    def on_export_dialog_failed(self, event: Failed) -> None:
        self.query_one("#export", Button).disabled = False
        self.query_one("#path", Input).disabled = False
        self.query_one("#progress").display = False
        self._path_error(event.reason)
        self.notify(event.reason, title="Export failed", severity="error", markup=False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.workers.cancel_group(self, "export")
        self.dismiss(None)

    def _path_error(self, message: str | None) -> None:
        label = self.query_one("#path-error", Static)
        label.update(message or "")
        label.display = message is not None


def _how_many(expected: int, kind: TotalKind, noun: str) -> str:
    return f"{_QUALIFIERS[kind]}{count(expected)} {noun}"


def _path_problem(path: Path | None) -> str | None:
    if path is None:
        return "Give a file name."
    if path.exists():
        return f"{path} already exists; choose another name."
    if not path.parent.is_dir():
        return f"The folder {path.parent} does not exist."
    return None


def _reason(error: DomainError | OSError, path: Path) -> str:
    if isinstance(error, FileExistsError):
        return f"{path} already exists; choose another name."
    if isinstance(error, OSError):
        return f"Cannot write {path}: {error.strerror or error}."
    return describe_error(error)[1]


def _remove_partial(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
