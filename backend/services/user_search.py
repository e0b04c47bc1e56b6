"""Searching and paging through users without ever loading or counting the whole table.

Paging is keyset ("after this sort value and id"), so page 20,000 costs what page 1
costs, in either direction. Totals are exact up to COUNT_CAP matches and estimated
beyond that.

Search plans and filters live in user_filters; the indexes they rely on come from
migration 0002.

Last login is nullable. Its order is a two-phase walk: accounts that have logged in,
by (last_login_at, id), then the never-logged-in ones by id, in both directions, so
each phase runs on an index and "never" always sorts last.

A page statement is built once per shape (sort, phase, direction, which filters) with
bound parameters and reused: building and cache-keying a fresh statement would cost
more than PostgreSQL takes to answer it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backend.database import utcnow
from backend.models import Role, User
from backend.schemas.user import UserPage, UserRead
from backend.services import driver_sql, permissions, user_cursor
from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from backend.services.user_filters import Filters

COUNT_CAP = 10_000
MAX_PAGE_SIZE = 500
# Columns the API's list shows: selecting them (not whole ORM objects) keeps paging cheap.
LIST_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.is_active,
    User.version,
    User.created_at,
    User.updated_at,
    User.last_login_at,
    User.locked_until,
    User.failed_login_count,
    User.tokens_valid_after,
)
_LIST_KEYS = tuple(column.key for column in LIST_COLUMNS)
# The narrower set the console's table shows.
ROW_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.is_active,
    User.locked_until,
    User.last_login_at,
    User.created_at,
)


class UserSort(StrEnum):
    EMAIL = "email"
    CREATED = "created"
    LAST_LOGIN = "last_login"


class UserRow(NamedTuple):
    """One line of a user table: the columns in ROW_COLUMNS, in that order."""

    id: int
    email: str
    full_name: str
    role: str
    is_active: bool
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class UserQuery:
    """Filters and order for a user listing; None means "any"."""

    search: str | None = None
    role: Role | None = None
    is_active: bool | None = None
    locked: bool | None = None
    sort: UserSort = UserSort.EMAIL
    descending: bool = False

    def __post_init__(self) -> None:
        # PostgreSQL refuses NUL in a query parameter, and no stored name or email has one.
        if self.search is not None and "\x00" in self.search:
            raise InvalidInput("The search must not contain NUL characters.")

    @property
    def search_term(self) -> str:
        """The search as matched: trimmed and lower-cased ("" for none)."""
        return (self.search or "").strip().lower()

    @property
    def is_filtered(self) -> bool:
        return bool(self.search_term) or any(
            value is not None for value in (self.role, self.is_active, self.locked)
        )


@dataclass(frozen=True, slots=True)
class UserRows:
    """A window of table rows and the cursors that lead beyond either end of it."""

    rows: list[UserRow]
    before: str | None  # rows preceding rows[0] (None: nothing precedes them)
    after: str | None  # rows following rows[-1] (None: nothing follows them)


async def list_users(
    session: AsyncSession,
    actor: Actor,
    query: UserQuery | None = None,
    *,
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = True,
) -> UserPage:
    """One page of users in `query.sort` order, and the cursor of the next page.

    Raises PermissionDenied (not staff), InvalidInput (bad limit or cursor).
    """
    permissions.require_staff(actor)
    query = query or UserQuery()
    _check_limit(limit)
    now = utcnow()
    position = _position(decode_cursor(cursor, query.sort), query.sort) if cursor else None
    found = await _walk(session, query, position, limit, now, backward=False, narrow=False)
    page = found[:limit]
    items = [UserRead.model_validate(dict(zip(_LIST_KEYS, row, strict=True))) for row in page]
    next_cursor = _cursor_of(query.sort, items[-1]) if len(found) > limit else None
    total, estimated = await count_users(session, query, now) if with_total else (None, False)
    return UserPage(items=items, next_cursor=next_cursor, total=total, total_is_estimate=estimated)


async def page_user_rows(
    session: AsyncSession,
    actor: Actor,
    query: UserQuery | None = None,
    *,
    limit: int = 50,
    after: str | None = None,
    before: str | None = None,
) -> UserRows:
    """Up to `limit` table rows after the `after` cursor, before the `before` cursor, or first.

    The console's pager: rows hold only ROW_COLUMNS, and the result carries cursors
    for both neighbouring windows. Raises PermissionDenied, InvalidInput.
    """
    permissions.require_staff(actor)
    query = query or UserQuery()
    _check_limit(limit)
    if after is not None and before is not None:
        raise InvalidInput("Page either after or before a cursor, not both.")
    backward = before is not None
    anchor = after if after is not None else before
    position = _position(decode_cursor(anchor, query.sort), query.sort) if anchor else None
    found = await _walk(session, query, position, limit, utcnow(), backward=backward, narrow=True)
    more = len(found) > limit
    window = found[:limit]
    if not window:
        return UserRows(rows=[], before=None, after=None)
    if backward:
        window.reverse()
    rows = [UserRow._make(row) for row in window]
    first, last = _cursor_of(query.sort, rows[0]), _cursor_of(query.sort, rows[-1])
    if backward:
        return UserRows(rows=rows, before=first if more else None, after=last)
    return UserRows(rows=rows, before=first if anchor else None, after=last if more else None)


@dataclass(frozen=True, slots=True)
class UserPlace:
    """Where one user sits in a listing."""

    after: str | None  # the page after this cursor starts with the user (None: the first page)
    preceding: int  # how many rows come before the user
    preceding_is_estimate: bool  # counting stopped at COUNT_CAP: at least `preceding`


async def locate_user(
    session: AsyncSession, actor: Actor, query: UserQuery, user_id: int
) -> UserPlace | None:
    """Where user `user_id` sits in `query`'s order (the console shows a new user so).

    None when the listing leaves that user out (its filters, or no such user).
    Raises PermissionDenied.
    """
    permissions.require_staff(actor)
    now = utcnow()
    filters = _filters(query)
    parameters = filters.parameters(query.search_term, query.role, query.is_active, now)
    sort_value = getattr(User, _SORT_VALUE_KEYS[query.sort])
    found = await session.execute(
        select(sort_value, User.id).where(User.id == user_id, *filters.conditions()), parameters
    )
    row = found.first()
    if row is None:
        return None
    position = _position((row[0], user_id), query.sort)
    previous = await _walk(session, query, position, 1, now, backward=True, narrow=True)
    preceding, estimated = await _count_preceding(session, query, position, parameters)
    after = _cursor_of(query.sort, UserRow._make(previous[0])) if previous else None
    return UserPlace(after, preceding, estimated)


async def _count_preceding(
    session: AsyncSession, query: UserQuery, position: _Position, parameters: dict[str, Any]
) -> tuple[int, bool]:
    """(count, is_estimate) of the rows of `query` before `position`, capped like count_users."""
    segment_index, key = position
    earlier: list[ColumnElement[bool]] = []
    for index, segment in enumerate(_SEGMENTS[query.sort][: segment_index + 1]):
        # Whole phases before the position's own; within it, the keys on the near side.
        parts = [] if segment.where is None else [segment.where]
        if index == segment_index:
            parts.append(_beyond(segment.key, not query.descending))
        earlier.append(and_(*parts))
    matching = (
        select(User.id)
        .where(*_filters(query).conditions(), or_(*earlier))
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    values = {**parameters, **{f"key_{i}": value for i, value in enumerate(key)}}
    counted = int(await session.scalar(select(func.count()).select_from(matching), values) or 0)
    return min(counted, COUNT_CAP), counted > COUNT_CAP


async def count_users(
    session: AsyncSession, query: UserQuery, now: dt.datetime | None = None
) -> tuple[int, bool]:
    """(count, is_estimate): exact up to COUNT_CAP matches, an estimate beyond that.

    Unfiltered on PostgreSQL, a large table is never scanned: the planner's row
    estimate answers. Filtered beyond COUNT_CAP, the answer is COUNT_CAP (at least).
    """
    is_postgresql = session.get_bind().dialect.name == "postgresql"
    if is_postgresql and not query.is_filtered:
        estimate = await _pg_table_estimate(session)
        if estimate > 2 * COUNT_CAP:
            return estimate, True
    filters = _filters(query)
    matching = select(User.id).where(*filters.conditions()).limit(COUNT_CAP + 1).subquery()
    parameters = filters.parameters(query.search_term, query.role, query.is_active, now or utcnow())
    exact = int(await session.scalar(select(func.count()).select_from(matching), parameters) or 0)
    if exact <= COUNT_CAP:
        return exact, False
    if is_postgresql and not query.is_filtered:
        return max(await _pg_table_estimate(session), COUNT_CAP), True
    return COUNT_CAP, True


async def _pg_table_estimate(session: AsyncSession) -> int:
    # The planner's row estimate, kept fresh by autovacuum; -1 until first analysed.
    estimate = await session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass")
    )
    return int(estimate or 0)


def _filters(query: UserQuery) -> Filters:
    return Filters.of(query.search_term, query.role, query.is_active, query.locked)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}.")


# --- keyset walk ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    """One phase of a sort order: the rows it covers and the (unique) key that orders them."""

    where: ColumnElement[bool] | None
    key: tuple[InstrumentedAttribute[Any], ...]


_SEGMENTS: dict[UserSort, tuple[_Segment, ...]] = {
    # Emails are unique: no id tie-breaker, so the unique index alone gives the order.
    UserSort.EMAIL: (_Segment(None, (User.email,)),),
    UserSort.CREATED: (_Segment(None, (User.created_at, User.id)),),
    UserSort.LAST_LOGIN: (
        _Segment(User.last_login_at.is_not(None), (User.last_login_at, User.id)),
        _Segment(User.last_login_at.is_(None), (User.id,)),
    ),
}
_SORT_VALUE_KEYS = {
    UserSort.EMAIL: "email",
    UserSort.CREATED: "created_at",
    UserSort.LAST_LOGIN: "last_login_at",
}
# (segment index, key values): where a row sits in its sort order.
_Position = tuple[int, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class _PageShape:
    filters: Filters
    sort: UserSort
    segment: int
    descending: bool
    positioned: bool
    narrow: bool  # ROW_COLUMNS rather than LIST_COLUMNS


@lru_cache(maxsize=512)
def _page_statement(shape: _PageShape) -> Select[Any]:
    segment = _SEGMENTS[shape.sort][shape.segment]
    statement: Select[Any] = select(*(ROW_COLUMNS if shape.narrow else LIST_COLUMNS))
    statement = statement.where(*shape.filters.conditions())
    if segment.where is not None:
        statement = statement.where(segment.where)
    if shape.positioned:
        statement = statement.where(_beyond(segment.key, shape.descending))
    keys = [column.desc() if shape.descending else column for column in segment.key]
    return statement.order_by(*keys).limit(bindparam("limit", type_=Integer()))


def _beyond(key: Sequence[InstrumentedAttribute[Any]], descending: bool) -> ColumnElement[bool]:
    bounds = [bindparam(f"key_{i}", type_=column.type) for i, column in enumerate(key)]
    left = key[0] if len(key) == 1 else tuple_(*key)
    right = bounds[0] if len(bounds) == 1 else tuple_(*bounds)
    return left < right if descending else left > right


async def _walk(
    session: AsyncSession,
    query: UserQuery,
    position: _Position | None,
    limit: int,
    now: dt.datetime,
    *,
    backward: bool,
    narrow: bool,
) -> list[Sequence[Any]]:
    """Up to limit + 1 rows from `position` on (or from the start).

    Backward walks return rows nearest-first; the caller reverses them.
    """
    segments = range(len(_SEGMENTS[query.sort]))
    order = list(reversed(segments) if backward else segments)
    if position is not None:
        order = order[order.index(position[0]) :]
    filters = _filters(query)
    parameters = filters.parameters(query.search_term, query.role, query.is_active, now)
    # On the session's connection, without the ORM (it adds nothing to plain rows), and
    # on asyncpg straight through the driver: SQLAlchemy's own work per execution cost
    # more than the query (driver_sql).
    connection = await session.connection()
    found: list[Sequence[Any]] = []
    for index in order:
        positioned = position is not None and index == position[0]
        shape = _PageShape(
            filters, query.sort, index, query.descending != backward, positioned, narrow
        )
        values = {**parameters, "limit": limit + 1 - len(found)}
        if positioned and position is not None:
            values.update({f"key_{i}": value for i, value in enumerate(position[1])})
        found.extend(await driver_sql.fetch_rows(connection, _page_statement(shape), values))
        if len(found) > limit:
            break
    return found


def _cursor_of(sort: UserSort, row: Any) -> str:
    # A never-logged-in row's cursor carries None: _position maps it to that phase.
    return encode_cursor(sort, getattr(row, _SORT_VALUE_KEYS[sort]), row.id)


def _position(decoded: tuple[Any, int], sort: UserSort) -> _Position:
    value, last_id = decoded
    segment = 1 if sort is UserSort.LAST_LOGIN and value is None else 0
    key = _SEGMENTS[sort][segment].key
    return segment, tuple(last_id if column is User.id else value for column in key)


def encode_cursor(sort: UserSort, value: Any, last_id: int) -> str:
    """An opaque token for "the rows after (value, id)" in `sort` order."""
    return user_cursor.encode_cursor(sort.value, value, last_id)


def decode_cursor(cursor: str, sort: UserSort) -> tuple[Any, int]:
    """Raises InvalidInput when the cursor is malformed or from another sort order."""
    try:
        return user_cursor.decode_cursor(cursor, sort.value)
    except user_cursor.CursorError as error:
        raise InvalidInput(str(error)) from None
