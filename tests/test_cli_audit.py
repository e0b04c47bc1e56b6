"""`backend-console audit ...`: list with filters, verify (exit 1 when broken), prune, reanchor."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY
from sqlalchemy import text
from test_cli import Cli, migrate, migrated_cli, postgresql_cli

from backend.database import Database
from backend.models import Role
from backend.services.actor import Actor
from backend.services.audit import record_event
from console.cli.audit import parse_since


async def record(url: str, *events: tuple[Actor, str]) -> None:
    """(actor, action) events, one transaction each."""
    database = Database(url)
    try:
        async with database.session() as session:
            for actor, action in events:
                record_event(session, actor, action, "user:1", {"full_name": ["A", "B"]})
                await session.commit()
    finally:
        await database.dispose()


async def tamper(url: str, statement: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await database.dispose()


async def exercise(cli: Cli) -> None:
    await record(
        cli.database_url,
        (Actor.cli("ann"), "user.update"),
        (Actor.console("bob"), "user.delete"),
        (Actor.api_user(7, Role.USER), "user.update"),
    )
    table = cli("audit", "list").assert_ok()
    assert table.stdout.splitlines()[0].split() == [
        "id", "at", "actor", "action", "target", "changes"
    ]  # fmt: skip
    assert table.stderr.strip() == "Showed 3 event(s)."
    listed = cli("audit", "list", "--action", "user.update", "--json").assert_ok().json()
    assert [item["actor"] for item in listed["items"]] == ["api:user:7", "cli:ann"]
    by_actor = cli("audit", "list", "--actor", "console:bob", "--since", "1h", "--json")
    assert [item["action"] for item in by_actor.assert_ok().json()["items"]] == ["user.delete"]
    future = cli("audit", "list", "--since", "2999-01-01", "--json").assert_ok().json()
    assert future["items"] == []
    assert "3 event(s) verified" in cli("audit", "verify").assert_ok().stdout

    pruned = cli("audit", "prune", "--older-than", "30").assert_ok()
    assert "Deleted 0 audit event(s)" in pruned.stdout
    newest = cli("audit", "list", "--json").assert_ok().json()["items"][0]
    assert (newest["action"], newest["actor"][:4]) == ("audit.prune", "cli:")
    cli("audit", "verify").assert_ok()

    await tamper(cli.database_url, "UPDATE audit_events SET action = 'user.view' WHERE id = 2")
    cli("audit", "verify").assert_error("The audit chain is broken", "event 2")


async def test_list_verify_and_prune_on_sqlite(tmp_path: Path) -> None:
    await exercise(await migrated_cli(tmp_path))


async def test_list_verify_and_prune_on_postgresql(tmp_path: Path, postgresql_url: str) -> None:
    async with postgresql_cli(tmp_path, postgresql_url) as cli:
        # Not `db upgrade`: that run is itself an audit event, and this test counts events.
        await migrate(cli.database_url)
        await exercise(cli)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["list", "--since", "last tuesday"], ["Invalid --since", "2h"]),
        (["prune", "--older-than", "0"], ["at least one day"]),
    ],
)
async def test_bad_input_is_one_sentence(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    cli = await migrated_cli(tmp_path)
    cli("audit", *args).assert_error(*fragments)


async def test_prune_is_refused_with_read_only(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    cli("--read-only", "audit", "prune", "--older-than", "30").assert_error("--read-only")


def test_since_takes_dates_times_and_spans() -> None:
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert parse_since("3d", now) == dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_since("30m", now) == dt.datetime(2026, 12, 4, 11, 30, tzinfo=dt.UTC)
    assert parse_since("2026-12-01") == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    offset = dt.timezone(dt.timedelta(hours=2))
    assert parse_since("2026-12-01T10:00+02:00") == dt.datetime(2026, 12, 1, 10, tzinfo=offset)
    assert parse_since(None) is None


def test_actor_labels_name_the_os_user() -> None:
    assert Actor.cli("ann").label == "cli:ann"
    assert Actor.console("ann").label == "console:ann"


NEW_SECRET_KEY = "the-key-after-rotation-0123456789-0123456789"


async def test_reanchor_after_a_rotated_secret_key(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    await record(cli.database_url, *[(Actor.cli("ann"), "user.update")] * 3)  # the old key
    assert "already: nothing to do" in cli("audit", "reanchor").assert_ok().stdout
    rotated = cli.with_env(SECRET_KEY=NEW_SECRET_KEY)
    rotated("audit", "verify").assert_error("event 1 is signed with another key", "reanchor")
    rotated("audit", "reanchor").assert_error(
        "3 link(s) are signed with a key not given", "Pass --yes"
    )
    wrong = rotated("audit", "reanchor", "--previous-key-stdin", stdin="not-the-old-key\n")
    wrong.assert_error("signed with a key not given")
    done = rotated("audit", "reanchor", "--previous-key-stdin", stdin=f"{TEST_SECRET_KEY}\n")
    assert "Signed 3 link(s)" in done.assert_ok().stdout
    assert "3 checked, 0 signed with a key not given" in done.stderr
    assert "4 event(s) verified" in rotated("audit", "verify").assert_ok().stdout
    newest = rotated("audit", "list", "--json").assert_ok().json()["items"][0]
    assert (newest["action"], newest["actor"][:4]) == ("audit.reanchor", "cli:")
    assert TEST_SECRET_KEY not in json.dumps(newest)
    cli("audit", "verify").assert_error("signed with another key")  # the old key no more


async def test_reanchor_without_the_old_key_signs_with_yes(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    await record(cli.database_url, (Actor.cli("ann"), "user.update"))
    rotated = cli.with_env(SECRET_KEY=NEW_SECRET_KEY)
    assert "Signed 1 link(s)" in rotated("audit", "reanchor", "--yes").assert_ok().stdout
    rotated("audit", "verify").assert_ok()


async def test_reanchor_is_refused_with_read_only_and_without_a_key_on_stdin(
    tmp_path: Path,
) -> None:
    cli = await migrated_cli(tmp_path)
    cli("--read-only", "audit", "reanchor").assert_error("--read-only")
    cli("audit", "reanchor", "--previous-key-stdin", stdin="\n").assert_error(
        "No previous SECRET_KEY"
    )


async def test_an_audited_write_without_a_usable_secret_key_is_one_sentence(
    tmp_path: Path,
) -> None:
    cli = await migrated_cli(tmp_path)
    production = cli.with_env(ENVIRONMENT="production", SECRET_KEY=None)
    production("audit", "prune", "--older-than", "30").assert_error("SECRET_KEY must be set")
    assert cli("audit", "list", "--json").assert_ok().json()["items"] == []  # nothing written
