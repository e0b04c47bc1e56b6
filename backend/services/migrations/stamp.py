"""Stamping: recording a revision in the version table without running any migration.

Like a run, a stamp holds the guard (env.py), runs alone in the process, and is an
audit event whatever its end: stamped, refused (an unknown revision) or failed.
"""

from __future__ import annotations

import time

from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.services.actor import Actor
from backend.services.errors import DomainError, InvalidInput
from backend.services.migrations.audit_trail import Operation, record_run
from backend.services.migrations.graph import database_versions
from backend.services.migrations.guard import GuardOptions
from backend.services.migrations.plan import Direction, Plan
from backend.services.migrations.project import DEFAULT_PROJECT, MigrationProject, one_sentence
from backend.services.migrations.runner import (
    MigrationFailed,
    one_at_a_time,
    reason,
    sqlite_locked,
    sqlite_locked_sentence,
)


async def stamp_revision(
    engine: AsyncEngine,
    revision: str,
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    actor: Actor | None = None,
    guard: GuardOptions | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Record `revision` as applied without running anything: (before, after).

    `actor` is None only for the tests' own set-up (see run_plan).
    Raises InvalidInput for an unknown revision, MigrationLocked when another run
    holds the lock too long, MigrationFailed when the database refuses the stamp.
    """
    before = await database_versions(engine)
    started = time.monotonic()
    options = guard or GuardOptions()

    def stamp(connection: Connection) -> None:
        config = project.config()
        config.attributes["connection"] = connection
        config.attributes["migration_guard"] = options
        try:
            command.stamp(config, revision)
        except CommandError as error:
            raise InvalidInput(one_sentence(error)) from None

    failure: Exception | None = None
    try:
        with one_at_a_time():
            async with engine.connect() as connection:
                await connection.run_sync(stamp)
                await connection.commit()
    except (DomainError, DBAPIError) as error:
        failure = error
    after = await database_versions(engine)
    if failure is not None:
        failure = _as_failure(failure, revision, after, options)
    await record_run(
        engine,
        actor,
        Operation.STAMP,
        Plan(target=revision, direction=Direction.UP, start=before, end=after, steps=()),
        now_at=after,
        steps_run=(),
        duration=time.monotonic() - started,
        failure=failure,
    )
    if failure is not None:
        raise failure
    return before, after


def _as_failure(
    error: Exception, revision: str, now_at: tuple[str, ...], guard: GuardOptions
) -> Exception:
    if isinstance(error, DomainError):
        return error
    where = ",".join(now_at) or "base"
    if sqlite_locked(error):
        cause = sqlite_locked_sentence(guard)
    else:
        cause = f"The database refused to stamp {revision} ({reason(error)})"
    return MigrationFailed(
        f"{cause}, so nothing was stamped; the database is at {where}.",
        revision=None,
        now_at=now_at,
    )
