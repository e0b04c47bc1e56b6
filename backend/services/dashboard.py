"""The Dashboard's figures: the database's state, the accounts, the warnings.

Every query stays cheap at a million users and a million audit events: counts go
through partial indexes of few rows (inactive, locked, admins), PostgreSQL's planner
estimate stands in for the total of a large table, and "in the last hour" starts at
the hour's first event id (the time index) and counts along the action index. The
accounts are read in two statements built once and sent straight through the driver.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    ScalarSelect,
    Select,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend.config import Settings
from backend.database import Database, UTCDateTime
from backend.models import AuditEvent, Role, User
from backend.services import schema
from backend.services.driver_sql import fetch_rows

# Up to this many rows a count is exact; a larger PostgreSQL table is estimated.
EXACT_COUNT_LIMIT = 100_000
SIGNUP_DAYS = 30
LOGIN = "auth.login"
LOGIN_FAILURES = ("auth.login_failed", "auth.lockout")
# The counts' fixed parameters (the statement is compiled once, sent with its values).
_COUNT_PARAMETERS = {
    "cap": EXACT_COUNT_LIMIT + 1,  # a capped count stops there
    "admin": Role.ADMIN.value,
    **{action: action for action in (LOGIN, *LOGIN_FAILURES)},
}


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
    """The accounts at a glance (estimates where an exact count would scan a million rows).

    Two statements (the counts, the sign-ups), sent straight through the driver: the
    Dashboard reads them every 30 seconds and the event loop pays for each statement.
    """
    connection = await session.connection()
    postgresql = connection.dialect.name == "postgresql"
    estimate = (await fetch_rows(connection, _ESTIMATED_USERS, {}))[0][0] if postgresql else None
    estimated = estimate is not None and estimate > EXACT_COUNT_LIMIT
    counts = _COUNTS_BESIDE_AN_ESTIMATE if estimated else _COUNTS
    hour_ago = now - dt.timedelta(hours=1)
    total, inactive, locked, admins, logins, failures = (
        await fetch_rows(
            connection, counts, {**_COUNT_PARAMETERS, "now": now, "hour_ago": hour_ago}
        )
    )[0]
    if estimate is not None and estimated:
        total = int(estimate)
    return AccountFigures(
        total=total,
        total_is_estimate=estimated,
        active=max(total - inactive, 0),
        locked=locked,
        admins=admins,
        signups_per_day=await _signups_per_day(connection, now),
        logins_last_hour=logins,
        failed_logins_last_hour=failures,
    )


def _capped_count(query: Select[Any]) -> ScalarSelect[int]:
    """How many rows `query` finds, counting no further than EXACT_COUNT_LIMIT + 1."""
    limited = query.limit(bindparam("cap")).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def _actions_since(actions: tuple[str, ...]) -> ScalarSelect[int]:
    """Events of `actions` from the first event of the last hour on: the time index finds
    that event's id, the (action, id) index counts from it."""
    first_id = (
        select(AuditEvent.id)
        .where(AuditEvent.at >= bindparam("hour_ago", type_=UTCDateTime))
        .order_by(AuditEvent.at)
        .limit(literal_column("1"))
        .scalar_subquery()
    )
    matches = or_(*(AuditEvent.action == bindparam(action) for action in actions))
    conditions = (matches, AuditEvent.id >= first_id)
    return _capped_count(select(AuditEvent.id).where(*conditions))


def _counts(total: ScalarSelect[int] | None) -> Select[Any]:
    now = bindparam("now", type_=UTCDateTime)
    return select(
        total if total is not None else literal_column("0"),
        _capped_count(select(User.id).where(User.is_active.is_(False))),
        _capped_count(select(User.id).where(User.locked_until > now)),
        select(func.count())
        .where(User.role == bindparam("admin"), User.is_active.is_(True))
        .scalar_subquery(),
        _actions_since((LOGIN,)),
        _actions_since(LOGIN_FAILURES),
    )


_COUNTS = _counts(_capped_count(select(User.id)))
_COUNTS_BESIDE_AN_ESTIMATE = _counts(None)
# PostgreSQL's planner estimate of the users table's rows (kept by ANALYZE and VACUUM).
_ESTIMATED_USERS = (
    select(cast(column("reltuples"), BigInteger))
    .select_from(table("pg_class"))
    .where(text("oid = 'users'::regclass"))
)


def _signup_day(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), User.created_at), Date)
    return func.date(User.created_at)  # SQLite stores UTC as text: its first 10 characters


def _signups(day: ColumnElement[Any]) -> Select[Any]:
    since = User.created_at >= bindparam("start", type_=UTCDateTime)
    return select(day, func.count()).where(since).group_by(day)


_SIGNUPS = {dialect: _signups(_signup_day(dialect)) for dialect in ("postgresql", "sqlite")}


async def _signups_per_day(connection: AsyncConnection, now: dt.datetime) -> list[int]:
    today = now.astimezone(dt.UTC).date()
    first_day = today - dt.timedelta(days=SIGNUP_DAYS - 1)
    start = dt.datetime.combine(first_day, dt.time(), dt.UTC)
    rows = await fetch_rows(connection, _SIGNUPS[connection.dialect.name], {"start": start})
    counts = {_as_date(value): int(count) for value, count in rows}
    return [counts.get(first_day + dt.timedelta(days=n), 0) for n in range(SIGNUP_DAYS)]


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def configuration_warnings(settings: Settings) -> list[str]:
    """What the settings alone warn about: a generated signing key, development mode."""
    warnings = []
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    if not key:
        warnings.append("SECRET_KEY is generated: set one for real use.")
    if not settings.is_production:
        warnings.append("Development mode: set ENVIRONMENT=production.")
    return warnings
