"""backend.services.export: the current view as CSV, streamed, audited, without secrets."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import TEST_PASSWORD, UserFactory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEvent, Role
from backend.services.actor import Actor
from backend.services.errors import PermissionDenied
from backend.services.export import EXPORT_COLUMNS, export_users_csv
from backend.services.user_search import UserQuery, UserSort

CONSOLE = Actor.console("tester")


async def export(session: AsyncSession, query: UserQuery, **kwargs: object) -> list[dict[str, str]]:
    out = io.StringIO()
    await export_users_csv(session, CONSOLE, query, out, **kwargs)  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(out.getvalue())))


async def test_export_writes_the_filtered_view_in_its_order_across_pages(
    session: AsyncSession, make_user: UserFactory
) -> None:
    for number in range(7):
        await make_user(email=f"e{number}@example.com", full_name=f"Person {number}")
    await make_user(Role.SUPPORT, email="staff@example.com")
    progress: list[int] = []
    query = UserQuery(role=Role.USER, sort=UserSort.EMAIL, descending=True)
    rows = await export(session, query, page_size=3, on_progress=progress.append)
    assert [row["email"] for row in rows] == [f"e{n}@example.com" for n in range(6, -1, -1)]
    assert progress == [3, 6, 7]
    assert rows[0]["full_name"] == "Person 6"
    assert rows[0]["is_active"] == "true"


async def test_export_never_contains_a_password_or_hash(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user(email="secret@example.com")
    out = io.StringIO()
    await export_users_csv(session, CONSOLE, UserQuery(), out)
    text = out.getvalue()
    assert TEST_PASSWORD not in text
    assert user.hashed_password not in text
    assert "$2b$" not in text
    assert tuple(text.splitlines()[0].split(",")) == EXPORT_COLUMNS


async def test_cells_a_spreadsheet_would_run_are_defused(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="formula@example.com", full_name='=HYPERLINK("http://x")')
    await make_user(email="plus@example.com", full_name="+1 555")
    rows = await export(session, UserQuery())
    names = {row["email"]: row["full_name"] for row in rows}
    assert names["formula@example.com"] == '\'=HYPERLINK("http://x")'
    assert names["plus@example.com"] == "'+1 555"


async def test_export_is_audited_with_its_filters_unless_told_not_to(
    session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user()
    before = await session.scalar(select(func.count()).select_from(AuditEvent))
    await export(session, UserQuery(search="user", is_active=True))
    event = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "user.export"))
    ).one()
    assert event.actor == "console:tester"
    assert event.changes == {
        "count": 1,
        "filters": {"search": "user", "is_active": True, "sort": "email", "descending": False},
    }
    await export(session, UserQuery(), audit=False)
    after = await session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == (before or 0) + 1


async def test_only_staff_export(session: AsyncSession, make_user: UserFactory) -> None:
    user = await make_user()
    with pytest.raises(PermissionDenied):
        await export_users_csv(
            session, Actor.api_user(user.id, Role.USER), UserQuery(), io.StringIO()
        )
