"""One step down from several heads: which of them to step down (the plan comes next)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from backend.services.migrations import RevisionNode
from console.screens.base import ConsoleDialog


class HeadChoiceDialog(ConsoleDialog[str]):
    """Returns the head chosen, or None."""

    DEFAULT_CSS = """
    HeadChoiceDialog #head-list {
        margin-top: 1;
    }
    """

    def __init__(self, heads: tuple[RevisionNode, ...]) -> None:
        super().__init__()
        self.heads = heads
        self._chosen_by = {f"head-{node.revision}": node.revision for node in heads}

    def compose(self) -> ComposeResult:
        listed = "\n".join(f"{node.revision}  {node.message}" for node in self.heads)
        with Vertical(classes="dialog"):
            yield Static("One step down: which head?", classes="dialog-title")
            yield Static(
                f"The database is at {len(self.heads)} heads, one per branch. Stepping one "
                "down leaves the others as they are.",
                markup=False,
            )
            yield Static(listed, id="head-list", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for button_id, revision in self._chosen_by.items():
                    yield Button(revision, id=button_id, compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        self.dismiss(self._chosen_by.get(event.button.id or ""))  # Cancel: None
