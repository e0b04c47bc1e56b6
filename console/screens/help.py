"""`?`: the keys of the current screen, then the keys that work everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.screens.base import ConsoleDialog


@dataclass(frozen=True, slots=True)
class KeyHelp:
    key: str
    description: str
    everywhere: bool


def collect_key_help(bindings: dict[str, ActiveBinding], app_node: object) -> list[KeyHelp]:
    """The enabled bindings with a description, screen keys first."""
    found = [
        KeyHelp(
            key=active.binding.key_display or active.binding.key,
            description=active.binding.description,
            everywhere=active.node is app_node,
        )
        for active in bindings.values()
        if active.enabled and active.binding.description
    ]
    return sorted(found, key=lambda item: item.everywhere)


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
            yield Static(f"Keys: {self.screen_title}", classes="dialog-title")
            with VerticalScroll():
                yield Static(self._render_keys(), markup=False)
            yield Static("esc closes · ctrl+p lists every action", classes="dialog-hint")

    def _render_keys(self) -> str:
        lines: list[str] = []
        section: bool | None = None
        for item in self.keys:
            if item.everywhere is not section:
                section = item.everywhere
                if lines:
                    lines.append("")
                lines.append("Everywhere" if section else "This screen")
            lines.append(f"  {_key_name(item.key):>10}  {item.description}")
        return "\n".join(lines)


def _key_name(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "space": "space"}.get(key, key)
