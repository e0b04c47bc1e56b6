"""The verdict split into lanes: structure, signature, time, policy; each pass/fail/not checked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from backend.services.jwt_codec import Lane, LaneResult, LaneStatus, TokenCheck

STATUS_LOOK = {
    LaneStatus.PASS: ("✔ pass", "$text-success"),
    LaneStatus.FAIL: ("✘ fail", "bold $text-error"),
    LaneStatus.NOT_CHECKED: ("· not checked", "$text-muted"),
}


class VerdictLanes(Vertical):
    """One row per lane; the time lane's name carries this backend's leeway."""

    def compose(self) -> ComposeResult:
        self.border_title = "Verdict lanes"
        for lane in Lane:
            with Horizontal(id=f"lane-{lane.value}"):
                yield Static(lane.value, classes="lane-name")
                yield Static("", classes="lane-status")
                yield Static("", classes="lane-detail")

    def on_mount(self) -> None:
        self.clear()

    def clear(self) -> None:
        for lane in Lane:
            self._show_lane(lane, LaneResult(LaneStatus.NOT_CHECKED, ""))

    def show(self, check: TokenCheck) -> None:
        for lane in Lane:
            result = check.lanes.get(lane, LaneResult(LaneStatus.NOT_CHECKED, ""))
            self._show_lane(lane, result)
        name = self.query_one(f"#lane-{Lane.TIME.value} .lane-name", Static)
        name.update(f"time (leeway {check.leeway_seconds} s)")

    def _show_lane(self, lane: Lane, result: LaneResult) -> None:
        row = self.query_one(f"#lane-{lane.value}", Horizontal)
        label, style = STATUS_LOOK[result.status]
        row.query_one(".lane-status", Static).update(Content.styled(label, style))
        row.query_one(".lane-detail", Static).update(Content(result.detail))
