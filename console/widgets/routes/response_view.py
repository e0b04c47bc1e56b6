"""The answer: status coloured by class, timing, size, headers, the body, schema findings.

The body is shown by BodyView: JSON highlighted, a large document folded (enter opens
a container, o opens them all), text as it came; searchable. A large body shows its
first part only and says how much is left out, so drawing it stays quick.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Collapsible, Input, Static

from backend.services.probe import ProbeOutcome
from backend.services.probe_client import ProbeResponse
from console.widgets.fixed_size_input import FixedSizeInput
from console.widgets.routes.body_view import BodyView
from console.widgets.routes.json_lines import FoldedJson, json_lines

# What the body view holds of a text body at most; beyond it, the first part is shown.
DISPLAY_CHARS = 256 * 1024
# A JSON body larger than this is laid out in a thread (the text is shown meanwhile).
INLINE_JSON_BYTES = 64 * 1024
STATUS_CLASSES = {2: "-success", 3: "-redirect", 4: "-client-error", 5: "-server-error"}
# when_drawn looks this often, this many times, for the frame that shows an answer.
FRAME_SECONDS = 1 / 60
FRAME_WAITS = 6
FOLDED_NOTICE = "Folded (▸) to fit: enter opens or closes one, ← closes, o opens all."


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def status_line(response: ProbeResponse) -> str:
    reason = f" {response.reason}" if response.reason else ""
    return f"{response.status}{reason} · {response.elapsed_ms:.0f} ms · {human_size(response.size)}"


def parsed_document(response: ProbeResponse) -> FoldedJson | None:
    """The body as JSON lines, folded if large; None when it is not JSON, or not all of
    it was kept."""
    if "json" not in response.content_type or not response.complete:
        return None
    try:
        return FoldedJson(json_lines(json.loads(response.body)))
    except (ValueError, RecursionError):
        return None


class ResponseView(Vertical):
    """Shows one ProbeOutcome; empty until the first answer."""

    outcome: ProbeOutcome | None = None
    _headers_text = ""
    _cut_text = ""
    _frames_at_show = 0

    class JsonReady(Message):
        def __init__(self, response: ProbeResponse, document: FoldedJson | None) -> None:
            super().__init__()
            self.response = response
            self.document = document

    def compose(self) -> ComposeResult:
        yield Static("No request sent yet.", id="response-status")
        yield Static("", id="response-findings")
        with Collapsible(title="Headers", collapsed=True, id="response-headers-box"):
            yield Static("", id="response-headers")
        yield FixedSizeInput(
            placeholder="search in the body (enter: next match)", compact=True, id="response-search"
        )
        yield BodyView(id="response-body")
        yield Static("", id="response-cut", classes="-empty")
        yield Static("", id="response-share")

    def on_mount(self) -> None:
        # Looked up once: a query walks the screen's widgets, and an answer uses each.
        self._status = self.query_one("#response-status", Static)
        self._findings = self.query_one("#response-findings", Static)
        self._body = self.query_one(BodyView)
        self._cut = self.query_one("#response-cut", Static)

    def show(self, outcome: ProbeOutcome, *, checked: bool = True) -> None:
        """Draw `outcome`; `checked` False: its findings are still being worked out."""
        self.outcome = outcome
        self._frames_at_show = self._body.frames
        status = self._status
        was_failed = status.has_class("-failed")
        response = outcome.response
        if response is None:
            message = outcome.failure.message if outcome.failure else "No answer."
            status.update(Content(message))
            self._set_status_class("-failed")
            self._body.show_text("")
            self._findings.update(Content(""))
            self._show_headers("", 0)
            self._show_cut("")
            return
        # One line (no layout needed) unless it was a wrapped failure sentence before.
        status.update(Content(status_line(response)), layout=was_failed)
        self._set_status_class(STATUS_CLASSES.get(response.status // 100, "-failed"))
        self.show_findings(outcome.findings, checked=checked)
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers)
        self._show_headers(headers, len(response.headers))
        self._show_response_body(response)

    def _set_status_class(self, name: str) -> None:
        # Only when it changes: each class change restyles the widget.
        if set(self._status.classes) != {name}:
            self._status.set_classes(name)

    def _show_headers(self, text: str, count: int) -> None:
        # Filled while shown only: an update of the hidden (auto-sized) text would lay
        # out the whole screen with every answer.
        self._headers_text = text
        box = self.query_one(Collapsible)
        title = f"Headers ({count})" if count else "Headers"
        if box.title != title:
            box.title = title
        if not box.collapsed:
            self._set("#response-headers", text)

    @on(Collapsible.Expanded, "#response-headers-box")
    def _headers_opened(self, event: Collapsible.Expanded) -> None:
        event.stop()
        self._set("#response-headers", self._headers_text)

    def _show_cut(self, text: str) -> None:
        if text == self._cut_text:
            return
        cut = self._cut
        shown_before = bool(self._cut_text)
        self._cut_text = text
        cut.set_class(not text, "-empty")
        cut.update(Content(text), layout=shown_before != bool(text))

    def show_share(self, text: str) -> None:
        self._set("#response-share", text)

    def show_findings(self, findings: tuple[str, ...], *, checked: bool = True) -> None:
        """How the answer differs from its documented schema (`checked`: they are known)."""
        if self.outcome is not None:
            self.outcome = dataclasses.replace(self.outcome, findings=findings)
        view = self._findings
        # A list of findings is sized to fit; the one-line verdicts need no layout.
        resized = bool(findings) or view.has_class("-findings")
        view.set_class(bool(findings), "-findings")
        if findings:
            text = "Schema findings:\n" + "\n".join(f"• {f}" for f in findings)
        elif checked:
            text = "Matches the documented schema."
        else:
            text = "Checking against the documented schema…"
        view.update(Content(text), layout=resized)

    def _show_response_body(self, response: ProbeResponse) -> None:
        is_json = "json" in response.content_type and response.complete
        if is_json and response.size <= INLINE_JSON_BYTES:
            document = parsed_document(response)
            if document is not None:
                self._body.show_json(document)
                self._show_cut(FOLDED_NOTICE if self._body.folds else "")
                return
        self._show_text(response)
        if is_json:
            self._lay_out_json(response)

    def _show_text(self, response: ProbeResponse) -> None:
        text = response.text()
        shown = text[:DISPLAY_CHARS]
        self._body.show_text(shown)
        left_out = response.size - len(shown.encode("utf-8"))
        if left_out > 0:
            self._show_cut(
                f"Showing the first {human_size(len(shown))} of {human_size(response.size)}; "
                f"{human_size(left_out)} left out.",
            )
        else:
            self._show_cut("")

    @work(thread=True, exclusive=True, group="response-json", exit_on_error=False)
    def _lay_out_json(self, response: ProbeResponse) -> None:
        self.post_message(self.JsonReady(response, parsed_document(response)))

    def on_response_view_json_ready(self, event: JsonReady) -> None:
        outcome = self.outcome
        if event.document is None or outcome is None or outcome.response is not event.response:
            return  # not JSON after all, or a newer answer is shown
        self._body.show_json(event.document)
        self._show_cut(FOLDED_NOTICE if self._body.folds else "")

    def on_body_view_folds_changed(self, event: BodyView.FoldsChanged) -> None:
        if not event.folds and self._cut_text == FOLDED_NOTICE:
            self._show_cut("")

    def when_drawn(self, callback: Callable[[], None], waits: int = FRAME_WAITS) -> None:
        """Call `callback` once a frame has drawn the answer shown (or a few frames' time
        later: a body out of view is never drawn).

        call_after_refresh is no such guarantee: it runs once the screen is idle, which
        may be before the widgets just changed have asked for their frame.
        """
        if self._body.frames > self._frames_at_show or waits == 0:
            callback()
        else:
            self.set_timer(FRAME_SECONDS, partial(self.when_drawn, callback, waits - 1))

    @property
    def folds(self) -> int:
        """How many containers of the JSON shown are folded."""
        return self._body.folds

    def unfold(self) -> None:
        """Open every folded container of the JSON shown."""
        self._body.unfold_all()

    def _set(self, selector: str, text: str) -> None:
        self.query_one(selector, Static).update(Content(text))

    @property
    def body_text(self) -> str:
        """The whole body shown (JSON unfolded)."""
        return self._body.text

    @on(Input.Submitted, "#response-search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        self.find(event.value)

    def find(self, needle: str) -> bool:
        """Select the next match of `needle` in the body; False when there is none."""
        if not needle:
            return False
        if not self._body.find(needle):
            self.notify(f"{needle!r} is not in the body.", severity="warning", markup=False)
            return False
        return True
