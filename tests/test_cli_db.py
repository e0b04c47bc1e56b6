"""`backend-console db ...`: migrations from the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from migration_kit import OURS
from sqlalchemy.engine import make_url
from test_cli import (
    UNREACHABLE_POSTGRES,
    Cli,
    assert_one_sentence,
    default_cli,
    fresh_cli,
    migrate,
    migrated_cli,
    postgresql_cli,
)

from backend.database import Database
from backend.services import migrations
from backend.services.migrations.guard import SQLITE_CAVEAT
from backend.services.schema import current_revision

HEAD = migrations.head_revision()


def test_upgrade_history_stamp_and_current(tmp_path: Path) -> None:
    cli = fresh_cli(tmp_path)
    upgraded = cli("db", "upgrade").assert_ok()
    assert upgraded.stdout.strip().endswith(f"from base to {HEAD}.")
    assert SQLITE_CAVEAT in upgraded.stderr.splitlines()  # said before the run starts
    again = cli("db", "upgrade").assert_ok()
    assert again.stdout == ""
    assert "nothing changed" in again.stderr

    history = cli("db", "history", "--json").assert_ok().json()
    assert [revision["is_head"] for revision in history] == [True] + [False] * (len(history) - 1)
    assert history[0]["revision"] == HEAD
    assert all(revision["is_applied"] for revision in history)
    assert history[-1]["down_revision"] is None

    oldest = history[-1]["revision"]
    stamped = cli("db", "stamp", oldest, "--yes").assert_ok()
    assert stamped.stdout.strip().endswith(f"from {HEAD} to {oldest}.")
    current = cli("db", "current").assert_ok().stdout
    assert current.strip() == f"{oldest} (head is {HEAD}; run `backend-console db upgrade`)"


async def test_check_lists_model_differences_and_fails_behind_head(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    path = make_url(cli.database_url).database
    assert path is not None
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX ix_users_role_email")
    differing = cli("db", "check")
    assert differing.code == 1
    assert "ix_users_role_email" in differing.stdout
    assert differing.stderr == (
        "Error: The models differ from the schema in 1 way(s); add a migration.\n"
    )

    database = Database(cli.database_url)
    try:
        await migrations.stamp(database.engine, "base")
    finally:
        await database.dispose()
    behind = cli("db", "check", "--json")
    assert behind.code == 1
    assert behind.json()["is_head"] is False
    assert "not at head" in behind.stderr


def test_sql_prints_the_migration_without_connecting(tmp_path: Path) -> None:
    # Port 1 refuses connections: any attempt to connect would fail the command.
    offline = default_cli(tmp_path).with_env(DATABASE_URL=UNREACHABLE_POSTGRES)
    upgrade = offline("db", "upgrade", "--sql").assert_ok().stdout
    assert upgrade.startswith("BEGIN;")
    assert "CREATE TABLE users" in upgrade


async def test_unknown_revision_is_one_sentence(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    cli("db", "upgrade", "nope").assert_error("'nope'")


async def test_failed_migration_is_one_sentence_and_changes_nothing(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    database = Database(cli.database_url)
    try:
        # Claim an empty schema over real tables: upgrading then collides with them.
        await migrations.stamp(database.engine, "base")
        failed = cli("db", "upgrade")
        assert failed.code == 1
        assert failed.stdout == ""
        # The plan and the progress come first; the failure is the last line, one sentence.
        assert_one_sentence(failed.stderr.splitlines()[-1], "Revision 0001", "refused")
        assert "already exists" in failed.stderr
        assert failed.stderr.strip().endswith("the database is at base.")
        assert await current_revision(database.engine) is None
    finally:
        await database.dispose()


async def test_postgres_upgrade_check_and_downgrade(tmp_path: Path, postgresql_url: str) -> None:
    async with postgresql_cli(tmp_path, postgresql_url) as cli:
        cli("db", "upgrade").assert_ok()
        check = cli("db", "check").assert_ok().stdout
        assert check.strip() == f"The database is at head {HEAD} and matches the models."
        cli("db", "downgrade", "base", "--yes").assert_ok()
        database = Database(cli.database_url)
        try:
            assert await current_revision(database.engine) is None
        finally:
            await database.dispose()


async def test_plan_shows_steps_sql_and_findings_as_json(tmp_path: Path) -> None:
    cli = fresh_cli(tmp_path)
    planned = cli("db", "plan", "head", "--json").assert_ok().json()
    assert [step["revision"] for step in planned["steps"]] == OURS
    assert planned["direction"] == "upgrade"
    assert planned["from"] == []
    assert "CREATE TABLE users" in planned["steps"][0]["sql"]
    assert planned["destructive"] is False
    await migrate(cli.database_url)
    down = cli("db", "plan", "base", "--json").assert_ok().json()
    assert [step["revision"] for step in down["steps"]] == OURS[::-1]
    drops = [f for f in down["findings"] if f["rule"] == "drop-table"]
    dropped = {(f["revision"], f["statement"]) for f in drops}
    assert dropped >= {("0001", "DROP TABLE users"), ("0004", "DROP TABLE audit_chain")}
    assert all(f["severity"] == "destructive" for f in drops)


async def test_lint_passes_our_history_and_fails_a_destructive_plan(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    # Every revision from base up, offline: ours have no open finding.
    clean = cli("db", "lint", "--json").assert_ok().json()
    assert [f for f in clean if f["acknowledged"] is None] == []
    destructive = cli("db", "lint", "base")
    assert destructive.code == 1
    assert "drop-table in 0001 (downgrade): DROP TABLE users" in destructive.stdout
    assert_one_sentence(destructive.stderr, "destructive finding(s)")


async def test_a_destructive_downgrade_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    cli = fresh_cli(tmp_path)
    cli("db", "upgrade", "0002").assert_ok()
    refused = cli("db", "downgrade", "base")
    assert refused.code == 1
    assert_one_sentence(refused.stderr.splitlines()[-1], "loses data (0001", "--yes")
    # 0002 -> 0001 loses no data (indexes only): it runs without asking, step by step on stderr.
    one_down = cli("db", "downgrade", "--", "-1").assert_ok()
    assert "[1/1] downgrade 0002 -> 0001 …" in one_down.stderr
    assert "[1/1] 0002 done in " in one_down.stderr
    assert one_down.stdout.strip().endswith("from 0002 to 0001.")
    gone = cli("db", "downgrade", "base", "--yes").assert_ok()
    assert gone.stdout.strip().endswith("from 0001 to base.")


async def test_stamp_asks_and_refuses_without_a_terminal(tmp_path: Path) -> None:
    cli = fresh_cli(tmp_path)
    cli("db", "stamp", "head").assert_error("--yes")
    assert await _revision_of(cli) is None


def test_bad_targets_are_one_sentence(tmp_path: Path) -> None:
    cli = fresh_cli(tmp_path)
    cli("db", "plan", "nope").assert_error("'nope'")
    cli("db", "plan", " ").assert_error("Give a target")
    cli("db", "downgrade", "+1").assert_error("+1 is upgrade, not downgrade")


async def _revision_of(cli: Cli) -> str | None:
    database = Database(cli.database_url)
    try:
        return await current_revision(database.engine)
    finally:
        await database.dispose()
