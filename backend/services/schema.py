"""Which schema revision a database is at, and which one this code needs, without Alembic.

Importing Alembic costs about 0.3 s (its Mako templates pull in Pygments), which every
start of the console and every /health would pay for a one-row SELECT. Alembic is
imported only to change the schema (backend.services.migrations).
"""

from __future__ import annotations

from sqlalchemy import String, column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# The newest revision in alembic/versions: the schema the models are written for.
# tests/test_migrations.py fails until it names Alembic's head after a new revision.
REQUIRED_REVISION = "0005"
VERSION_TABLE = "alembic_version"
_VERSIONS = select(column("version_num", String)).select_from(table(VERSION_TABLE))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for an empty, unmigrated database).

    Branches are never merged in this project's history; should the version table
    hold several rows anyway, they are joined with commas (never equal to a head).
    """
    async with engine.connect() as connection:
        return await connection.run_sync(_read_revision)


def _read_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revisions = sorted(connection.execute(_VERSIONS).scalars())
    return ",".join(revisions) if revisions else None


async def is_current(engine: AsyncEngine) -> bool:
    """Is the database at the revision this code needs?"""
    return await current_revision(engine) == REQUIRED_REVISION
