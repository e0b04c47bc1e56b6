"""Bulk fake users for demos and load tests: a million rows in about 40 s on PostgreSQL.

Rows bypass the ORM: COPY on PostgreSQL, one Core INSERT executed many times on
SQLite, in batches that each commit. On PostgreSQL most of that time is the server
keeping the indexes up to date, the two trigram indexes above all (without them it
takes half as long). Every seeded account shares one bcrypt hash of a random
password nobody knows, so none of them can sign in and no row costs a hash.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Base, Database, utcnow
from backend.models import Role, User
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.errors import InvalidInput
from backend.services.passwords import PasswordHasher

DEFAULT_BATCH_SIZE = 50_000
MAX_SEED_COUNT = 10_000_000
SEED_ACTION = "user.seed"

# Reserved example domains (RFC 2606): seeded addresses can never reach a real mailbox.
DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "corp.example.org",
    "staff.example.net",
)
FIRST_NAMES = (
    "Aaliyah", "Adam", "Aiko", "Alejandro", "Amara", "Ana", "Anders", "Anna", "Arjun",
    "Beatriz", "Ben", "Chen", "Chloe", "Daniel", "David", "Elena", "Emma", "Fatima",
    "Felix", "Giulia", "Hana", "Hugo", "Ibrahim", "Ines", "Isabel", "Jakob", "James",
    "Jin", "Julia", "Kai", "Karin", "Kofi", "Lars", "Laura", "Leila", "Liam", "Lucas",
    "Mai", "Marco", "Maria", "Mateo", "Mia", "Mohammed", "Nadia", "Noah", "Nora",
    "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia",
    "Tomas", "Valentina", "Wei", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abe", "Ahmed", "Andersen", "Bauer", "Becker", "Bianchi", "Brown", "Chen", "Costa",
    "Dubois", "Eriksson", "Fernandez", "Fischer", "Garcia", "Gonzalez", "Hansen",
    "Hoffmann", "Ivanova", "Jensen", "Johnson", "Kim", "Kowalski", "Kumar", "Larsen",
    "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Muller", "Nakamura", "Nguyen",
    "Novak", "Okafor", "Olsen", "Patel", "Pereira", "Petrov", "Rossi", "Santos",
    "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sato", "Suzuki", "Tanaka",
    "Taylor", "Wagner", "Wang", "Weber", "Williams", "Wilson", "Wong", "Yamamoto",
    "Yilmaz", "Zhang", "Zimmermann",
)  # fmt: skip

# The shape of the population: shares of all seeded accounts.
ADMIN_SHARE = 0.002
SUPPORT_SHARE = 0.02
INACTIVE_SHARE = 0.03
LOCKED_SHARE = 0.01
NEVER_SIGNED_IN_SHARE = 0.15
HISTORY_SECONDS = 5 * 365 * 24 * 3600
LOCKED_FAILURES = 5

# The order of the values in a generated row.
COLUMNS = (
    "email",
    "full_name",
    "hashed_password",
    "role",
    "is_active",
    "version",
    "created_at",
    "updated_at",
    "last_login_at",
    "failed_login_count",
    "locked_until",
    "tokens_valid_after",
)
Row = tuple[Any, ...]


class FakeUsers:
    """A deterministic stream of plausible users for one seeding run.

    Emails look like `maria.garcia17+3fa9c2d1@example.org`: the index makes them unique
    within the run and the run tag across runs, so seeding twice never collides.
    """

    def __init__(self, run_tag: str, hashed_password: str, now: dt.datetime) -> None:
        self.run_tag = run_tag
        self._hashed_password = hashed_password
        self._now = now.timestamp()
        self._rng = random.Random(run_tag)  # noqa: S311  (fake data, not secrets)
        self._names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]

    def rows(self, start: int, count: int) -> list[Row]:
        """Rows number `start` to `start + count - 1`, in COLUMNS order."""
        rows = [self._row(index) for index in range(start, start + count)]
        # Sorted by email, a batch walks the email indexes in order instead of
        # jumping around them: far fewer page reads once they outgrow the cache.
        rows.sort()
        return rows

    def _row(self, index: int) -> Row:
        rng = self._rng
        first, last = rng.choice(self._names)
        email = f"{first}.{last}{index}+{self.run_tag}@{rng.choice(DOMAINS)}".lower()
        # Squaring skews sign-ups towards recent years, as a growing service's are.
        created = self._now - HISTORY_SECONDS * rng.random() ** 2
        last_login = None
        if rng.random() >= NEVER_SIGNED_IN_SHARE:
            last_login = self._now - (self._now - created) * rng.random() ** 3
        locked_until, failures = None, 0
        if rng.random() < LOCKED_SHARE:
            locked_until, failures = self._now + rng.uniform(60, 900), LOCKED_FAILURES
        return (
            email,
            f"{first} {last}",
            self._hashed_password,
            _role(rng.random()),
            rng.random() >= INACTIVE_SHARE,
            1,
            _utc(created),
            _utc(last_login or created),
            None if last_login is None else _utc(last_login),
            failures,
            None if locked_until is None else _utc(locked_until),
            None,
        )


def _role(draw: float) -> str:
    if draw < ADMIN_SHARE:
        return Role.ADMIN.value
    if draw < ADMIN_SHARE + SUPPORT_SHARE:
        return Role.SUPPORT.value
    return Role.USER.value


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


async def seed_users(
    database: Database,
    count: int,
    *,
    actor: Actor,
    progress: Callable[[int], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    hasher: PasswordHasher | None = None,
) -> int:
    """Insert `count` fake users in committed batches; return how many were inserted.

    `progress` is called after each batch with the number inserted so far. One audit
    event (`user.seed`, with the count and the run tag found in every seeded email)
    is written in the first batch's transaction, so no seeded row is ever unaudited.
    `hasher` defaults to the production bcrypt cost.
    Raises InvalidInput (count or batch size out of range), PermissionDenied.
    """
    permissions.require_admin(actor, "seed users")
    if not 1 <= count <= MAX_SEED_COUNT:
        raise InvalidInput(f"The count must be between 1 and {MAX_SEED_COUNT:,}.")
    if batch_size < 1:
        raise InvalidInput("The batch size must be at least 1.")
    hasher = hasher or PasswordHasher()
    unusable_hash = await hasher.hash(secrets.token_urlsafe(32))
    fake = FakeUsers(secrets.token_hex(4), unusable_hash, utcnow())
    async with database.session() as session:
        record_event(session, actor, SEED_ACTION, "", {"count": count, "run": fake.run_tag})
        await session.flush()
        inserted = await _insert_batches(session, fake, count, batch_size, progress)
        if database.dialect == "postgresql":
            # Fresh statistics now rather than whenever autovacuum comes by: the planner
            # and the user listing's row estimate both read them.
            await session.execute(text(f"ANALYZE {User.__tablename__}"))
            await session.commit()
    return inserted


async def _insert_batches(
    session: AsyncSession,
    fake: FakeUsers,
    count: int,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Insert and commit batch after batch; the next one is generated in a thread
    while the database stores the current one."""
    inserted = 0
    upcoming: asyncio.Task[list[Row]] | None = _generate(fake, 0, min(batch_size, count))
    try:
        while upcoming is not None:
            rows = await upcoming
            done = inserted + len(rows)
            upcoming = (
                _generate(fake, done, min(batch_size, count - done)) if done < count else None
            )
            await _insert_rows(session, rows)
            await session.commit()
            inserted = done
            if progress is not None:
                progress(inserted)
    finally:
        if upcoming is not None:
            upcoming.cancel()
    return inserted


def _generate(fake: FakeUsers, start: int, count: int) -> asyncio.Task[list[Row]]:
    return asyncio.create_task(asyncio.to_thread(fake.rows, start, count))


async def _insert_rows(session: AsyncSession, rows: Sequence[Row]) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        # COPY is one statement, hence atomic: a batch is all in or all out. The first
        # batch runs inside the transaction the audit event's INSERT opened.
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            User.__tablename__, records=rows, columns=COLUMNS
        )
    else:
        await session.execute(
            insert(Base.metadata.tables[User.__tablename__]),
            [dict(zip(COLUMNS, row, strict=True)) for row in rows],
        )
