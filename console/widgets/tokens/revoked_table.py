"""Revoked tokens that have not expired yet, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from textual.widgets import DataTable

from backend.services.tokens import RevokedEntry
from console.widgets.tokens.formatting import local_date, safe_line

COLUMNS = ("jti", "user", "revoked", "by", "expires")


class RevokedTable(DataTable[str]):
    """One row per revocation; dates in the display zone."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._tz = tz

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, revoked: Sequence[RevokedEntry]) -> None:
        """Replace the rows with `revoked`."""
        self.clear()
        for entry in revoked:
            self.add_row(
                safe_line(entry.jti, limit=32),
                _owner(entry),
                local_date(entry.revoked_at.timestamp(), self._tz),
                safe_line(entry.revoked_by, limit=40),
                local_date(entry.expires_at.timestamp(), self._tz),
                key=entry.jti,
            )


def _owner(entry: RevokedEntry) -> str:
    if entry.user_id is None:
        return "—"
    if entry.user_email is None:
        return f"deleted user {entry.user_id}"
    return safe_line(entry.user_email, limit=40)
