"""The answer: status coloured by class, timing, size, headers, the body, schema findings.

The body is shown in a read-only TextArea (JSON highlighted), searchable; a large one
shows its first part only and says how much is left out, so drawing it stays quick.
"""

from __future__ import annotations

import dataclasses

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Input, Static, TextArea
from textual.widgets.text_area import Selection

from backend.services.probe import ProbeOutcome, pretty_body
from backend.services.probe_client import ProbeResponse
from console.widgets.routes.json_fold import fold_if_large

# What the body view holds at most: beyond this a TextArea's redraws get slow.
DISPLAY_CHARS = 256 * 1024
STATUS_CLASSES = {2: "-success", 3: "-redirect", 4: "-client-error", 5: "-server-error"}


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def status_line(response: ProbeResponse) -> str:
    reason = f" {response.reason}" if response.reason else ""
    return f"{response.status}{reason} · {response.elapsed_ms:.0f} ms · {human_size(response.size)}"


def find_next(text: str, needle: str, after: int) -> int | None:
    """Where `needle` next occurs from offset `after` (any case), wrapping round; None if not."""
    haystack, wanted = text.lower(), needle.lower()
    found = haystack.find(wanted, after)
    if found < 0:
        found = haystack.find(wanted)
    return None if found < 0 else found


def location_of(text: str, offset: int) -> tuple[int, int]:
    """(row, column) of a character offset."""
    row = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return row, offset - start


def offset_of(text: str, row: int, column: int) -> int:
    """The character offset of (row, column)."""
    start = 0
    for _ in range(row):
        start = text.index("\n", start) + 1
    return start + column


class ResponseView(Vertical):
    """Shows one ProbeOutcome; empty until the first answer."""

    outcome: ProbeOutcome | None = None
    _headers_text = ""
    folded_items = 0  # items of long arrays hidden from the answer shown

    def compose(self) -> ComposeResult:
        yield Static("No request sent yet.", id="response-status")
        yield Static("", id="response-findings")
        with Collapsible(title="Headers", collapsed=True, id="response-headers-box"):
            yield Static("", id="response-headers")
        yield Input(
            placeholder="search in the body (enter: next match)", compact=True, id="response-search"
        )
        yield TextArea(
            read_only=True,
            show_line_numbers=True,
            soft_wrap=False,  # wrapping measures every line of the body
            compact=True,
            id="response-body",
        )
        yield Static("", id="response-cut", classes="-empty")
        yield Static("", id="response-share")

    def show(self, outcome: ProbeOutcome, *, checked: bool = True) -> None:
        """Draw `outcome`; `checked` False: its findings are still being worked out."""
        self.outcome = outcome
        status = self.query_one("#response-status", Static)
        was_failed = status.has_class("-failed")
        status.remove_class(*STATUS_CLASSES.values(), "-failed")
        response = outcome.response
        if response is None:
            message = outcome.failure.message if outcome.failure else "No answer."
            status.update(Content(message))
            status.add_class("-failed")
            self._show_body("", json=False)
            self._set("#response-findings", "")
            self._show_headers("", 0)
            self._show_cut("")
            return
        # One line (no layout needed) unless it was a wrapped failure sentence before.
        status.update(Content(status_line(response)), layout=was_failed)
        status.add_class(STATUS_CLASSES.get(response.status // 100, "-failed"))
        self.show_findings(outcome.findings, checked=checked)
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers)
        self._show_headers(headers, len(response.headers))
        self._show_response_body(response)

    def _show_headers(self, text: str, count: int) -> None:
        # Filled while shown only: an update of the hidden (auto-sized) text would lay
        # out the whole screen with every answer.
        self._headers_text = text
        box = self.query_one(Collapsible)
        box.title = f"Headers ({count})" if count else "Headers"
        if not box.collapsed:
            self._set("#response-headers", text)

    @on(Collapsible.Expanded, "#response-headers-box")
    def _headers_opened(self, event: Collapsible.Expanded) -> None:
        event.stop()
        self._set("#response-headers", self._headers_text)

    def _show_cut(self, text: str) -> None:
        cut = self.query_one("#response-cut", Static)
        shown_before = not cut.has_class("-empty")
        cut.set_class(not text, "-empty")
        cut.update(Content(text), layout=shown_before != bool(text))

    def unfold(self) -> None:
        """Show the whole of a folded JSON answer."""
        if self.outcome is not None and self.outcome.response is not None:
            self._show_response_body(self.outcome.response, unfold=True)

    def show_share(self, text: str) -> None:
        self._set("#response-share", text)

    def show_findings(self, findings: tuple[str, ...], *, checked: bool = True) -> None:
        """How the answer differs from its documented schema (`checked`: they are known)."""
        if self.outcome is not None:
            self.outcome = dataclasses.replace(self.outcome, findings=findings)
        view = self.query_one("#response-findings", Static)
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

    def _show_response_body(self, response: ProbeResponse, *, unfold: bool = False) -> None:
        is_json = "json" in response.content_type
        text = pretty_body(response) if response.size <= DISPLAY_CHARS else response.text()
        shown = text[:DISPLAY_CHARS]
        left_out = response.size - len(shown.encode("utf-8"))
        as_json = is_json and response.complete and len(text) <= DISPLAY_CHARS
        self.folded_items = 0
        if as_json and not unfold:
            shown, self.folded_items = fold_if_large(shown)
        self._show_body(shown, json=as_json)
        if self.folded_items:
            self._show_cut(
                f"Folded: long arrays show their first items ({self.folded_items} more "
                "hidden); u unfolds.",
            )
        elif left_out > 0:
            self._show_cut(
                f"Showing the first {human_size(len(shown))} of {human_size(response.size)}; "
                f"{human_size(left_out)} left out.",
            )
        else:
            self._show_cut("")

    def _show_body(self, text: str, *, json: bool) -> None:
        area = self.query_one("#response-body", TextArea)
        language = "json" if json else None
        # Each of these rebuilds the document (and its highlights): only what changed.
        if area.language != language:
            area.language = language
        area.load_text(text)

    def _set(self, selector: str, text: str) -> None:
        self.query_one(selector, Static).update(Content(text))

    @property
    def body_text(self) -> str:
        return self.query_one("#response-body", TextArea).text

    @on(Input.Submitted, "#response-search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        self.find(event.value)

    def find(self, needle: str) -> bool:
        """Select the next match of `needle` in the body; False when there is none."""
        area = self.query_one("#response-body", TextArea)
        if not needle:
            return False
        text = area.text
        row, column = area.selection.end
        after = offset_of(text, row, column)
        found = find_next(text, needle, after)
        if found is None:
            self.notify(f"{needle!r} is not in the body.", severity="warning", markup=False)
            return False
        start = location_of(text, found)
        end = location_of(text, found + len(needle))
        area.selection = Selection(start, end)
        area.scroll_cursor_visible(center=True)
        return True
