"""Safe runs on SQLite and PostgreSQL: a broken revision stops at the last good one, runs
serialize on the advisory lock, progress and audit events, branches and a merge, an
unknown revision in the database, and offline SQL that builds the same schema.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from migration_kit import BRANCHES, HEAD, OURS, project_with, revision_source, start_runner
from sqlalchemy import select, text
from test_migrations import schema, table_names

from backend.database import Database
from backend.models import AuditEvent
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from backend.services.migrations import (
    GuardOptions,
    LogLine,
    MigrationEvent,
    MigrationFailed,
    MigrationLocked,
    StepFinished,
    StepStarted,
)
from backend.services.migrations.guard import LOCK_KEYS

BROKEN = revision_source(
    "0099",
    HEAD,
    """
    op.create_table("half_made", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO no_such_table VALUES (1)")
    """,
    'op.drop_table("half_made")',
)
SLEEPY = revision_source("0099", HEAD, 'op.execute("SELECT pg_sleep(1)")')
ACTOR = Actor.cli("tester")


async def test_a_broken_revision_fails_names_itself_and_stays_at_the_last_good_one(
    fresh: Database, tmp_path: Path
) -> None:
    project = project_with(tmp_path, {"0099_broken.py": BROKEN})
    events: list[object] = []
    plan = await migrations.plan_target(fresh.engine, "head", project=project)
    with pytest.raises(MigrationFailed) as caught:
        await migrations.run_plan(
            fresh.engine, plan, project=project, actor=ACTOR, on_event=events.append
        )
    message = caught.value.message
    assert message.startswith("Revision 0099 (upgrade) failed at `INSERT INTO no_such_table")
    assert message.endswith(f"the database is at {HEAD}.")
    assert "\n" not in message
    assert caught.value.now_at == (HEAD,)
    assert "half_made" not in await table_names(fresh)
    finished = [event.step.revision for event in events if isinstance(event, StepFinished)]
    assert finished == OURS
    async with fresh.session() as session:
        failed = (await session.scalars(select(AuditEvent))).one()
    assert failed.action == "migration.failed"
    assert (failed.changes["operation"], failed.changes["outcome"]) == ("upgrade", "failed")
    assert failed.actor == "cli:tester"
    assert failed.changes["steps"] == OURS
    assert failed.changes["failed_revision"] == "0099"
    assert failed.changes["to"] == HEAD


async def test_a_run_reports_each_step_and_is_audited(fresh: Database) -> None:
    events: list[MigrationEvent] = []
    plan = await migrations.plan_target(fresh.engine, "head")
    result = await migrations.run_plan(fresh.engine, plan, actor=ACTOR, on_event=events.append)
    assert result.after == (HEAD,)
    assert result.audited
    kinds = [
        (type(event).__name__, event.step.revision)
        for event in events
        if isinstance(event, StepStarted | StepFinished)
    ]
    assert kinds == [
        (kind, revision) for revision in OURS for kind in ("StepStarted", "StepFinished")
    ]
    logged = [event.text for event in events if isinstance(event, LogLine)]
    assert any(line.startswith(f"Running upgrade {OURS[0]} -> {OURS[1]}") for line in logged)
    stamped = await migrations.stamp_revision(fresh.engine, "0001", actor=ACTOR)
    assert stamped == ((HEAD,), ("0001",))
    async with fresh.session() as session:
        events_logged = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [event.action for event in events_logged] == ["migration.upgrade", "migration.stamp"]
    run = events_logged[0].changes
    assert (run["from"], run["to"], run["steps"], run["outcome"]) == (
        "base",
        HEAD,
        OURS,
        "succeeded",
    )
    assert isinstance(run["duration_ms"], int)
    # Below the audit table's revision there is nowhere to write: the run says so.
    down = await migrations.plan_target(fresh.engine, "base")
    assert not (await migrations.run_plan(fresh.engine, down, actor=ACTOR)).audited


# The second runner: another process, as two deploys would be (one process runs one at a time).
SECOND_RUNNER = """
import asyncio, sys
from pathlib import Path
from backend.database import Database
from backend.services import migrations

async def main(url, location):
    database = Database(url)
    project = migrations.MigrationProject(Path(location))
    plan = await migrations.plan_target(database.engine, "head", project=project)
    print("planned", len(plan.steps), flush=True)
    sys.stdin.readline()  # go: the first runner holds the lock now
    guard = migrations.GuardOptions(poll_seconds=0.1)
    tell = lambda event: print(type(event).__name__, flush=True)
    result = await migrations.run_plan(database.engine, plan, project=project, guard=guard,
                                       on_event=tell)
    print("ran", len(result.steps_run), ",".join(result.after))
    await database.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("fresh", ["postgresql"], indirect=True)
async def test_two_upgrades_serialize_on_the_lock(fresh: Database, tmp_path: Path) -> None:
    project = project_with(tmp_path, {"0099_sleepy.py": SLEEPY})
    await migrations.upgrade(fresh.engine, HEAD, project=project)
    second = await start_runner(SECOND_RUNNER, fresh.url, project)
    assert second.stdout is not None
    planned = (await second.stdout.readline()).decode().strip()
    first_plan = await migrations.plan_target(fresh.engine, "head", project=project)
    holding = asyncio.Event()

    def note_start(event: MigrationEvent) -> None:
        if isinstance(event, StepStarted):
            holding.set()  # the first holds the lock, sleeping in 0099

    first = asyncio.create_task(
        migrations.run_plan(fresh.engine, first_plan, project=project, on_event=note_start)
    )
    await holding.wait()
    out, errors = await second.communicate(b"go\n")
    ran = await first
    assert second.returncode == 0, errors.decode()
    lines = out.decode().splitlines()
    assert [step.revision for step in ran.steps_run] == ["0099"]
    assert planned == "planned 1"  # planned before the first run began
    assert "LockWaiting" in lines  # then waited for it
    assert "StepStarted" not in lines
    assert lines[-1] == "ran 0 0099"  # and found nothing left to do


@pytest.mark.parametrize("fresh", ["postgresql"], indirect=True)
async def test_a_lock_held_past_the_wait_fails_in_one_sentence(fresh: Database) -> None:
    dsn = fresh.url.replace("postgresql+asyncpg", "postgresql")
    holder = await asyncpg.connect(dsn)
    try:
        await holder.execute(
            "SELECT pg_advisory_lock($1, $2)", LOCK_KEYS["class_key"], LOCK_KEYS["object_key"]
        )
        plan = await migrations.plan_target(fresh.engine, "head")
        guard = GuardOptions(lock_wait_seconds=0.5, poll_seconds=0.1)
        with pytest.raises(MigrationLocked) as caught:
            await migrations.run_plan(fresh.engine, plan, guard=guard, actor=ACTOR)
    finally:
        await holder.close()
    message = caught.value.message
    assert message.startswith("Another migration holds the lock (pid ")
    assert message.endswith("gave up after 0.5 s.")
    assert await table_names(fresh) == []
    # The connection went back to the pool without the migration's timeouts.
    async with fresh.engine.connect() as connection:
        assert (await connection.execute(text("SHOW lock_timeout"))).scalar() == "0"


async def test_an_unknown_revision_in_the_database_is_shown_not_a_crash(fresh: Database) -> None:
    await migrations.upgrade(fresh.engine)
    async with fresh.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    state = await migrations.load_state(fresh.engine)
    assert state.unknown == ("f00d",)
    assert not state.at_head
    assert all(not node.is_applied for node in state.nodes)
    with pytest.raises(InvalidInput) as caught:
        await migrations.plan_target(fresh.engine, "head")
    assert "f00d, which these migrations do not know" in caught.value.message


async def test_offline_sql_builds_the_schema_a_run_builds(fresh: Database) -> None:
    plan = await migrations.plan_target(fresh.engine, "head")
    script = migrations.review(plan, fresh.url).preview.script()
    await _execute_script(fresh, script)
    assert await migrations.load_state(fresh.engine) is not None
    by_offline = await schema(fresh)
    await migrations.downgrade(fresh.engine, "base")
    assert await table_names(fresh) == ["alembic_version"]
    await migrations.upgrade(fresh.engine)
    assert await schema(fresh) == by_offline


async def _execute_script(database: Database, script: str) -> None:
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if database.dialect == "postgresql":
            await driver.execute(script)  # type: ignore[union-attr]
        else:
            await driver.executescript(script)  # type: ignore[union-attr]


async def test_branches_and_a_merge_display_plan_and_run(fresh: Database, tmp_path: Path) -> None:
    project = project_with(tmp_path, BRANCHES)
    await migrations.upgrade(fresh.engine, HEAD, project=project)
    state = await migrations.load_state(fresh.engine, project)
    nodes = {node.revision: node for node in state.nodes}
    assert nodes[HEAD].is_branch_point
    assert nodes[HEAD].mark.value == "current"
    assert nodes["0103"].is_merge_point
    assert nodes["0103"].down_revisions == ("0101", "0102")
    assert nodes["0101"].branch_labels == ("left",)
    assert state.heads == ("0103",)
    left = await migrations.plan_target(fresh.engine, "0101", project=project)
    assert [step.revision for step in left.steps] == ["0101"]
    assert left.end == ("0101",)
    plan = await migrations.plan_target(fresh.engine, "head", project=project)
    assert sorted(step.revision for step in plan.steps[:2]) == ["0101", "0102"]
    assert plan.steps[-1].revision == "0103"
    assert plan.end == ("0103",)
    await migrations.run_plan(fresh.engine, plan, project=project)
    assert (await migrations.load_state(fresh.engine, project)).current == ("0103",)
    back = await migrations.plan_target(fresh.engine, "0102", project=project)
    assert back.end == ("0101", "0102")
    await migrations.run_plan(fresh.engine, back, project=project)
    assert (await migrations.load_state(fresh.engine, project)).current == ("0101", "0102")


@pytest.mark.parametrize("fresh", ["sqlite"], indirect=True)
async def test_the_drift_check_reports_two_heads(fresh: Database, tmp_path: Path) -> None:
    unmerged = {name: source for name, source in BRANCHES.items() if "merge" not in name}
    project = project_with(tmp_path, unmerged)
    await migrations.upgrade(fresh.engine, HEAD, project=project)
    report = await migrations.check_drift(fresh.engine, project)
    assert not report.single_head
    assert report.lines() == ["The migrations have 2 heads (0101, 0102); merge them."]
    assert (await migrations.check_drift(fresh.engine)).lines() == []
