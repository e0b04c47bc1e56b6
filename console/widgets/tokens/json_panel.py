"""A decoded token part as highlighted JSON, marked UNVERIFIED unless the signature passed."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from console.widgets.tokens.formatting import highlighted_json


class JsonPanel(Static):
    """The header or the payload; the border title says whether it can be trusted."""

    def __init__(self, part: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._part = part

    def on_mount(self) -> None:
        self.show(None, verified=False)

    def show(self, value: dict[str, Any] | None, *, verified: bool) -> None:
        decoded = value is not None
        self.set_class(decoded and verified, "-verified")
        self.set_class(decoded and not verified, "-unverified")
        if not decoded:
            self.border_title = self._part
            self.update(Content.styled("Nothing decoded.", "$text-muted"))
            return
        self.border_title = f"{self._part} · {'signature verified' if verified else 'UNVERIFIED'}"
        self.update(highlighted_json(value))
