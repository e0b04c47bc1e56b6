"""Every run and stamp is an audit event with a precise actor: the automatic first-start
migrations of the console and the CLI too, and refused or failed stamps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY
from console_users_kit import running_console
from migration_kit import HEAD, OURS
from sqlalchemy import select
from test_cli import default_cli

from backend.config import load_settings
from backend.database import Database
from backend.models import AuditEvent
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from console.context import ConsoleContext

ROOT = Path(__file__).resolve().parents[1]
ACTOR = Actor.cli("tester")
# The service calls that change the schema; each names the actor it is audited as.
RUNS = {"upgrade", "downgrade", "stamp", "run_plan", "stamp_revision"}


async def events_in(database: Database) -> list[AuditEvent]:
    async with database.session() as session:
        return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_the_consoles_first_start_migration_is_audited_as_its_operator(
    data_dir: Path,
) -> None:
    settings = load_settings(secret_key=TEST_SECRET_KEY, data_dir=data_dir, bcrypt_rounds=4)
    context = ConsoleContext.from_settings(settings)
    async with running_console(context):
        (event,) = await events_in(context.database)
    await context.database.dispose()
    assert (event.actor, event.action) == (Actor.console().label, "migration.upgrade")
    assert event.actor.startswith("console:")
    changes = event.changes
    assert (changes["operation"], changes["from"], changes["to"]) == ("upgrade", "base", HEAD)
    assert (changes["steps"], changes["outcome"]) == (OURS, "succeeded")


def test_the_clis_automatic_migration_is_audited_as_its_user_once(tmp_path: Path) -> None:
    cli = default_cli(tmp_path)
    first = cli("audit", "list", "--json").assert_ok().json()["items"]
    (event,) = first
    assert (event["actor"], event["action"]) == (Actor.cli().label, "migration.upgrade")
    assert event["changes"]["steps"] == OURS
    # At head already: nothing runs, so nothing is recorded.
    assert cli("audit", "list", "--json").assert_ok().json()["items"] == first


async def test_a_refused_stamp_is_audited_and_changes_nothing(fresh: Database) -> None:
    await migrations.upgrade(fresh.engine)
    with pytest.raises(InvalidInput) as caught:
        await migrations.stamp_revision(fresh.engine, "nope", actor=ACTOR)
    assert "'nope'" in caught.value.message
    assert (await migrations.load_state(fresh.engine)).current == (HEAD,)
    stamped = await migrations.stamp_revision(fresh.engine, OURS[0], actor=ACTOR)
    assert stamped == ((HEAD,), (OURS[0],))
    refused, done = await events_in(fresh)
    assert (refused.actor, refused.action) == ("cli:tester", "migration.failed")
    assert refused.changes == {
        "operation": "stamp",
        "target": "nope",
        "from": HEAD,
        "to": HEAD,
        "steps": [],
        "planned_steps": [],
        "outcome": "failed",
        "duration_ms": refused.changes["duration_ms"],
        "failed_revision": None,
        "error": "InvalidInput",
    }
    assert (done.action, done.changes["operation"], done.changes["outcome"]) == (
        "migration.stamp",
        "stamp",
        "succeeded",
    )
    assert (done.changes["from"], done.changes["to"]) == (HEAD, OURS[0])


def unnamed_runs(source: str) -> list[int]:
    """Lines of `source` that call a run or stamp (`migrations.upgrade(...)`, `run_plan(...)`)
    without an actor, or with None."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        by_name = isinstance(function, ast.Name) and function.id in RUNS
        by_module = (
            isinstance(function, ast.Attribute)
            and function.attr in RUNS
            and isinstance(function.value, ast.Name)
            and function.value.id == "migrations"
        )
        actor = next((k.value for k in node.keywords if k.arg == "actor"), None)
        if (by_name or by_module) and (
            actor is None or (isinstance(actor, ast.Constant) and actor.value is None)
        ):
            lines.append(node.lineno)
    return lines


def test_every_run_outside_the_tests_names_its_actor() -> None:
    """Only the tests' set-up may migrate without an actor (it is not audited)."""
    sample = "migrations.upgrade(e)\nrun_plan(e, p, actor=None)\nrun_plan(e, p, actor=a)\n"
    assert unnamed_runs(sample) == [1, 2]
    unnamed = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("backend", "console")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in unnamed_runs(path.read_text(encoding="utf-8"))
    ]
    assert unnamed == []
