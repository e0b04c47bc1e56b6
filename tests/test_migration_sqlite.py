"""What a run on SQLite tells the operator: what SQLite cannot undo, said with the plan, and
a second runner in another process failing in one sentence rather than "database is locked".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_kit import HEAD, project_with, revision_source, start_runner
from sqlalchemy import select, text

from backend.database import Database
from backend.models import AuditEvent
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.migrations import GuardOptions, MigrationFailed
from backend.services.migrations.guard import SQLITE_CAVEAT

# Holds SQLite's write lock for a while: it has written, and not committed yet.
SLOW_WRITER = revision_source(
    "0099",
    HEAD,
    """
    import time

    op.create_table("slow_t", sa.Column("id", sa.Integer, primary_key=True))
    print("holding", flush=True)
    time.sleep(3)
    """,
    'op.drop_table("slow_t")',
)
FIRST_RUNNER = """
import asyncio, sys
from pathlib import Path
from backend.database import Database
from backend.services import migrations

async def main(url, location):
    database = Database(url)
    project = migrations.MigrationProject(Path(location))
    await migrations.upgrade(database.engine, project=project)
    await database.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_the_plan_says_what_sqlite_cannot_undo() -> None:
    scripts = migrations.script_directory()
    plan = migrations.make_plan(scripts, migrations.state_for(scripts, ()), "head")
    assert migrations.review(plan, "sqlite+aiosqlite:///x.db").caveat == SQLITE_CAVEAT
    assert migrations.review(plan, "postgresql+asyncpg://u@h/db").caveat is None
    assert "rolled back whole" in SQLITE_CAVEAT
    assert "VACUUM" in SQLITE_CAVEAT


@pytest.mark.parametrize("fresh", ["sqlite"], indirect=True)
async def test_a_second_runner_on_sqlite_fails_in_one_sentence(
    fresh: Database, tmp_path: Path
) -> None:
    project = project_with(tmp_path, {"0099_slow.py": SLOW_WRITER})
    await migrations.upgrade(fresh.engine, HEAD, project=project)
    first = await start_runner(FIRST_RUNNER, fresh.url, project)
    assert first.stdout is not None
    assert (await first.stdout.readline()).decode().strip() == "holding"
    plan = await migrations.plan_target(fresh.engine, "head", project=project)
    guard = GuardOptions(lock_timeout_seconds=0.5)
    actor = Actor.cli("tester")
    with pytest.raises(MigrationFailed) as caught:
        await migrations.run_plan(fresh.engine, plan, project=project, actor=actor, guard=guard)
    _out, errors = await first.communicate()
    assert first.returncode == 0, errors.decode()
    assert caught.value.message == (
        "Another process (another migration, or a long write) held the SQLite database's "
        "write lock (waited up to 0.5 s), so revision 0099 (upgrade) did not run; the "
        f"database is at {HEAD}; try again once the other process is done."
    )
    assert (await migrations.load_state(fresh.engine, project)).current == ("0099",)
    async with fresh.session() as session:
        failed = (await session.scalars(select(AuditEvent))).one()  # once the lock was free
    assert (failed.action, failed.changes["failed_revision"]) == ("migration.failed", "0099")
    # The connection went back to the pool with the usual busy timeout.
    async with fresh.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
