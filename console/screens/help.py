"""`?`: the keys of the current screen, then the keys that work everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.widgets import Static

from console.screens.base import ConsoleDialog


class KeyGroup(IntEnum):
    SCREEN = 0
    EVERYWHERE = 1
    MOVING = 2  # the focused widget's own keys (cursor, paging)


GROUP_TITLES = {
    KeyGroup.SCREEN: "This screen",
    KeyGroup.EVERYWHERE: "Everywhere",
    KeyGroup.MOVING: "Moving around",
}


# Textual's own Screen keys (focus, copy) work on every screen: not "this screen".
_TEXTUAL_SCREEN_ACTIONS = frozenset({"app.focus_next", "app.focus_previous", "screen.copy_text"})


@dataclass(frozen=True, slots=True)
class KeyHelp:
    key: str
    description: str
    group: KeyGroup
    enabled: bool = True  # False: shown dimmed (nothing selected or marked yet)
    detail: str = ""  # the binding's tooltip: what the short key bar label means

    @property
    def everywhere(self) -> bool:
        """A key of the app rather than of this screen."""
        return self.group is KeyGroup.EVERYWHERE


def collect_key_help(
    bindings: dict[str, ActiveBinding], screen: DOMNode, app: App[Any]
) -> list[KeyHelp]:
    """The bindings with a description: the screen's, the app's, then the rest.

    A binding the screen only dims for now (no row selected, nothing marked) is listed
    too, so the help tells what the screen can do, not only what it can do this moment.
    """
    found: list[KeyHelp] = []
    for active in bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        if active.node is app:
            group = KeyGroup.EVERYWHERE
        elif active.node is screen and binding.action not in _TEXTUAL_SCREEN_ACTIONS:
            group = KeyGroup.SCREEN
        else:
            group = KeyGroup.MOVING
        detail = active.tooltip or binding.tooltip
        key = app.get_key_display(binding)
        found.append(KeyHelp(key, binding.description, group, active.enabled, detail))
    return sorted(found, key=lambda item: item.group)


class HelpDialog(ConsoleDialog[None]):
    """Lists keys; any of esc, ? or q closes it."""

    BINDINGS = [
        ("escape", "cancel", "Close"),
        ("question_mark", "cancel", "Close"),
        ("q", "cancel", "Close"),
    ]

    def __init__(self, screen_title: str, keys: list[KeyHelp]) -> None:
        super().__init__()
        self.screen_title = screen_title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Static(f"Keys: {self.screen_title}", classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(self._key_table())
            yield Static("esc closes · ctrl+p lists every action", classes="dialog-hint")

    def _key_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(style="dim")
        group: KeyGroup | None = None
        for item in self.keys:
            if item.group is not group:
                if group is not None:
                    table.add_row("", "", "")
                group = item.group
                table.add_row("", f"[b]{GROUP_TITLES[group]}[/b]", "")
            style = "" if item.enabled else "dim"
            table.add_row(item.key, item.description, item.detail, style=style)
        return table
