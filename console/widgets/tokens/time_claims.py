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
        self._shown: dict[str, tuple[Content, Content]] = {}

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
        """Rewrite the rows that read differently at `now`.

        A row whose texts keep their lengths is redrawn without a new layout: a layout of
        the Tokens screen every second cost ~20 ms of CPU a second, for a clock."""
        for claim in TIME_CLAIMS:
            shown = self._describe(claim, now)
            before = self._shown.get(claim)
            if shown == before:
                continue
            self._shown[claim] = shown
            resized = before is None or _lengths(before) != _lengths(shown)
            row = self.query_one(f"#claim-{claim}", Horizontal)
            date, relative = shown
            row.query_one(".claim-date", Static).update(date, layout=resized)
            row.query_one(".claim-relative", Static).update(relative, layout=resized)

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


def _lengths(texts: tuple[Content, Content]) -> tuple[int, int]:
    return texts[0].cell_length, texts[1].cell_length
