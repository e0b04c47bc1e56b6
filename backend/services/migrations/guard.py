"""What surrounds every online migration run, taken in env.py after context.configure.

PostgreSQL: a session advisory lock on the migration's own connection (a second
runner waits, is told who holds it, and gives up after a while), and lock_timeout /
statement_timeout so that no DDL queues behind a long transaction forever. The lock
is session-level, so the per-revision transactions commit beneath it.

SQLite: Python's sqlite3 opens no transaction before DDL, so each CREATE TABLE would
commit at once; a BEGIN at the start of each transaction makes a revision all or
nothing. What SQLite cannot do inside one (SQLITE_CAVEAT, shown with every plan)
is said to the operator. There is no lock to wait on with a holder to name: a second
runner in another process waits on SQLite's write lock for lock_timeout (the busy
timeout), then fails in one sentence (runner.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from backend.config import Settings
from backend.services.errors import Conflict

# What the plan says before a run on SQLite (checked in tests/test_migration_sqlite.py).
SQLITE_CAVEAT = (
    "On SQLite each revision runs in one transaction and a failed one is rolled back "
    "whole, but inside it SQLite ignores PRAGMA foreign_keys and journal_mode and "
    "refuses VACUUM."
)
# pg_advisory_lock(int4, int4): "bc", "mg" (backend-console, migrations).
LOCK_KEYS = {"class_key": 0x6263, "object_key": 0x6D67}
_HOLDER = text(
    "SELECT a.pid, a.usename, a.application_name, host(a.client_addr), a.backend_start"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :class_key"
    " AND l.objid = :object_key AND l.objsubid = 2"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class MigrationLocked(Conflict):
    """Another migration held the lock for longer than this run would wait."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int
    user: str
    application: str
    client: str | None
    since: dt.datetime | None

    def __str__(self) -> str:
        parts = [f"pid {self.pid}", self.user or "?"]
        if self.application:
            parts.append(f"as {self.application!r}")
        if self.client:
            parts.append(f"from {self.client}")
        if self.since is not None:
            parts.append(f"connected {self.since.astimezone(dt.UTC):%H:%M:%S} UTC")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """How long to wait for the lock, and the timeouts a migration's statements get."""

    lock_wait_seconds: float = 60.0
    lock_timeout_seconds: float = 10.0
    statement_timeout_seconds: float = 900.0  # 0: no limit
    poll_seconds: float = 0.5
    application_name: str = "backend-console migration"
    # Called while waiting: (the holder, or None if it left between two looks; seconds waited).
    on_wait: Callable[[LockHolder | None, float], None] | None = None


def guard_options_from(settings: Settings, **changes: object) -> GuardOptions:
    """The guard the settings ask for; `changes` override fields (e.g. on_wait)."""
    values: dict[str, object] = {
        "lock_wait_seconds": settings.migration_lock_wait_seconds,
        "lock_timeout_seconds": settings.migration_lock_timeout_seconds,
        "statement_timeout_seconds": settings.migration_statement_timeout_seconds,
        **changes,
    }
    return GuardOptions(**values)  # type: ignore[arg-type]


@contextmanager
def migration_guard(connection: Connection, options: GuardOptions) -> Iterator[None]:
    """Hold the run's lock and timeouts (PostgreSQL) or transactions (SQLite) around it.

    Raises MigrationLocked when another run holds the lock past `lock_wait_seconds`.
    """
    if connection.dialect.name == "postgresql":
        with _postgres_guard(connection, options):
            yield
    elif connection.dialect.name == "sqlite":
        with _sqlite_busy_timeout(connection, options), _sqlite_transactions(connection):
            yield
    else:
        yield


@contextmanager
def _postgres_guard(connection: Connection, options: GuardOptions) -> Iterator[None]:
    # A caller's own transaction (an Engine handed to env.py) is left to the caller.
    owns = not connection.in_transaction()
    _settings(connection, options)
    try:
        _acquire(connection, options)
    except BaseException:
        _release(connection, owns, locked=False)
        raise
    if owns:
        connection.commit()
    try:
        yield
    except BaseException:
        _release(connection, owns, locked=True)
        raise
    _release(connection, owns, locked=True, commit=True)


def _settings(connection: Connection, options: GuardOptions) -> None:
    values = {
        "lock_timeout": str(round(options.lock_timeout_seconds * 1000)),
        "statement_timeout": str(round(options.statement_timeout_seconds * 1000)),
        "application_name": options.application_name,
    }
    for name, value in values.items():
        # Session-wide (false): the per-revision transactions come after this one.
        connection.execute(
            text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value}
        )


def _acquire(connection: Connection, options: GuardOptions) -> None:
    started = time.monotonic()
    while not connection.execute(
        text("SELECT pg_try_advisory_lock(:class_key, :object_key)"), LOCK_KEYS
    ).scalar():
        holder = lock_holder(connection)
        waited = time.monotonic() - started
        if waited >= options.lock_wait_seconds:
            who = str(holder) if holder else "it has just been released"
            raise MigrationLocked(
                f"Another migration holds the lock ({who}); gave up after "
                f"{options.lock_wait_seconds:g} s."
            )
        if options.on_wait is not None:
            options.on_wait(holder, waited)
        # On the server, not time.sleep: the event loop keeps running meanwhile.
        pause = max(0.01, min(options.poll_seconds, options.lock_wait_seconds - waited))
        connection.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": pause})


def lock_holder(connection: Connection) -> LockHolder | None:
    """Who holds the migration lock on this database (None when nobody does)."""
    row = connection.execute(_HOLDER, LOCK_KEYS).first()
    if row is None:
        return None
    pid, user, application, client, since = row
    return LockHolder(int(pid), user or "", application or "", client, since)


def _release(connection: Connection, owns: bool, *, locked: bool, commit: bool = False) -> None:
    if owns and connection.in_transaction():
        # A failed revision rolled its own transaction back; anything else open is discarded.
        if commit:
            connection.commit()
        else:
            connection.rollback()
    if locked:
        connection.execute(text("SELECT pg_advisory_unlock(:class_key, :object_key)"), LOCK_KEYS)
    for name in ("lock_timeout", "statement_timeout", "application_name"):
        # The connection goes back to the pool: it must not keep the migration's limits.
        connection.execute(text(f"RESET {name}"))
    if owns:
        connection.commit()


@contextmanager
def _sqlite_busy_timeout(connection: Connection, options: GuardOptions) -> Iterator[None]:
    """SQLite's wait for another writer is the run's lock_timeout, then the usual again.

    On the driver's connection: through SQLAlchemy the PRAGMA would begin a transaction.
    """
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("PRAGMA busy_timeout")
        usual = cursor.fetchone()[0]  # type: ignore[index]
        cursor.execute(f"PRAGMA busy_timeout = {round(options.lock_timeout_seconds * 1000)}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {usual}")
    finally:
        cursor.close()


@contextmanager
def _sqlite_transactions(connection: Connection) -> Iterator[None]:
    def begin(begun: Connection) -> None:
        driver = begun.connection.driver_connection  # sqlite3's or aiosqlite's
        if not getattr(driver, "in_transaction", True):
            begun.exec_driver_sql("BEGIN")

    event.listen(connection, "begin", begin)
    try:
        yield
    finally:
        event.remove(connection, "begin", begin)
