"""The one-sentence problem shown under a form field."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class FieldError(Static):
    """The one-sentence problem under a field; empty (and no height) when there is none."""

    def on_mount(self) -> None:
        self.show(None)

    def show(self, message: str | None) -> None:
        self.set_class(not message, "-empty")
        self.update(Content(message or ""))
