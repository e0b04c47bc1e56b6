"""The async engine, the session factory and the declarative Base.

One `Database` per process: the embedded API and the console share it, so they
share one connection pool and see the same data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import in_greenlet

from backend.config import ConfigError
from backend.private_files import prepare_sqlite_file

if TYPE_CHECKING:
    from backend.hot_pool import HotPool

# Stable constraint names, so Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg already returns timestamptz as aware UTC datetimes: skipping the
        # per-value call matters when a list view reads thousands of them.
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, safe to show and to log."""
    return make_url(url).render_as_string(hide_password=True)


# At DEBUG these loggers dump SQL parameters and result rows, i.e. password hashes.
_DATA_DUMPING_LOGGERS = ("aiosqlite", "sqlalchemy.engine.Engine")


class _DropDataDumps(logging.Filter):
    """Never let a driver's DEBUG record (parameters, rows) reach any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _guard_database_logs() -> None:
    for name in _DATA_DUMPING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _DropDataDumps) for existing in logger.filters):
            logger.addFilter(_DropDataDumps())


def _configure_sqlite(engine: AsyncEngine) -> None:
    _close_instead_of_terminating(engine.dialect)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the console read while the embedded API writes; the busy timeout
        # makes a writer wait for the other instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _close_instead_of_terminating(dialect: Dialect) -> None:
    """Close a connection given up by a cancelled query rather than "terminate" it.

    With aiosqlite 0.22, SQLAlchemy's terminate also stops aiosqlite's thread when the
    query is cancelled again meanwhile, and its graceful close then waits forever: the
    process can no longer exit. A plain close ends once the statement under way has.
    Outside the event loop's greenlets (the garbage collector's clean-up) nothing can
    be awaited, and the library's own terminate stops the thread.
    """
    library_terminate = dialect.do_terminate

    def terminate(dbapi_connection: Any) -> None:
        if in_greenlet():
            dialect.do_close(dbapi_connection)
        else:
            library_terminate(dbapi_connection)

    dialect.do_terminate = terminate  # type: ignore[method-assign]


def is_unreachable(error: BaseException) -> bool:
    """True for errors that mean "the database does not answer", not "bad statement"."""
    from sqlalchemy.exc import DBAPIError, InterfaceError

    if isinstance(error, OSError):
        return True
    # No statement yet (raised while connecting: host, database, role, file), or the
    # connection broke under the statement (the server went away).
    return isinstance(error, DBAPIError) and (
        error.statement is None or error.connection_invalidated or isinstance(error, InterfaceError)
    )


@contextmanager
def unusable_url_errors(url: str) -> Iterator[None]:
    """Turn "this URL names no usable database or driver" into a one-sentence ConfigError."""
    from sqlalchemy.exc import ArgumentError, InvalidRequestError

    try:
        yield
    except (ArgumentError, InvalidRequestError, ImportError) as error:
        reason = str(error).splitlines()[0].rstrip(".")
        raise ConfigError(
            f"The database URL {_shown_url(url)} cannot be used ({reason}); "
            "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/NAME."
        ) from None


def _shown_url(url: str) -> str:
    from sqlalchemy.exc import ArgumentError

    try:
        return mask_url(url)
    except ArgumentError:
        return "(unparsable, not shown)"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`, with the per-dialect settings this app relies on.

    Raises ConfigError when the URL names no usable database or driver.
    """
    with unusable_url_errors(url):
        return _create_engine(make_url(url), **kwargs)


def _create_engine(parsed: URL, **kwargs: Any) -> AsyncEngine:
    _guard_database_logs()
    # SQL echo (INFO) and error messages would otherwise show parameters such as hashes.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            # Hashes, emails and the audit trail: 0600 in a 0700 folder, never 0644.
            prepare_sqlite_file(Path(parsed.database).expanduser())
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(parsed, **kwargs)


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        if self.dialect == "postgresql":
            # Imported here: the models import this module for Base.
            from backend.models.user import use_postgresql_index_options

            use_postgresql_index_options()
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # On asyncpg, the token lookup of every signed-in request has its own bare pool.
        self.hot: HotPool | None = None
        if self.engine.dialect.driver == "asyncpg":
            from backend.hot_pool import HotPool  # loads asyncpg, which SQLite never needs

            self.hot = HotPool(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        if self.hot is not None:
            await self.hot.close()
        await self.engine.dispose()
