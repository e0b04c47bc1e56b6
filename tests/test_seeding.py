"""Bulk seeding of fake users, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database, utcnow
from backend.models import AuditEvent, Role, User
from backend.schemas.user import Email
from backend.services import seeding
from backend.services.actor import Actor
from backend.services.errors import InvalidInput, PermissionDenied
from backend.services.policy import AuthPolicy
from backend.services.user_search import UserQuery, UserSort, list_users

ADMIN = Actor.cli("seeder")


async def all_users(session: AsyncSession) -> list[User]:
    return list((await session.scalars(select(User).order_by(User.id))).all())


async def test_seeds_the_count_in_batches_reporting_progress(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    reported: list[int] = []
    inserted = await seeding.seed_users(
        db, 1234, progress=reported.append, batch_size=500, actor=ADMIN, hasher=policy.hasher
    )
    assert inserted == 1234
    assert reported == [500, 1000, 1234]
    users = await all_users(session)
    assert len(users) == 1234
    assert len({user.email for user in users}) == 1234


async def test_seeding_twice_never_collides(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    for _ in range(2):
        await seeding.seed_users(db, 300, actor=ADMIN, hasher=policy.hasher)
    count = await session.scalar(select(func.count(func.distinct(User.email))))
    assert count == 600


async def test_every_seeded_account_shares_one_unusable_hash(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    await seeding.seed_users(db, 50, actor=ADMIN, hasher=policy.hasher)
    hashes = {user.hashed_password for user in await all_users(session)}
    assert len(hashes) == 1
    (shared,) = hashes
    assert shared.startswith("$2b$04$")  # bcrypt at the configured cost, no plaintext
    for guess in ("", "password", "correct horse battery", "changeme"):
        assert not await policy.hasher.verify(guess, shared)


async def test_one_audit_event_summarises_the_run(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    await seeding.seed_users(db, 120, batch_size=50, actor=ADMIN, hasher=policy.hasher)
    events = (await session.scalars(select(AuditEvent))).all()
    assert len(events) == 1
    (event,) = events
    assert (event.actor, event.action, event.changes["count"]) == ("cli:seeder", "user.seed", 120)
    run_tag = event.changes["run"]
    assert all(f"+{run_tag}@" in user.email for user in await all_users(session))
    assert "hashed_password" not in str(event.changes)


async def test_seeded_population_is_plausible(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    before = utcnow()
    # Each run draws its own population: at 0.2% admins, 2,000 users held none in about
    # one run in 55 (seen once in CI); 6,000 leave that to about one in 160,000.
    await seeding.seed_users(db, 6000, actor=ADMIN, hasher=policy.hasher)
    users = await all_users(session)
    now = utcnow()
    email = TypeAdapter(Email)
    assert all(email.validate_python(user.email) == user.email for user in users[:200])
    assert {user.role for user in users} == {role.value for role in Role}
    assert sum(user.role == Role.USER for user in users) > 0.9 * len(users)
    inactive = sum(not user.is_active for user in users)
    locked = [user for user in users if user.locked_until is not None]
    assert 0 < inactive < 0.1 * len(users)
    assert 0 < len(locked) < 0.05 * len(users)
    assert all(user.is_locked(now) and user.failed_login_count > 0 for user in locked)
    oldest = before - dt.timedelta(days=5 * 366)
    assert all(oldest <= user.created_at <= now for user in users)
    logged_in = [user for user in users if user.last_login_at is not None]
    assert 0.7 * len(users) < len(logged_in) < len(users)
    assert all(u.created_at <= u.last_login_at <= now for u in logged_in if u.last_login_at)
    years = {user.created_at.year for user in users}
    assert len(years) >= 4  # spread over the past years, not bunched at "now"


async def test_seeded_users_page_like_any_others(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    await seeding.seed_users(db, 60, actor=ADMIN, hasher=policy.hasher)
    page = await list_users(session, ADMIN, UserQuery(sort=UserSort.CREATED), limit=60)
    created = [item.created_at for item in page.items]
    assert created == sorted(created)
    assert page.total == 60


@pytest.mark.parametrize("count", [0, -1, seeding.MAX_SEED_COUNT + 1])
async def test_count_out_of_range_is_refused(db: Database, count: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and"):
        await seeding.seed_users(db, count, actor=ADMIN)


async def test_only_admins_seed_and_a_refusal_writes_nothing(
    db: Database, session: AsyncSession
) -> None:
    support = Actor(label="console:support", role=Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        await seeding.seed_users(db, 10, actor=support)
    assert await session.scalar(select(func.count()).select_from(User)) == 0
    assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_generator_is_deterministic_per_run_tag() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = seeding.FakeUsers("abcd1234", "hash", now).rows(0, 100)
    again = seeding.FakeUsers("abcd1234", "hash", now).rows(0, 100)
    other = seeding.FakeUsers("ffff0000", "hash", now).rows(0, 100)
    assert first == again
    assert first != other
    assert [row[0] for row in first] == sorted(row[0] for row in first)


@pytest.mark.postgres_only  # planner statistics (pg_class.reltuples)
async def test_postgres_row_estimate_is_fresh_after_seeding(
    db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    await seeding.seed_users(db, 300, actor=ADMIN, hasher=policy.hasher)
    estimate = await session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass")
    )
    assert estimate == 300
