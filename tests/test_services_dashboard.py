"""The Dashboard's figures: accounts, database state, warnings; cheap queries on both databases."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from conftest import TEST_PASSWORD, UserFactory, make_settings
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database
from backend.models import Role, User
from backend.services import auth, dashboard, users
from backend.services.actor import Actor
from backend.services.errors import NotAuthenticated
from backend.services.policy import AuthPolicy

CONSOLE = Actor.console("tester")


async def test_account_figures_count_states_signups_and_recent_logins(
    session: AsyncSession, make_user: UserFactory, policy: AuthPolicy
) -> None:
    admin = await make_user(Role.ADMIN)
    ann = await make_user(Role.USER, email="ann@example.com")
    bob = await make_user(Role.USER)
    await make_user(Role.SUPPORT)
    await users.set_active(session, CONSOLE, bob.id, False)
    await auth.login(session, policy, admin.email, TEST_PASSWORD)
    for _ in range(2):
        with contextlib.suppress(NotAuthenticated):
            await auth.login(session, policy, "ann@example.com", "wrong password")
    now = dt.datetime.now(dt.UTC)
    three_days_ago = now - dt.timedelta(days=3)
    await session.execute(update(User).where(User.id == ann.id).values(created_at=three_days_ago))
    await session.execute(
        update(User).where(User.id == bob.id).values(locked_until=now + dt.timedelta(minutes=5))
    )
    await session.commit()
    figures = await dashboard.account_figures(session, now)
    assert (figures.total, figures.total_is_estimate) == (4, False)
    assert (figures.active, figures.locked, figures.admins) == (3, 1, 1)
    assert len(figures.signups_per_day) == dashboard.SIGNUP_DAYS
    assert (figures.signups_per_day[-1], figures.signups_per_day[-4]) == (3, 1)
    assert sum(figures.signups_per_day) == 4
    assert (figures.logins_last_hour, figures.failed_logins_last_hour) == (1, 2)
    later = await dashboard.account_figures(session, now + dt.timedelta(hours=2))
    assert (later.logins_last_hour, later.failed_logins_last_hour) == (0, 0)


async def test_database_figures_name_the_dialect_revision_and_pool(db: Database) -> None:
    figures = await dashboard.database_figures(db)
    assert figures.dialect == db.dialect
    assert figures.at_head
    assert figures.pending_migrations == 0
    assert figures.round_trip_ms > 0
    assert figures.server_version != "?"
    assert figures.pool_size is None or figures.pool_size >= 1


async def test_pending_migrations_are_counted_from_the_revision() -> None:
    assert await dashboard.count_pending_migrations(None) >= 3
    assert await dashboard.count_pending_migrations("0002") >= 1
    assert await dashboard.count_pending_migrations("no-such-revision") == 0


def test_configuration_warnings(tmp_path: Path) -> None:
    generated = make_settings("sqlite+aiosqlite:///x.db", tmp_path, secret_key=None)
    assert [w.split()[0] for w in dashboard.configuration_warnings(generated)] == [
        "SECRET_KEY",
        "Development",
    ]
    production = make_settings("sqlite+aiosqlite:///x.db", tmp_path, environment="production")
    assert dashboard.configuration_warnings(production) == []
