"""backend.services.user_search: keyset paging in every order and direction, search, counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from conftest import UserFactory
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Role, User
from backend.services import user_search
from backend.services.actor import Actor
from backend.services.errors import InvalidInput, PermissionDenied
from backend.services.user_filters import SearchPlan, search_plan
from backend.services.user_search import (
    COUNT_CAP,
    UserQuery,
    UserRow,
    UserSort,
    count_users,
    locate_user,
    page_user_rows,
)

CONSOLE = Actor.console("tester")
BASE = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
NAMES = ["Maria Garcia", "Liam Smith", "Ana Smithers", "Kofi Okafor", "Mia Wong", "Noah Lee"]


async def make_population(session: AsyncSession, make_user: UserFactory, size: int = 23) -> None:
    """`size` users with distinct created times, a third never logged in, ties on last login."""
    for number in range(size):
        user = await make_user(
            Role.SUPPORT if number % 7 == 0 else Role.USER,
            email=f"u{number:02d}.{NAMES[number % len(NAMES)].split()[1].lower()}@example.com",
            full_name=NAMES[number % len(NAMES)],
        )
        # Two users share each last-login moment: the id must break the tie.
        last_login = None if number % 3 == 0 else BASE + dt.timedelta(hours=number // 2)
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                created_at=BASE - dt.timedelta(days=number * 5 % size),
                last_login_at=last_login,
                is_active=number % 4 != 0,
                locked_until=BASE + dt.timedelta(days=3650) if number % 5 == 0 else None,
            )
        )
    await session.commit()


def expected_order(rows: list[UserRow], query: UserQuery) -> list[int]:
    """The order the service promises, computed in Python from the whole table."""
    keys: dict[UserSort, Callable[[UserRow], tuple[object, ...]]] = {
        UserSort.EMAIL: lambda row: (row.email,),
        UserSort.CREATED: lambda row: (row.created_at, row.id),
        UserSort.LAST_LOGIN: lambda row: (row.last_login_at or BASE, row.id),
    }
    key = keys[query.sort]
    if query.sort is UserSort.LAST_LOGIN:
        logged_in = sorted((r for r in rows if r.last_login_at), key=key, reverse=query.descending)
        never = sorted((r for r in rows if not r.last_login_at), key=key, reverse=query.descending)
        return [row.id for row in logged_in + never]
    return [row.id for row in sorted(rows, key=key, reverse=query.descending)]


async def walk_forward(session: AsyncSession, query: UserQuery, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    after: str | None = None
    while True:
        page = await page_user_rows(session, CONSOLE, query, limit=limit, after=after)
        pages.append([row.id for row in page.rows])
        if page.after is None:
            return pages
        after = page.after


async def all_rows(session: AsyncSession) -> list[UserRow]:
    page = await page_user_rows(session, CONSOLE, UserQuery(), limit=500)
    return page.rows


ORDERS = [
    UserQuery(sort=sort, descending=descending) for sort in UserSort for descending in (False, True)
]


def order_id(query: UserQuery) -> str:
    return f"{query.sort}-{'desc' if query.descending else 'asc'}"


@pytest.mark.parametrize("query", ORDERS, ids=order_id)
async def test_paging_forward_visits_every_user_once_in_order(
    session: AsyncSession, make_user: UserFactory, query: UserQuery
) -> None:
    await make_population(session, make_user)
    pages = await walk_forward(session, query, limit=4)
    assert [user_id for page in pages for user_id in page] == expected_order(
        await all_rows(session), query
    )
    assert all(len(page) == 4 for page in pages[:-1])


@pytest.mark.parametrize("query", ORDERS, ids=order_id)
async def test_paging_backward_returns_the_same_windows(
    session: AsyncSession, make_user: UserFactory, query: UserQuery
) -> None:
    await make_population(session, make_user)
    forward = await walk_forward(session, query, limit=5)
    last = await page_user_rows(session, CONSOLE, query, limit=5)
    while last.after is not None:
        last = await page_user_rows(session, CONSOLE, query, limit=5, after=last.after)
    backward = [[row.id for row in last.rows]]
    before = last.before
    while before is not None:
        page = await page_user_rows(session, CONSOLE, query, limit=5, before=before)
        backward.insert(0, [row.id for row in page.rows])
        before = page.before
    flat = [user_id for page in backward for user_id in page]
    assert flat == [user_id for page in forward for user_id in page]
    # The first window reached backwards may be short; every other one is whole.
    assert all(len(page) == 5 for page in backward[1:-1])


@pytest.mark.parametrize("query", ORDERS, ids=order_id)
async def test_every_user_can_be_located_and_their_page_starts_with_them(
    session: AsyncSession, make_user: UserFactory, query: UserQuery
) -> None:
    await make_population(session, make_user)
    order = expected_order(await all_rows(session), query)
    for index, user_id in enumerate(order):
        place = await locate_user(session, CONSOLE, query, user_id)
        assert place is not None
        assert (place.preceding, place.preceding_is_estimate) == (index, False)
        assert (place.after is None) is (index == 0)
        page = await page_user_rows(session, CONSOLE, query, limit=4, after=place.after)
        assert [row.id for row in page.rows] == order[index : index + 4]


async def test_a_user_the_filters_leave_out_has_no_place(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.SUPPORT, email="s@example.com")
    user = await make_user(email="u@example.com")
    assert await locate_user(session, CONSOLE, UserQuery(role=Role.SUPPORT), user.id) is None
    assert await locate_user(session, CONSOLE, UserQuery(), 10**9) is None
    with pytest.raises(PermissionDenied):
        await locate_user(session, Actor.api_user(user.id, Role.USER), UserQuery(), user.id)


async def test_the_rows_before_a_user_are_counted_up_to_the_cap(
    session: AsyncSession, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        last = await make_user(email=f"{name}@example.com")
    monkeypatch.setattr(user_search, "COUNT_CAP", 1)
    place = await locate_user(session, CONSOLE, UserQuery(), last.id)
    assert place is not None
    assert (place.preceding, place.preceding_is_estimate) == (1, True)  # at least one


async def test_never_logged_in_users_sort_last_in_both_directions(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user)
    for descending in (False, True):
        query = UserQuery(sort=UserSort.LAST_LOGIN, descending=descending)
        rows = (await page_user_rows(session, CONSOLE, query, limit=500)).rows
        logins = [row.last_login_at for row in rows]
        first_never = logins.index(None)
        assert all(value is None for value in logins[first_never:])
        assert all(value is not None for value in logins[:first_never])


async def test_first_page_has_no_before_cursor_and_last_page_no_after_cursor(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=6)
    first = await page_user_rows(session, CONSOLE, UserQuery(), limit=4)
    assert first.before is None
    assert first.after is not None
    second = await page_user_rows(session, CONSOLE, UserQuery(), limit=4, after=first.after)
    assert [len(first.rows), len(second.rows)] == [4, 2]
    assert second.after is None
    assert second.before is not None


@pytest.mark.parametrize(
    ("term", "plan"),
    [
        ("", SearchPlan.NONE),
        ("m", SearchPlan.PREFIX_RANGE),
        ("u1", SearchPlan.PREFIX_RANGE),
        ("mz", SearchPlan.PREFIX),
        ("a9", SearchPlan.PREFIX),
        ("_", SearchPlan.PREFIX),
        ("smi", SearchPlan.SUBSTRING),
    ],
)
def test_search_plan_by_term(term: str, plan: SearchPlan) -> None:
    assert search_plan(term) is plan


async def test_search_from_three_characters_matches_anywhere_in_email_or_name(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=12)
    rows = (await page_user_rows(session, CONSOLE, UserQuery(search=" SMITH "), limit=50)).rows
    assert {row.full_name for row in rows} == {"Liam Smith", "Ana Smithers"}
    by_email = (await page_user_rows(session, CONSOLE, UserQuery(search="okafor@"), limit=50)).rows
    assert {row.full_name for row in by_email} == {"Kofi Okafor"}


async def test_short_search_matches_the_start_of_the_email_only(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=12)
    rows = (await page_user_rows(session, CONSOLE, UserQuery(search="u1"), limit=50)).rows
    assert sorted(row.email[:3] for row in rows) == ["u10", "u11"]
    # "Mi" starts a name (Mia Wong) but no email: short terms do not look at names.
    assert (await page_user_rows(session, CONSOLE, UserQuery(search="Mi"), limit=50)).rows == []


async def test_like_wildcards_in_a_search_are_literal(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="under_score@example.com", full_name="100% Real")
    await make_user(email="underxscore@example.com", full_name="1000 Real")
    for term, expected in (
        ("r_s", {"under_score@example.com"}),
        ("00%", {"under_score@example.com"}),
    ):
        rows = (await page_user_rows(session, CONSOLE, UserQuery(search=term), limit=50)).rows
        assert {row.email for row in rows} == expected, term


async def test_filters_combine(session: AsyncSession, make_user: UserFactory) -> None:
    await make_population(session, make_user)
    everyone = await all_rows(session)
    query = UserQuery(role=Role.USER, is_active=True, locked=False)
    rows = (await page_user_rows(session, CONSOLE, query, limit=500)).rows
    now = dt.datetime.now(dt.UTC)
    assert {row.id for row in rows} == {
        row.id
        for row in everyone
        if row.role == "user"
        and row.is_active
        and not (row.locked_until and row.locked_until > now)
    }
    locked = (await page_user_rows(session, CONSOLE, UserQuery(locked=True), limit=500)).rows
    assert locked
    assert all(row.locked_until and row.locked_until > now for row in locked)


async def test_counts_are_exact_below_the_cap(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=9)
    assert await count_users(session, UserQuery()) == (9, False)
    assert await count_users(session, UserQuery(search="smith")) == (4, False)


async def test_filtered_counts_stop_at_the_cap(
    session: AsyncSession, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_population(session, make_user, size=9)
    monkeypatch.setattr(user_search, "COUNT_CAP", 4)
    assert await count_users(session, UserQuery(role=Role.USER)) == (4, True)
    assert COUNT_CAP == 10_000


async def test_unfiltered_counts_come_from_the_planner_on_postgresql_only(
    session: AsyncSession, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_population(session, make_user, size=9)
    monkeypatch.setattr(user_search, "COUNT_CAP", 2)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("ANALYZE users")
        assert await count_users(session, UserQuery()) == (9, True)
    else:
        assert await count_users(session, UserQuery()) == (2, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be between"),
        ({"limit": 501}, "limit must be between"),
        ({"after": "bm90LWpzb24", "limit": 5}, "The cursor is not valid"),
        ({"after": "x", "before": "y"}, "either after or before"),
    ],
)
async def test_bad_paging_input_is_refused(
    session: AsyncSession, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await page_user_rows(session, CONSOLE, UserQuery(), **kwargs)  # type: ignore[arg-type]


async def test_a_cursor_from_another_order_is_refused(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=6)
    page = await page_user_rows(session, CONSOLE, UserQuery(sort=UserSort.CREATED), limit=2)
    with pytest.raises(InvalidInput, match="another sort order"):
        await page_user_rows(session, CONSOLE, UserQuery(sort=UserSort.EMAIL), after=page.after)


async def test_only_staff_list_users(session: AsyncSession, make_user: UserFactory) -> None:
    user = await make_user()
    with pytest.raises(PermissionDenied):
        await page_user_rows(session, Actor.api_user(user.id, Role.USER), UserQuery())


async def test_api_listing_pages_by_last_login_too(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_population(session, make_user, size=10)
    query = UserQuery(sort=UserSort.LAST_LOGIN, descending=True)
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = await user_search.list_users(session, CONSOLE, query, limit=3, cursor=cursor)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected_order(await all_rows(session), query)
