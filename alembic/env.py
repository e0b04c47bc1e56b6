"""Alembic environment: the app's own settings URL, async engines, batch mode on SQLite.

A caller may hand over a connection or an engine (sync or async) in
`config.attributes["connection"]` (the convention of Alembic's cookbook and of
pytest-alembic); the console does so from inside its running event loop, where a
second `asyncio.run` is not allowed.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import backend.models  # noqa: F401  (registers every table on Base.metadata)
from backend.config import get_settings
from backend.database import Base, create_engine
from backend.services.migrations import dialect_filter

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def _configure(connection: Connection) -> None:
    driver = connection.connection.driver_connection  # sqlite3's or aiosqlite's
    if connection.dialect.name == "sqlite" and not getattr(driver, "in_transaction", True):
        # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so each
        # CREATE TABLE would commit at once and an interrupted upgrade (a first start
        # stopped half-way) would leave half a schema. One explicit BEGIN makes the
        # whole upgrade one transaction, committed or rolled back by the caller.
        connection.exec_driver_sql("BEGIN")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=dialect_filter(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """`--sql`: print the SQL instead of running it."""
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        await _run_async(engine)
    finally:
        await engine.dispose()


async def _run_on_async_connection(connection: AsyncConnection) -> None:
    await connection.run_sync(_configure)


def run_migrations_online() -> None:
    handed = config.attributes.get("connection")
    if isinstance(handed, Connection):
        _configure(handed)
    elif isinstance(handed, Engine):
        with handed.begin() as connection:
            _configure(connection)
    elif isinstance(handed, AsyncConnection):
        asyncio.run(_run_on_async_connection(handed))
    elif isinstance(handed, AsyncEngine):
        asyncio.run(_run_async(handed))
    else:
        asyncio.run(_run_with_own_engine(_database_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
