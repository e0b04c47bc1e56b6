"""A banner under the status bar while the database does not answer.

In the screen's flow, not docked: two widgets docked at the top would overlap.
"""

from __future__ import annotations

from textual.widgets import Static


class DatabaseBanner(Static):
    """Hidden while the database answers; follows the app's `database_down` reason."""

    DEFAULT_CSS = """
    DatabaseBanner {
        height: 1;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
        display: none;
    }
    """

    def on_mount(self) -> None:
        if hasattr(self.app, "database_down"):
            self.watch(self.app, "database_down", self._show, init=True)

    def _show(self, reason: str | None) -> None:
        self.display = reason is not None
        if reason is not None:
            self.update(f"Database unreachable: {reason} Reconnecting on its own.")
