"""Where the Users table is in its listing: the page shown, the page a move asks for.

UserPager is the Users screen's paging state with no I/O and no widgets: the screen
asks it which page a key or a filter change wants, hands it each page that arrives,
and shows its position line. read_page and read_total do the reading, through the
service layer, inside the screen's workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.services.actor import Actor
from backend.services.user_search import (
    UserQuery,
    UserRows,
    count_users,
    locate_user,
    page_user_rows,
)
from console.widgets.formatting import TotalKind, count, position

PAGE_SIZE = 50
SEARCH_DEBOUNCE_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page to show: the first, or the one after/before a cursor."""

    query: UserQuery
    after: str | None = None
    before: str | None = None
    offset: int = 0  # index of the first row shown before this request
    offset_is_minimum: bool = False  # counting stopped: the index is at least `offset`
    cursor_row: int = 0  # where the cursor goes; -1 is the last row
    delay: float = 0.0  # debounce: a newer request cancels this one while it waits


@dataclass(frozen=True, slots=True)
class Page:
    """The rows read for a request, and the index of the first one in the listing."""

    request: PageRequest
    rows: UserRows
    first_row: int
    first_row_is_minimum: bool = False

    def starts_with(self, user_id: int) -> bool:
        return bool(self.rows.rows) and self.rows.rows[0].id == user_id


async def read_page(
    session: AsyncSession, actor: Actor, request: PageRequest, *, anchor: int | None = None
) -> Page:
    """The page `request` asks for, or, given an `anchor` user the listing has, the page
    that starts with that user (the request then becomes the one that reads that page).
    """
    if anchor is not None:
        place = await locate_user(session, actor, request.query, anchor)
        if place is not None:
            request = PageRequest(
                request.query,
                after=place.after,
                offset=place.preceding,
                offset_is_minimum=place.preceding_is_estimate,
            )
    rows = await page_user_rows(
        session, actor, request.query, limit=PAGE_SIZE, after=request.after, before=request.before
    )
    return Page(request, rows, *_first_row(request, rows))


def _first_row(request: PageRequest, rows: UserRows) -> tuple[int, bool]:
    """(index of rows[0], whether that index is only a lower bound)."""
    if request.before is None:
        return request.offset, request.offset_is_minimum
    if rows.before is None:
        return 0, False  # paged back to the start: the index is sure again
    # Paging back: the rows end just before the old window.
    return max(request.offset - len(rows.rows), 0), request.offset_is_minimum


async def read_total(
    session: AsyncSession, query: UserQuery, now: dt.datetime
) -> tuple[int, TotalKind]:
    """How many users `query` matches, and how sure that number is."""
    total, estimated = await count_users(session, query, now)
    if not estimated:
        return total, TotalKind.EXACT
    return total, TotalKind.AT_LEAST if query.is_filtered else TotalKind.ABOUT


class UserPager:
    """The table's window on the listing, where it sits, and which page each move asks for."""

    def __init__(self) -> None:
        self.query = UserQuery()
        self.shown = Page(PageRequest(self.query), UserRows(rows=[], before=None, after=None), 0)
        self.total: tuple[int, TotalKind] | None = None
        self.loading = True
        self._queued_moves = 0  # pages asked for while one was loading (+ next, - back)

    @property
    def window(self) -> UserRows:
        return self.shown.rows

    def change_query(self, query: UserQuery, *, typed: bool) -> PageRequest | None:
        """The first page of `query` (None: it is the query shown already)."""
        if query == self.query:
            return None
        self.query = query
        self._queued_moves = 0
        self.total = None
        return PageRequest(query, delay=SEARCH_DEBOUNCE_SECONDS if typed else 0.0)

    def accept(self, page: Page) -> bool:
        """Take a page that arrived; False when the window stays as it was."""
        request = page.request
        if request.query != self.query:
            return False  # the filters changed while this page was on its way
        self.loading = False
        if not page.rows.rows and (request.after or request.before):
            self._queued_moves = 0
            return False  # nothing beyond this edge after all: keep the window
        self.shown = page
        return True

    def accept_total(self, query: UserQuery, total: int, kind: TotalKind) -> bool:
        """Take a count that arrived; False when it is for another query."""
        if query != self.query:
            return False
        self.total = (total, kind)
        return True

    def next_page(self) -> PageRequest | None:
        """The page after the window (None: there is none, or it waits for the loading one)."""
        if self.loading:
            self._queued_moves += 1  # a key held down: go on once this page is in
            return None
        if self.window.after is None:
            return None
        shown = self.shown
        return PageRequest(
            self.query,
            after=self.window.after,
            offset=shown.first_row + len(self.window.rows),
            offset_is_minimum=shown.first_row_is_minimum,
        )

    def previous_page(self) -> PageRequest | None:
        """The page before the window, its cursor on the last row (None as for next_page)."""
        if self.loading:
            self._queued_moves -= 1
            return None
        if self.window.before is None:
            return None
        shown = self.shown
        return PageRequest(
            self.query,
            before=self.window.before,
            offset=shown.first_row,
            offset_is_minimum=shown.first_row_is_minimum,
            cursor_row=-1,
        )

    def queued_move(self) -> PageRequest | None:
        """The page a key pressed while loading asked for, once that page is in."""
        moves, self._queued_moves = self._queued_moves, 0
        if moves > 0:
            self._queued_moves = moves - 1
            return self.next_page()
        if moves < 0:
            self._queued_moves = moves + 1
            return self.previous_page()
        return None

    def reload(self, cursor_row: int) -> PageRequest:
        """The shown page read again (after a change), the cursor on `cursor_row`."""
        shown = self.shown.request
        return PageRequest(
            shown.query,
            shown.after,
            shown.before,
            shown.offset,
            shown.offset_is_minimum,
            cursor_row,
        )

    def position_text(self, marked: int) -> str:
        """The status line: which rows of how many, loading, how many marked."""
        if self.loading and not self.window.rows:
            return "loading…"
        total, kind = self.total if self.total else (None, TotalKind.EXACT)
        shown = self.shown
        text = position(
            shown.first_row,
            len(self.window.rows),
            total,
            kind,
            first_at_least=shown.first_row_is_minimum,
        )
        if self.loading:
            text += " · loading…"
        if marked:
            text += f" · {count(marked)} marked"
        return text
