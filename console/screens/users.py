"""The Users screen: find accounts among millions and act on them.

The table holds one page at a time (keyset paging through the service layer) and the
position line says where that page sits. Workers do the reading and post messages;
the handlers here own what the screen shows. The write actions live in UserActions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from backend.schemas.user import UserRead
from backend.services import audit, users
from backend.services.audit import AuditFilter, user_target
from backend.services.errors import NotFound
from backend.services.user_search import UserQuery, UserRows, count_users, page_user_rows
from console.screens.user_actions import UserActions
from console.widgets.formatting import TotalKind, count, position
from console.widgets.user_detail import RECENT_EVENTS, AuditLine, UserDetail
from console.widgets.user_filters import UserFilters
from console.widgets.user_table import PageDirection, UserTable

PAGE_SIZE = 50
SEARCH_DEBOUNCE_SECONDS = 0.25
DETAIL_DEBOUNCE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page to show: the first, or the one after/before a cursor."""

    query: UserQuery
    after: str | None = None
    before: str | None = None
    offset: int = 0  # index of the first row shown before this request
    cursor_row: int = 0  # where the cursor goes; -1 is the last row
    delay: float = 0.0  # debounce: a newer request cancels this one while it waits


class UsersScreen(UserActions):
    """Users: a paged table, filters, a detail panel, and the account actions."""

    area_title = "Users"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: "/adam" typed in one burst must land in the search box, not run
        # "a" (Audit) on the table before the focus has moved.
        Binding(
            "slash",
            "focus_search",
            "Search",
            key_display="/",
            priority=True,
            tooltip="Search by email or name",
            id="users.search",
        ),
        Binding("n", "new_user", "New", tooltip="Create a user", id="users.new"),
        Binding("e", "edit_user", "Edit", tooltip="Edit the selected user", id="users.edit"),
        Binding("enter", "open_user", "Open", show=False, id="users.open"),
        Binding(
            "delete",
            "delete_user",
            "Delete",
            key_display="del",
            tooltip="Delete the selected user (type the email to confirm)",
            id="users.delete",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            tooltip="Mark or unmark the row for a bulk action, then move down",
            id="users.mark",
        ),
        Binding(
            "p", "reset_password", "Password", tooltip="Reset the password", id="users.password"
        ),
        Binding(
            "l", "unlock_user", "Unlock", tooltip="Unlock after failed logins", id="users.unlock"
        ),
        Binding(
            "o",
            "force_logout",
            "Logout",
            tooltip="Force logout: every token issued so far stops working",
            id="users.logout",
        ),
        Binding("b", "bulk_action", "Bulk", tooltip="Act on every marked user", id="users.bulk"),
        Binding(
            "x", "export_csv", "Export", tooltip="Export the current view to CSV", id="users.export"
        ),
        Binding("right_square_bracket", "next_page", "Next page", show=False, id="users.next"),
        Binding("left_square_bracket", "previous_page", "Previous page", show=False),
        Binding("ctrl+r", "reload", "Reload", show=False, id="users.reload"),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            tooltip="Close the detail panel, else clear the marks, else clear the filters",
            id="users.back",
        ),
    ]

    class PageLoaded(Message):
        def __init__(self, request: PageRequest, rows: UserRows) -> None:
            super().__init__()
            self.request = request
            self.rows = rows

    class CountLoaded(Message):
        def __init__(self, query: UserQuery, total: int, kind: TotalKind) -> None:
            super().__init__()
            self.query = query
            self.total = total
            self.kind = kind

    class DetailLoaded(Message):
        def __init__(self, user_id: int, user: UserRead | None, events: list[AuditLine]) -> None:
            super().__init__()
            self.user_id = user_id
            self.user = user
            self.events = events

    def __init__(self) -> None:
        super().__init__()
        self.user_query = UserQuery()
        self.window = UserRows(rows=[], before=None, after=None)
        self.shown_request = PageRequest(UserQuery())
        self.first_row = 0
        self.total: tuple[int, TotalKind] | None = None
        self.marked: dict[int, str] = {}
        self.page_loading = True
        self._enabled_state = (False, False)  # (a row to act on, marked rows)
        self._queued_moves = 0  # pages asked for while one was loading (+ next, - back)

    def compose_content(self) -> ComposeResult:
        yield UserFilters(id="filters")
        with Horizontal(id="users-body"):
            yield UserTable(id="users-table")
            yield UserDetail(id="user-detail")
        with Horizontal(id="users-status"):
            yield Static("loading…", id="users-position", markup=False)
            # The footer cannot hold every key at 80 columns: say where they all are.
            yield Static("? keys · ^p actions", id="users-hint")

    def on_mount(self) -> None:
        table = self.query_one(UserTable)
        table.zone = self.context.display_timezone
        self.query_one(UserDetail).zone = self.context.display_timezone
        table.focus()
        self.show(PageRequest(self.user_query))
        self.count_matches(self.user_query)

    @property
    def table(self) -> UserTable:
        return self.query_one(UserTable)

    @property
    def detail_visible(self) -> bool:
        return self.has_class("-wide") or self.has_class("detail-open")

    # --- loading pages ---------------------------------------------------------------

    def show(self, request: PageRequest) -> None:
        """Load `request`'s page into the table (the newest request wins)."""
        self.page_loading = True
        self._show_position()
        self.fetch_page(request)

    @work(exclusive=True, group="users-page", exit_on_error=False)
    async def fetch_page(self, request: PageRequest) -> None:
        if request.delay:
            await asyncio.sleep(request.delay)
        context = self.context
        await context.schema_checked.wait()
        async with context.database.session() as session:
            rows = await page_user_rows(
                session,
                context.actor,
                request.query,
                limit=PAGE_SIZE,
                after=request.after,
                before=request.before,
            )
        self.post_message(self.PageLoaded(request, rows))

    def on_users_screen_page_loaded(self, event: PageLoaded) -> None:
        request, rows = event.request, event.rows
        if request.query != self.user_query:
            return  # the filters changed while this page was on its way
        self.page_loading = False
        if not rows.rows and (request.after or request.before):
            self._queued_moves = 0
            self._show_position()  # nothing beyond this edge after all: keep the window
            return
        self.window, self.shown_request = rows, request
        self.first_row = _offset_of(request, rows)
        table = self.table
        table.now = self.context.clock()
        cursor = request.cursor_row if request.cursor_row >= 0 else len(rows.rows) - 1
        table.show_rows(rows.rows, set(self.marked), cursor_at=cursor)
        self._show_position()
        self._follow_selection()
        self._update_bindings()
        self._take_queued_move()

    @work(exclusive=True, group="users-count", exit_on_error=False)
    async def count_matches(self, query: UserQuery) -> None:
        await self.context.schema_checked.wait()
        async with self.context.database.session() as session:
            total, estimated = await count_users(session, query, self.context.clock())
        if not estimated:
            kind = TotalKind.EXACT
        else:
            kind = TotalKind.AT_LEAST if query.is_filtered else TotalKind.ABOUT
        self.post_message(self.CountLoaded(query, total, kind))

    def on_users_screen_count_loaded(self, event: CountLoaded) -> None:
        if event.query == self.user_query:
            self.total = (event.total, event.kind)
            self._show_position()

    def reload(self, *, count_again: bool = True) -> None:
        """Show the current page again (after a change), keeping the cursor's row index."""
        request = self.shown_request
        cursor = self.table.cursor_row if self.window.rows else 0
        self.show(PageRequest(request.query, request.after, request.before, request.offset, cursor))
        if count_again:
            self.count_matches(self.user_query)

    def _show_position(self) -> None:
        if self.page_loading and not self.window.rows:
            self.query_one("#users-position", Static).update("loading…")
            return
        total, kind = self.total if self.total else (None, TotalKind.EXACT)
        text = position(self.first_row, len(self.window.rows), total, kind)
        if self.page_loading:
            text += " · loading…"
        if self.marked:
            text += f" · {count(len(self.marked))} marked"
        self.query_one("#users-position", Static).update(text)

    # --- filters and paging ----------------------------------------------------------

    def on_user_filters_changed(self, event: UserFilters.Changed) -> None:
        if event.query == self.user_query:
            return
        self.user_query = event.query
        self._queued_moves = 0
        self.total = None
        delay = SEARCH_DEBOUNCE_SECONDS if event.typed else 0.0
        self.show(PageRequest(event.query, delay=delay))
        self.count_matches(event.query)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    def on_user_table_page_requested(self, event: UserTable.PageRequested) -> None:
        if event.direction is PageDirection.NEXT:
            self.action_next_page()
        else:
            self.action_previous_page()

    def action_next_page(self) -> None:
        if self.page_loading:
            self._queued_moves += 1  # a key held down: go on once this page is in
            return
        if self.window.after is None:
            return
        offset = self.first_row + len(self.window.rows)
        self.show(PageRequest(self.user_query, after=self.window.after, offset=offset))

    def action_previous_page(self) -> None:
        if self.page_loading:
            self._queued_moves -= 1
            return
        if self.window.before is None:
            return
        before = self.window.before
        self.show(PageRequest(self.user_query, before=before, offset=self.first_row, cursor_row=-1))

    def _take_queued_move(self) -> None:
        moves, self._queued_moves = self._queued_moves, 0
        if moves > 0:
            self._queued_moves = moves - 1
            self.action_next_page()
        elif moves < 0:
            self._queued_moves = moves + 1
            self.action_previous_page()

    def action_reload(self) -> None:
        self.reload()

    def action_focus_search(self) -> None:
        filters = self.query_one(UserFilters)
        if filters.search_focused:
            raise SkipAction()  # a "/" typed in the search box is part of the search
        filters.focus_search()

    # --- selection, detail, marks ----------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._follow_selection()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_user()

    def action_open_user(self) -> None:
        """Show the detail panel for the selected user."""
        self.add_class("detail-open")
        self._follow_selection()

    def _follow_selection(self) -> None:
        if not self.detail_visible:
            return
        row = self.table.selected
        if row is None:
            self.query_one(UserDetail).show_message("No user selected.")
            return
        self.fetch_detail(row.id)

    @work(exclusive=True, group="users-detail", exit_on_error=False)
    async def fetch_detail(self, user_id: int) -> None:
        await asyncio.sleep(DETAIL_DEBOUNCE_SECONDS)  # let a held arrow key pass by
        context = self.context
        async with context.database.session() as session:
            try:
                user = UserRead.model_validate(
                    await users.get_user(session, context.actor, user_id)
                )
            except NotFound:
                self.post_message(self.DetailLoaded(user_id, None, []))
                return
            found = await audit.list_events(
                session, AuditFilter(target=user_target(user_id)), limit=RECENT_EVENTS
            )
        self.post_message(self.DetailLoaded(user_id, user, [AuditLine.of(e) for e in found]))

    def on_users_screen_detail_loaded(self, event: DetailLoaded) -> None:
        detail = self.query_one(UserDetail)
        detail.now = self.context.clock()
        if event.user is None:
            detail.show_message("This user no longer exists.")
        else:
            detail.show_user(event.user, event.events)

    def action_toggle_mark(self) -> None:
        row = self.table.selected
        if row is None:
            return
        marked = row.id not in self.marked
        if marked:
            self.marked[row.id] = row.email
        else:
            del self.marked[row.id]
        self.table.set_marked(row.id, marked)
        self._show_position()
        self._update_bindings()
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)  # marking a run: space, space…

    def clear_marks(self, user_ids: set[int] | None = None) -> None:
        """Unmark `user_ids` (default: every marked user)."""
        for user_id in list(self.marked) if user_ids is None else user_ids:
            if self.marked.pop(user_id, None) is not None:
                self.table.set_marked(user_id, False)
        self._show_position()
        self._update_bindings()

    def _update_bindings(self) -> None:
        # Re-rendering the footer is costly: only when what is enabled really changes.
        enabled = (bool(self.window.rows), bool(self.marked))
        if enabled != self._enabled_state:
            self._enabled_state = enabled
            self.refresh_bindings()

    def action_back(self) -> None:
        """esc: close the detail panel, then clear marks, then clear the filters."""
        if self.has_class("detail-open") and not self.has_class("-wide"):
            self.remove_class("detail-open")
        elif self.marked:
            self.notify(f"Cleared {count(len(self.marked))} marks.")
            self.clear_marks()
        elif not self.query_one(UserFilters).clear():
            self.table.focus()


def _offset_of(request: PageRequest, rows: UserRows) -> int:
    if request.before is not None:
        # Paging back: the rows end just before the old window; at the start, it is 0.
        return 0 if rows.before is None else max(request.offset - len(rows.rows), 0)
    return request.offset
