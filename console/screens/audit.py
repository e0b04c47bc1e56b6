"""The Audit screen: who did what, newest first, among millions of events.

One page at a time by keyset (`]` older, `[` newer), filtered by actor, action,
target user, time range and free text; the selected event's changed fields as a
before/after table; `j` jumps to the event's user on the Users screen (`a` comes
back); `x` exports the filtered view. Workers read and post; handlers show.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from backend.services import users
from backend.services.audit import AuditFilter, AuditRecord, list_events, user_target
from backend.services.errors import NotFound
from console.screens.base import ConsoleScreen
from console.time_input import parse_moment
from console.widgets.audit.changes import EventChanges

PAGE_SIZE = 50
FILTER_DEBOUNCE_SECONDS = 0.25
# Filter field id -> what it filters, as its placeholder says.
FILTER_FIELDS = {
    "audit-actor": "actor",
    "audit-action": "action",
    "audit-target": "user id",
    "audit-since": "since (2h, date)",
    "audit-until": "until",
    "audit-text": "text",
}


class FilterProblem(ValueError):
    """A filter field holds something that is not a filter; the message says why."""


def read_filters(values: dict[str, str], now: dt.datetime) -> AuditFilter:
    """The filters the fields describe. Raises FilterProblem for a field it cannot read."""
    target = values.get("audit-target", "").strip().removeprefix("user:")
    if target and not target.isdigit():
        raise FilterProblem(f"The user filter takes a user id (e.g. 12), not {target!r}.")
    moments: dict[str, dt.datetime | None] = {}
    for field in ("audit-since", "audit-until"):
        text = values.get(field, "").strip()
        try:
            moments[field] = parse_moment(text, now) if text else None
        except ValueError as error:
            raise FilterProblem(str(error)) from None
    return AuditFilter(
        actor=values.get("audit-actor", "").strip() or None,
        action=values.get("audit-action", "").strip() or None,
        target=user_target(int(target)) if target else None,
        since=moments["audit-since"],
        until=moments["audit-until"],
        text=values.get("audit-text", "").strip() or None,
    )


class AuditScreen(ConsoleScreen):
    """Browse the audit log; see what each event changed."""

    area_title = "Audit"
    CSS_PATH = "audit.tcss"
    AUTO_FOCUS = "#audit-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filters",
            "Filter",
            key_display="/",
            priority=True,
            tooltip="Filter by actor, action, user, time or text",
            id="audit.filter",
        ),
        Binding("j", "jump_to_user", "User", tooltip="Show the event's user on Users (a: back)"),
        Binding("x", "export_csv", "Export", tooltip="Export the filtered view to CSV"),
        Binding("right_square_bracket", "older", "Older", key_display="]", id="audit.older"),
        Binding("left_square_bracket", "newer", "Newer", key_display="[", id="audit.newer"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="audit.reload"),
        Binding("escape", "back", "Back", show=False, id="audit.back"),
    ]

    class PageLoaded(Message):
        def __init__(self, events: list[AuditRecord], filters: AuditFilter, at_start: bool) -> None:
            super().__init__()
            self.events = events
            self.filters = filters
            self.at_start = at_start  # the newest matching event is on this page

    class UserFound(Message):
        def __init__(self, email: str) -> None:
            super().__init__()
            self.email = email

    def __init__(self) -> None:
        super().__init__()
        self.filters = AuditFilter()
        self.events: list[AuditRecord] = []
        self._at_start = True
        self._page_number = 1

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            for field_id, placeholder in FILTER_FIELDS.items():
                yield Input(placeholder=placeholder, id=field_id, compact=True)
        with Horizontal(id="audit-body"):
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
            yield EventChanges(id="audit-detail")
        yield Static(id="audit-position")

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_columns("id", "at", "actor", "action", "target")
        self.query_one("#audit-detail").border_title = "Changes"
        self.query_one(EventChanges).show(None, self.context.display_timezone)
        self.load_page()

    # --- reading -------------------------------------------------------------------------

    @work(exclusive=True, group="audit-page", exit_on_error=False)
    async def load_page(self, *, before_id: int | None = None, after_id: int | None = None) -> None:
        context = self.context
        filters = self.filters
        await context.schema_checked.wait()
        async with context.database.session() as session:
            events = await list_events(
                session, filters, limit=PAGE_SIZE, before_id=before_id, after_id=after_id
            )
            at_start = before_id is None and after_id is None
            if not at_start and events:
                newer = await list_events(session, filters, limit=1, after_id=events[0].id)
                at_start = not newer
        self.post_message(self.PageLoaded(events, filters, at_start))

    def on_audit_screen_page_loaded(self, event: PageLoaded) -> None:
        if event.filters != self.filters:
            return  # a page for filters changed meanwhile
        if not event.events and self.events and not event.at_start:
            self.notify("No more events that way.")
            return
        self.events, self._at_start = event.events, event.at_start
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        zone = self.context.display_timezone
        for row in event.events:
            at = row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(
                str(row.id), at, row.actor, row.action, row.target or "-", key=str(row.id)
            )
        self._show_position()
        self._show_selected()

    def _show_position(self) -> None:
        if not self.events:
            text = "no events" if self.filters == AuditFilter() else "no events match the filters"
        else:
            newest, oldest = self.events[0].id, self.events[-1].id
            where = "newest first" if self._at_start else "[ newer"
            text = f"events {newest} to {oldest} ({where}; ] older)"
        self.query_one("#audit-position", Static).update(text)

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        self.query_one(EventChanges).show(self.selected, self.context.display_timezone)

    @property
    def selected(self) -> AuditRecord | None:
        table = self.query_one("#audit-table", DataTable)
        if not self.events or table.cursor_row >= len(self.events):
            return None
        return self.events[table.cursor_row]

    # --- filters -------------------------------------------------------------------------

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_timer(FILTER_DEBOUNCE_SECONDS, self._apply_filters, name="audit-filter")

    def _apply_filters(self) -> None:
        fields = self.query("#audit-filters Input").results(Input)
        values = {field.id or "": field.value for field in fields}
        try:
            filters = read_filters(values, self.context.clock())
        except FilterProblem as problem:
            self.notify(str(problem), title="Invalid filter", severity="error", markup=False)
            return
        if filters != self.filters:
            self.filters = filters
            self.load_page()

    def open_event(self, event_id: int) -> None:
        """Show `event_id` first (all filters cleared), with the events before it below."""
        for field in self.query("#audit-filters Input").results(Input):
            with field.prevent(Input.Changed):
                field.value = ""
        self.filters = AuditFilter()
        self.load_page(before_id=event_id + 1)
        self.query_one("#audit-table").focus()

    # --- actions -------------------------------------------------------------------------

    def action_focus_filters(self) -> None:
        self.query_one("#audit-actor", Input).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#audit-table").focus()

    def action_reload(self) -> None:
        self.load_page()

    def action_older(self) -> None:
        if self.events:
            self.load_page(before_id=self.events[-1].id)

    def action_newer(self) -> None:
        if self.events and not self._at_start:
            self.load_page(after_id=self.events[0].id)

    def action_export_csv(self) -> None:
        from console.screens.audit_export_dialog import AuditExportDialog

        stamp = self.context.clock().astimezone(self.context.display_timezone)
        default = Path.cwd() / f"audit-{stamp:%Y%m%d-%H%M%S}.csv"
        self.app.push_screen(AuditExportDialog(self.filters, default))

    def action_jump_to_user(self) -> None:
        selected = self.selected
        target = selected.target if selected is not None else ""
        if not target.startswith("user:") or not target[5:].isdigit():
            self.notify("The selected event is not about a user.", severity="warning")
            return
        self.find_user(int(target[5:]))

    @work(exclusive=True, group="audit-user", exit_on_error=False)
    async def find_user(self, user_id: int) -> None:
        context = self.context
        async with context.database.session() as session:
            try:
                user = await users.get_user(session, context.actor, user_id)
            except NotFound:
                self.notify(f"User {user_id} no longer exists.", severity="warning")
                return
        self.post_message(self.UserFound(user.email))

    async def on_audit_screen_user_found(self, event: UserFound) -> None:
        await self.app.switch_mode("users")
        # The Users screen searches as its search field changes, as when typed into.
        self.app.screen.query_one("#search", Input).value = event.email
