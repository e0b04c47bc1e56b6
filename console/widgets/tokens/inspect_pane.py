"""Inspect: paste a token (or pick one issued here) and see this backend's full verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Select

from backend.schemas.user import UserRead
from backend.services import tokens
from backend.services.jwt_codec import Lane, LaneStatus, TokenCheck
from backend.services.jwt_display import numeric_date_problem
from console.screens.base import context_of
from console.widgets.tokens.json_panel import JsonPanel
from console.widgets.tokens.time_claims import TimeClaims
from console.widgets.tokens.token_owner import TokenOwner
from console.widgets.tokens.token_warnings import TokenWarnings
from console.widgets.tokens.verdict_banner import VerdictBanner
from console.widgets.tokens.verdict_lanes import VerdictLanes
from console.widgets.tokens.worker_errors import ReportsWorkerErrors

# The verdict is re-checked this often while shown (the time lane's sentence goes stale),
# and at once when the token crosses its exp or nbf.
RECHECK_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Inspection:
    """A token, this backend's verdict on it and the user its sub names."""

    token: str
    check: TokenCheck
    owner: UserRead | None

    @property
    def signature_verified(self) -> bool:
        return self.check.lanes[Lane.SIGNATURE].status is LaneStatus.PASS

    def next_boundary(self) -> float | None:
        """When the time lane's answer changes next (exp or nbf plus leeway), if ever."""
        payload, leeway = self.check.payload or {}, self.check.leeway_seconds
        moments = [
            _valid_date(payload.get("exp"), leeway),
            _valid_date(payload.get("nbf"), -leeway),
        ]
        upcoming = [m for m in moments if m is not None and m > self.check.checked_at]
        return min(upcoming, default=None)


def _valid_date(value: Any, shift: int) -> float | None:
    if value is None or numeric_date_problem(value) is not None:
        return None
    return float(value) + shift


class InspectPane(ReportsWorkerErrors, Vertical):
    """The token input, the verdict banner and lanes, times, owner, warnings, JSON."""

    class Inspected(Message):
        """A fresh verdict is shown (None: the input was cleared)."""

        def __init__(self, inspection: Inspection | None) -> None:
            super().__init__()
            self.inspection = inspection

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._recent: list[tuple[str, str]] = []  # (label, token)
        self.inspection: Inspection | None = None
        self._recheck_at = math.inf

    def compose(self) -> ComposeResult:
        with Horizontal(id="inspect-input-row"):
            yield Input(
                placeholder="Paste a token: header.payload.signature",
                id="inspect-token",
                select_on_focus=False,
            )
            yield Select[int](
                [], prompt="Tokens issued here", id="inspect-recent", allow_blank=True
            )
        yield VerdictBanner(id="inspect-verdict")
        with Horizontal(id="inspect-body"):
            with VerticalScroll(id="inspect-verdict-column"):
                yield VerdictLanes(id="inspect-lanes")
                yield TimeClaims(tz=self._tz, id="inspect-times")
                yield TokenOwner(id="inspect-owner")
                yield TokenWarnings(id="inspect-warnings")
            with VerticalScroll(id="inspect-json-column"):
                yield JsonPanel("Header", id="inspect-header")
                yield JsonPanel("Payload", id="inspect-payload")

    def on_mount(self) -> None:
        # Live relative times; the context's clock decides what "now" is (tests pin it).
        self.set_interval(1.0, self.tick)

    def _now(self) -> float:
        return context_of(self.screen).clock().timestamp()

    # --- input ---------------------------------------------------------------------

    def inspect(self, token: str) -> None:
        """Show the verdict on `token` (it is put into the input, as if pasted)."""
        token_input = self.query_one("#inspect-token", Input)
        if token_input.value == token:
            self._check(token)
        else:
            token_input.value = token  # Input.Changed starts the check

    def add_recent(self, label: str, token: str) -> None:
        """Offer a token issued on this screen in the picker, newest first."""
        self._recent.append((label, token))
        options = [(text, index) for index, (text, _token) in enumerate(self._recent)]
        self.query_one("#inspect-recent", Select).set_options(reversed(options))

    @on(Input.Changed, "#inspect-token")
    @on(Input.Submitted, "#inspect-token")
    def _token_edited(self, event: Input.Changed | Input.Submitted) -> None:
        event.stop()
        self._check(event.value)

    @on(Select.Changed, "#inspect-recent")
    def _recent_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self.inspect(self._recent[event.value][1])

    def _check(self, token: str) -> None:
        if not token.strip():
            self.workers.cancel_group(self, "inspect")
            self.post_message(self.Inspected(None))
            return
        self.run_check(token)

    # --- the worker ----------------------------------------------------------------

    @work(exclusive=True, group="inspect", exit_on_error=False)
    async def run_check(self, token: str) -> None:
        """Ask the backend for its verdict on `token` and the user its sub names."""
        context = context_of(self.screen)
        async with context.database.session() as session:
            check = await tokens.inspect_token(session, context.policy, token, now=self._now())
            owner = await tokens.find_token_subject(session, context.actor, check.payload)
        self.post_message(self.Inspected(Inspection(token, check, owner)))

    # --- showing -------------------------------------------------------------------

    def on_inspect_pane_inspected(self, event: Inspected) -> None:
        # Not stopped: the screen hands the inspection on to the Revoke pane.
        shown_token = self.query_one("#inspect-token", Input).value
        if event.inspection is not None and event.inspection.token != shown_token:
            event.stop()  # a verdict on a token that was edited away meanwhile
            return
        self.inspection = event.inspection
        if event.inspection is None:
            self._clear()
            return
        self._show(event.inspection)

    def _show(self, inspection: Inspection) -> None:
        check, verified = inspection.check, inspection.signature_verified
        self.query_one(VerdictBanner).show(check)
        self.query_one(VerdictLanes).show(check)
        self.query_one(TimeClaims).show(check.payload, check.checked_at)
        self.query_one(TokenOwner).show(check.payload, inspection.owner, verified)
        self.query_one(TokenWarnings).show(check.warnings)
        self.query_one("#inspect-header", JsonPanel).show(check.header, verified=verified)
        self.query_one("#inspect-payload", JsonPanel).show(check.payload, verified=verified)
        boundary = inspection.next_boundary()
        self._recheck_at = min(
            check.checked_at + RECHECK_SECONDS, math.inf if boundary is None else boundary
        )

    def _clear(self) -> None:
        self._recheck_at = math.inf
        self.query_one(VerdictBanner).clear()
        self.query_one(VerdictLanes).clear()
        self.query_one(TimeClaims).show(None, self._now())
        self.query_one(TokenOwner).show(None, None, verified=False)
        self.query_one(TokenWarnings).show(())
        for panel in self.query(JsonPanel):
            panel.show(None, verified=False)

    def tick(self) -> None:
        """Refresh the relative times; re-check the verdict when it may have changed.

        Not while another screen is shown: the Tokens screen checks again on its return."""
        if self.app.screen is not self.screen:
            return
        now = self._now()
        self.query_one(TimeClaims).tick(now)
        if self.inspection is not None and now >= self._recheck_at:
            self._recheck_at = math.inf
            self.run_check(self.inspection.token)

    def recheck(self) -> None:
        """Check the shown token again (after a revocation or a force-logout)."""
        if self.inspection is not None:
            self.run_check(self.inspection.token)
