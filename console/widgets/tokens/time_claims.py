"""iat, nbf and exp as local dates and as "expires in 14 min", refreshed as time passes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from console.widgets.tokens.formatting import claim_time, safe_line

TIME_CLAIMS = ("iat", "nbf", "exp")


class TimeClaims(Vertical):
    """One row per time claim; `tick(now)` rewrites the relative parts."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._payload: Mapping[str, Any] | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Times"
        for claim in TIME_CLAIMS:
            with Horizontal(id=f"claim-{claim}"):
                yield Static(claim, classes="claim-name")
                yield Static("", classes="claim-date")
                yield Static("", classes="claim-relative")

    def show(self, payload: Mapping[str, Any] | None, now: float) -> None:
        """Show the time claims of `payload` (None: nothing decoded)."""
        self._payload = payload
        self.tick(now)

    def tick(self, now: float) -> None:
        """Rewrite every row for `now`."""
        for claim in TIME_CLAIMS:
            date, relative = self._describe(claim, now)
            row = self.query_one(f"#claim-{claim}", Horizontal)
            row.query_one(".claim-date", Static).update(date)
            row.query_one(".claim-relative", Static).update(relative)

    def _describe(self, claim: str, now: float) -> tuple[Content, Content]:
        if self._payload is None or claim not in self._payload:
            return Content.styled("—", "$text-muted"), Content("")
        value = self._payload[claim]
        described = claim_time(claim, value, now, self._tz)
        if described.problem is not None:
            # Show the raw value beside the problem: "invalid NumericDate: NaN".
            raw = Content(safe_line(value, limit=40))
            return raw, Content.styled(described.problem, "$text-error")
        style = "$text-error" if described.relative.startswith("expired") else ""
        return Content(described.date), Content.styled(described.relative, style)
