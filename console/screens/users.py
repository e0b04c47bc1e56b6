"""The Users screen: find accounts among millions and act on them.

The table holds one page at a time (keyset paging through the service layer) and the
position line says where that page sits; UserPager keeps that state. Workers do the
reading and post messages; the handlers here own what the screen shows. The write
actions live in UserActions.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from backend.schemas.user import UserRead
from backend.services import audit, users
from backend.services.audit import AuditFilter, user_target
from backend.services.errors import NotFound
from backend.services.user_search import UserQuery
from console.screens.user_actions import UserActions
from console.screens.user_paging import Page, PageRequest, UserPager, read_page, read_total
from console.widgets.formatting import TotalKind, count
from console.widgets.user_detail import RECENT_EVENTS, AuditLine, UserDetail
from console.widgets.user_filters import UserFilters
from console.widgets.user_table import PageDirection, UserTable

DETAIL_DEBOUNCE_SECONDS = 0.1


class UsersScreen(UserActions):
    """Users: a paged table, filters, a detail panel, and the account actions."""

    area_title = "Users"
    # Focused as the screen is built, not from on_mount: keys typed while the console
    # starts would otherwise land in the search box, the first focusable widget.
    AUTO_FOCUS = "#users-table"
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
            tooltip="Leave the search box, else close the detail panel, else clear the marks, "
            "else clear the filters",
            id="users.back",
            # Priority: in "esc ?" typed in one burst the "?" must find the focus already
            # out of the search box (no widget on this screen has an esc of its own).
            priority=True,
        ),
    ]

    class PageLoaded(Message):
        def __init__(self, page: Page, anchor: UserRead | None) -> None:
            super().__init__()
            self.page = page
            self.anchor = anchor

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
        self.pager = UserPager()
        # Held rather than queried: the key bar asks check_action about every key after
        # each keypress, and a DOM query per row action cost ~5 ms each time.
        self._table = UserTable(id="users-table")
        self.marked: dict[int, str] = {}
        self._enabled_state = (False, False)  # (a row to act on, marked rows)

    def compose_content(self) -> ComposeResult:
        yield UserFilters(id="filters")
        with Horizontal(id="users-body"):
            yield self._table
            yield UserDetail(id="user-detail")
        with Horizontal(id="users-status"):
            yield Static("loading…", id="users-position", markup=False)
            # The key bar cannot hold every key at 80 columns: say where they all are.
            yield Static("? keys · ^p actions", id="users-hint")

    def on_mount(self) -> None:
        table = self.query_one(UserTable)
        table.zone = self.context.display_timezone
        self.query_one(UserDetail).zone = self.context.display_timezone
        self.show(PageRequest(self.pager.query))
        self.count_matches(self.pager.query)

    @property
    def table(self) -> UserTable:
        return self._table

    @property
    def detail_visible(self) -> bool:
        return self.has_class("-wide") or self.has_class("detail-open")

    # --- loading pages ---------------------------------------------------------------

    def show(self, request: PageRequest, *, anchor: UserRead | None = None) -> None:
        """Load `request`'s page into the table (the newest request wins).

        With an `anchor`, the page that starts with that user, when the listing has them.
        """
        self.pager.loading = True
        self._show_position()
        self.fetch_page(request, anchor)

    @work(exclusive=True, group="users-page", exit_on_error=False)
    async def fetch_page(self, request: PageRequest, anchor: UserRead | None) -> None:
        if request.delay:
            await asyncio.sleep(request.delay)
        context = self.context
        await context.schema_checked.wait()
        async with context.database.session() as session:
            anchor_id = None if anchor is None else anchor.id
            page = await read_page(session, context.actor, request, anchor=anchor_id)
        self.post_message(self.PageLoaded(page, anchor))

    def on_users_screen_page_loaded(self, event: PageLoaded) -> None:
        page = event.page
        if not self.pager.accept(page):
            self._show_position()
            return
        table = self.table
        table.now = self.context.clock()
        rows = page.rows.rows
        cursor = page.request.cursor_row if page.request.cursor_row >= 0 else len(rows) - 1
        table.show_rows(rows, set(self.marked), cursor_at=cursor)
        if event.anchor is not None:
            self._point_at_anchor(event.anchor, page)
        self._show_position()
        self._follow_selection()
        self._update_bindings()
        if request := self.pager.queued_move():
            self.show(request)

    def _point_at_anchor(self, anchor: UserRead, page: Page) -> None:
        if page.starts_with(anchor.id):
            self.add_class("detail-open")  # the cursor is on them: show them whole
        else:
            self.notify(
                f"{anchor.email} is not shown: the search or filters leave them out.",
                markup=False,
            )

    @work(exclusive=True, group="users-count", exit_on_error=False)
    async def count_matches(self, query: UserQuery) -> None:
        await self.context.schema_checked.wait()
        async with self.context.database.session() as session:
            total, kind = await read_total(session, query, self.context.clock())
        self.post_message(self.CountLoaded(query, total, kind))

    def on_users_screen_count_loaded(self, event: CountLoaded) -> None:
        if self.pager.accept_total(event.query, event.total, event.kind):
            self._show_position()

    def reload(self, *, count_again: bool = True) -> None:
        """Show the current page again (after a change), keeping the cursor's row index."""
        self.show(self.pager.reload(self._cursor_row()))
        if count_again:
            self.count_matches(self.pager.query)

    def show_created(self, user: UserRead) -> None:
        """Show the page that starts with a user just created, the cursor on them."""
        self.show(self.pager.reload(self._cursor_row()), anchor=user)
        self.count_matches(self.pager.query)

    def _cursor_row(self) -> int:
        return self.table.cursor_row if self.pager.window.rows else 0

    def _show_position(self) -> None:
        text = self.pager.position_text(len(self.marked))
        self.query_one("#users-position", Static).update(text)

    # --- filters and paging ----------------------------------------------------------

    def on_user_filters_changed(self, event: UserFilters.Changed) -> None:
        request = self.pager.change_query(event.query, typed=event.typed)
        if request is not None:
            self.show(request)
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
        if request := self.pager.next_page():
            self.show(request)

    def action_previous_page(self) -> None:
        if request := self.pager.previous_page():
            self.show(request)

    def action_reload(self) -> None:
        self.reload()

    def action_focus_search(self) -> None:
        filters = self.query_one(UserFilters)
        if filters.search_focused:
            raise SkipAction()  # a "/" typed in the search box is part of the search
        filters.focus_search()

    # --- selection, detail, marks ----------------------------------------------------

    def on_user_table_row_highlighted(self, event: UserTable.RowHighlighted) -> None:
        self._follow_selection()

    def on_user_table_row_selected(self, event: UserTable.RowSelected) -> None:
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
        # Each refresh re-asks check_action for every key: only when what is enabled changes.
        enabled = (bool(self.pager.window.rows), bool(self.marked))
        if enabled != self._enabled_state:
            self._enabled_state = enabled
            self.refresh_bindings()

    def action_back(self) -> None:
        """esc: leave the search box (the search stays: a second esc clears it), else
        close the detail panel, then clear marks, then clear the filters."""
        filters = self.query_one(UserFilters)
        if filters.search_focused:
            self.set_focus(self.table)  # at once, not in Widget.focus's turn
        elif self.has_class("detail-open") and not self.has_class("-wide"):
            self.remove_class("detail-open")
        elif self.marked:
            self.notify(f"Cleared {count(len(self.marked))} marks.")
            self.clear_marks()
        elif not filters.clear():
            self.table.focus()
