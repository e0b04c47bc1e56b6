"""Warnings worth a developer's attention, one line each."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

from backend.services.jwt_codec import TokenWarning


class TokenWarnings(Static):
    """ "⚠ The token has no exp claim, so it never expires." and so on."""

    def on_mount(self) -> None:
        self.border_title = "Warnings"
        self.show(())

    def show(self, warnings: Sequence[TokenWarning]) -> None:
        self.set_class(bool(warnings), "-some")
        if not warnings:
            self.update(Content.styled("None.", "$text-muted"))
            return
        lines = [Content.assemble(("⚠ ", "$text-warning"), w.message) for w in warnings]
        self.update(Content("\n").join(lines))
