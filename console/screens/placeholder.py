"""Screens that later issues build: each says so until then."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Static

from console.screens.base import ConsoleScreen


class PlaceholderScreen(ConsoleScreen):
    """A named area that is not built yet."""

    def __init__(self, title: str, purpose: str) -> None:
        super().__init__()
        self.area_title = title
        self.purpose = purpose

    def compose_content(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(
                f"[b]{self.area_title}[/b]\n\n{self.purpose}\n\n"
                "[dim]Not built yet: a later issue adds this screen.[/dim]",
                classes="placeholder",
            )
