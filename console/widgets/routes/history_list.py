"""The request history, newest first, searchable; enter replays the highlighted request.

It reads the history file itself (in a thread), when shown and as its search changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from backend.services.probe_history import HistoryEntry, ProbeHistory
from console.widgets.fixed_size_input import FixedSizeInput
from console.widgets.routes.route_list import METHOD_STYLES


def entry_line(entry: HistoryEntry) -> Text:
    line = Text()
    line.append(entry.at[5:16].replace("T", " ") + " ", "dim")
    line.append(f"{entry.method:<6} ", METHOD_STYLES.get(entry.method, "bold"))
    line.append(entry.concrete_path)
    status = str(entry.status) if entry.status is not None else "no answer"
    style = "green" if entry.status is not None and 200 <= entry.status < 300 else "red"
    line.append(f"  {status}", style)
    line.append(f"  {entry.auth}", "italic dim")
    return line


class HistoryList(Vertical):
    """Posts Replay with the entry picked (enter)."""

    class Replay(Message):
        def __init__(self, entry: HistoryEntry) -> None:
            super().__init__()
            self.entry = entry

    class Loaded(Message):
        def __init__(self, entries: list[HistoryEntry]) -> None:
            super().__init__()
            self.entries = entries

    def __init__(self, history: ProbeHistory, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
        self.entries: tuple[HistoryEntry, ...] = ()

    def compose(self) -> ComposeResult:
        yield FixedSizeInput(placeholder="search the history", compact=True, id="history-search")
        yield OptionList(id="history-list")

    def show(self, entries: Sequence[HistoryEntry]) -> None:
        self.entries = tuple(entries)
        listing = self.query_one(OptionList)
        listing.set_options(
            [Option(entry_line(entry), id=str(i)) for i, entry in enumerate(self.entries)]
        )
        listing.highlighted = 0 if self.entries else None

    def reload(self) -> None:
        """Read the history again (the entries matching the search)."""
        self._load(self.query_one("#history-search", Input).value)

    @work(exclusive=True, group="history-load", exit_on_error=False)
    async def _load(self, search: str) -> None:
        entries = await asyncio.to_thread(self.history.entries, search)
        self.post_message(self.Loaded(entries))

    def on_history_list_loaded(self, event: Loaded) -> None:
        event.stop()
        self.show(event.entries)

    @on(Input.Changed, "#history-search")
    def _search(self, event: Input.Changed) -> None:
        event.stop()
        self._load(event.value)

    @on(Input.Submitted, "#history-search")
    def _to_list(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#history-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Replay(self.entries[int(event.option.id)]))
