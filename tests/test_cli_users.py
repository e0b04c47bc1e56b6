"""`backend-console users ...`: create, list and seed accounts from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from conftest import make_settings
from sqlalchemy import func
from sqlalchemy import select as sql_select
from test_cli import Cli, Terminal, default_cli, migrate, migrated_cli, postgresql_cli

from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.schemas.user import UserCreate
from backend.services.actor import Actor
from backend.services.errors import NotAuthenticated
from backend.services.passwords import PasswordHasher
from backend.services.policy import AuthPolicy
from backend.services.seeding import seed_users
from backend.services.tokens import authenticate_token, issue_token
from backend.services.users import create_user, find_user_by_email
from console.cli.users import RoleName

PASSWORD = "correct horse battery"
PROMPTS = (b"Password:", b"Repeat for confirmation:")


async def add_user(url: str, email: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            data = UserCreate(email=email, password=PASSWORD)
            await create_user(session, Actor.cli("test"), data, PasswordHasher(4))
    finally:
        await database.dispose()


async def count_users(url: str) -> int:
    database = Database(url)
    try:
        async with database.session() as session:
            return int(await session.scalar(sql_select(func.count()).select_from(User)) or 0)
    finally:
        await database.dispose()


def create(cli: Cli, email: str, *options: str, password: str = PASSWORD) -> dict[str, object]:
    result = cli(
        "users", "create", email, *options, "--password-stdin", "--json", stdin=password + "\n"
    )
    document: dict[str, object] = result.assert_ok().json()
    return document


def test_role_choices_are_the_model_roles() -> None:
    assert set(get_args(RoleName)) == {role.value for role in Role}


async def test_create_from_stdin_then_list_as_table_and_json(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    admin = create(cli, "Ada@Example.com", "--role", "admin", "--full-name", "Ada Lovelace")
    assert (admin["email"], admin["role"], admin["full_name"]) == (
        "ada@example.com",
        "admin",
        "Ada Lovelace",
    )
    assert "password" not in str(admin)
    await add_user(cli.database_url, "bob@example.com")

    table = cli("users", "list").assert_ok()
    assert table.stdout.splitlines()[0].split()[:4] == ["id", "email", "name", "role"]
    assert "ada@example.com" in table.stdout
    assert "bob@example.com" in table.stdout
    assert table.stderr.strip() == "Showed 2 of 2 user(s)."

    page = cli("users", "list", "--search", "ADA", "--json").assert_ok().json()
    assert [item["email"] for item in page["items"]] == ["ada@example.com"]
    assert (page["total"], page["next_cursor"]) == (1, None)


@pytest.mark.parametrize(
    ("args", "password", "fragments"),
    [
        (("taken@example.com", "--role", "user"), PASSWORD, ("already exists",)),
        (("not-an-email", "--role", "user"), PASSWORD, ("Invalid email",)),
        (("short@example.com", "--role", "user"), "short", ("Invalid password", "8 bytes")),
    ],
    ids=["duplicate", "bad-email", "short-password"],
)
async def test_create_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], password: str, fragments: tuple[str, ...]
) -> None:
    cli = await migrated_cli(tmp_path)
    await add_user(cli.database_url, "taken@example.com")
    cli("users", "create", *args, "--password-stdin", stdin=password).assert_error(*fragments)
    assert await count_users(cli.database_url) == 1


def test_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    result = default_cli(tmp_path)("users", "create", "a@example.com", "--role", "boss")
    assert result.code == 2
    assert "boss" in result.stderr
    assert "Traceback" not in result.stderr


async def test_create_without_a_terminal_needs_password_stdin(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    cli("users", "create", "a@example.com", "--role", "user").assert_error("--password-stdin")


async def test_create_prompts_twice_on_a_terminal_and_uses_the_embedded_database(
    tmp_path: Path,
) -> None:
    cli = default_cli(tmp_path)
    with Terminal(cli, ["users", "create", "tty@example.com", "--role", "support"]) as terminal:
        for prompt in PROMPTS:
            terminal.wait_for(prompt)
            terminal.wait_for_hidden_input()
            terminal.type(PASSWORD.encode() + b"\n")
        assert terminal.finish() == 0
    transcript = terminal.output.decode()
    assert "Password:" in transcript
    assert "Repeat for confirmation:" in transcript
    assert PASSWORD not in transcript  # hidden input is never echoed
    assert "Created user 1: tty@example.com (support)." in transcript
    embedded = tmp_path / "data" / "backend-console.db"
    assert await count_users(f"sqlite+aiosqlite:///{embedded}") == 1


async def test_list_pages_through_every_user_once(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    database = Database(cli.database_url)
    try:
        await seed_users(database, 30, actor=Actor.cli("fixture"), hasher=PasswordHasher(4))
    finally:
        await database.dispose()
    first = cli("users", "list", "--limit", "12", "--json").assert_ok().json()
    assert (len(first["items"]), first["total"]) == (12, 30)
    rest = cli("users", "list", "--limit", "100", "--cursor", first["next_cursor"], "--json")
    second = rest.assert_ok().json()
    assert second["next_cursor"] is None
    emails = [item["email"] for item in first["items"] + second["items"]]
    assert len(emails) == len(set(emails)) == 30
    assert emails == sorted(emails)
    cli("users", "list", "--cursor", "garbage").assert_error("cursor")


async def test_seed_reports_its_rate_and_audits_once(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    result = cli("users", "seed", "--count", "120").assert_ok()
    assert result.stdout.startswith("Seeded 120 users in ")
    assert result.stdout.strip().endswith("rows/s).")
    assert await count_users(cli.database_url) == 120
    database = Database(cli.database_url)
    try:
        async with database.session() as session:
            events = (await session.scalars(sql_select(AuditEvent))).all()
    finally:
        await database.dispose()
    assert [(event.action, event.changes["count"]) for event in events] == [("user.seed", 120)]
    assert events[0].actor.startswith("cli:")


async def test_postgres_create_seed_and_list(tmp_path: Path, postgresql_url: str) -> None:
    async with postgresql_cli(tmp_path, postgresql_url) as cli:
        await migrate(cli.database_url)
        create(cli, "pg@example.com", "--role", "admin")
        cli("users", "seed", "--count", "250").assert_ok()
        page = cli("users", "list", "--limit", "300", "--json").assert_ok().json()
        assert len(page["items"]) == page["total"] == 251
        assert page["items"][0]["created_at"].endswith("Z")


async def test_set_password_ends_every_session_and_refuses_bad_input(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    await add_user(cli.database_url, "ann@example.com")
    policy = AuthPolicy.from_settings(make_settings(cli.database_url, tmp_path))
    database = Database(cli.database_url)
    async with database.session() as session:
        ann = await find_user_by_email(session, "ann@example.com")
        assert ann is not None
        stolen = issue_token(ann, policy).token
    new = "a brand new passphrase"
    result = cli("users", "set-password", "Ann@Example.com", "--password-stdin", stdin=new + "\n")
    assert "Changed the password of ann@example.com" in result.assert_ok().stdout
    assert new not in result.stdout + result.stderr
    try:
        async with database.session() as session:
            with pytest.raises(NotAuthenticated):
                await authenticate_token(session, policy, stolen)
            events = await session.scalars(
                sql_select(AuditEvent).where(AuditEvent.action == "user.reset_password")
            )
            [event] = events.all()
            assert event.actor.startswith("cli:")
            assert event.changes["password"] == "changed"
            assert event.changes["sessions_ended"] == "password reset"
    finally:
        await database.dispose()
    cli("users", "set-password", "bob@example.com", "--password-stdin", stdin=new).assert_error(
        "No user has the email bob@example.com."
    )
    cli("users", "set-password", "ann@example.com", "--password-stdin", stdin="short").assert_error(
        "Password must be at least"
    )
