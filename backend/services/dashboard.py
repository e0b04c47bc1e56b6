"""The Dashboard's figures: the database's state, the accounts, the warnings.

Every query stays cheap at a million users and a million audit events: counts go
through partial indexes of few rows (inactive, locked, admins), PostgreSQL's planner
estimate stands in for the total of a large table, and "in the last hour" starts at
the hour's first event id (the time index) and counts along the action index.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, User
from backend.services import schema
from backend.services.users import count_active_admins

# Up to this many rows a count is exact; a larger PostgreSQL table is estimated.
EXACT_COUNT_LIMIT = 100_000
SIGNUP_DAYS = 30
LOGIN = "auth.login"
LOGIN_FAILURES = ("auth.login_failed", "auth.lockout")


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    dialect: str
    server_version: str
    round_trip_ms: float
    pool_in_use: int | None  # None: the pool does not say (e.g. SQLite's)
    pool_size: int | None
    revision: str | None
    head: str
    pending_migrations: int

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


async def database_figures(database: Database) -> DatabaseFigures:
    """Round trip, version, pool and schema revision. Raises the driver's error when down."""
    started = time.perf_counter()
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    round_trip_ms = (time.perf_counter() - started) * 1000
    revision = await schema.current_revision(database.engine)
    head = schema.REQUIRED_REVISION
    pending = 0 if revision == head else await count_pending_migrations(revision)
    in_use, size = _pool_usage(database)
    version = database.engine.dialect.server_version_info or ()
    return DatabaseFigures(
        dialect=database.dialect,
        server_version=".".join(str(part) for part in version) or "?",
        round_trip_ms=round_trip_ms,
        pool_in_use=in_use,
        pool_size=size,
        revision=revision,
        head=head,
        pending_migrations=pending,
    )


async def count_pending_migrations(revision: str | None) -> int:
    """How many migrations lie between `revision` and head (Alembic, loaded in a thread)."""

    def count() -> int:
        from backend.services.migrations import script_directory

        scripts = script_directory()
        return sum(1 for _ in scripts.iterate_revisions("heads", revision or "base"))

    try:
        return await asyncio.to_thread(count)
    except Exception:  # an unknown revision (a newer code base migrated it): not countable
        return 0


def _pool_usage(database: Database) -> tuple[int | None, int | None]:
    pool = database.engine.pool
    size, checked_out = getattr(pool, "size", None), getattr(pool, "checkedout", None)
    if not (callable(size) and callable(checked_out)):
        return None, None
    return int(checked_out()), int(size())


@dataclass(frozen=True, slots=True)
class AccountFigures:
    total: int
    total_is_estimate: bool
    active: int
    locked: int
    admins: int
    signups_per_day: list[int]  # oldest day first, today last
    logins_last_hour: int
    failed_logins_last_hour: int


async def account_figures(session: AsyncSession, now: dt.datetime) -> AccountFigures:
    """The accounts at a glance (estimates where an exact count would scan a million rows)."""
    total, estimated = await _total_users(session)
    inactive = await _capped_count(session, select(User.id).where(User.is_active.is_(False)))
    locked = await _capped_count(session, select(User.id).where(User.locked_until > now))
    since_hour = await _first_event_id_since(session, now - dt.timedelta(hours=1))
    return AccountFigures(
        total=total,
        total_is_estimate=estimated,
        active=max(total - inactive, 0),
        locked=locked,
        admins=await count_active_admins(session),
        signups_per_day=await _signups_per_day(session, now),
        logins_last_hour=await _count_actions(session, (LOGIN,), since_hour),
        failed_logins_last_hour=await _count_actions(session, LOGIN_FAILURES, since_hour),
    )


async def _total_users(session: AsyncSession) -> tuple[int, bool]:
    if session.get_bind().dialect.name == "postgresql":
        estimate = await session.scalar(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass")
        )
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return int(estimate), True
    return await _capped_count(session, select(User.id)), False


async def _capped_count(session: AsyncSession, query: Select[Any]) -> int:
    limited = query.limit(EXACT_COUNT_LIMIT + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(limited)) or 0)


async def _signups_per_day(session: AsyncSession, now: dt.datetime) -> list[int]:
    today = now.astimezone(dt.UTC).date()
    first_day = today - dt.timedelta(days=SIGNUP_DAYS - 1)
    start = dt.datetime.combine(first_day, dt.time(), dt.UTC)
    day: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        day = cast(func.timezone("UTC", User.created_at), Date)
    else:
        day = func.date(User.created_at)  # SQLite stores UTC as text: its first 10 characters
    rows = await session.execute(
        select(day, func.count()).where(User.created_at >= start).group_by(day)
    )
    counts = {_as_date(value): int(count) for value, count in rows}
    return [counts.get(first_day + dt.timedelta(days=n), 0) for n in range(SIGNUP_DAYS)]


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


async def _first_event_id_since(session: AsyncSession, moment: dt.datetime) -> int | None:
    return await session.scalar(
        select(AuditEvent.id).where(AuditEvent.at >= moment).order_by(AuditEvent.at).limit(1)
    )


async def _count_actions(
    session: AsyncSession, actions: tuple[str, ...], from_id: int | None
) -> int:
    if from_id is None:
        return 0
    query = select(AuditEvent.id).where(AuditEvent.action.in_(actions), AuditEvent.id >= from_id)
    return await _capped_count(session, query)


def configuration_warnings(settings: Settings) -> list[str]:
    """What the settings alone warn about: a generated signing key, development mode."""
    warnings = []
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    if not key:
        warnings.append("SECRET_KEY is generated (kept in the data directory); set one.")
    if not settings.is_production:
        warnings.append("Development mode: set ENVIRONMENT=production for real use.")
    return warnings
