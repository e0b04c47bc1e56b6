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
from backend.services.migrations.guard import GuardOptions, guard_options_from, migration_guard
from backend.services.migrations.project import dialect_filter

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def _guard_options() -> GuardOptions:
    handed = config.attributes.get("migration_guard")
    if isinstance(handed, GuardOptions):
        return handed
    return guard_options_from(get_settings())


def _configure(connection: Connection) -> None:
    # One transaction per revision: a failure leaves the database at the last good one.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=dialect_filter(connection.dialect.name),
        transaction_per_migration=True,
    )
    # After configure, on the migration's own connection: see guard.py.
    with migration_guard(connection, _guard_options()), context.begin_transaction():
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
        transaction_per_migration=True,
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
