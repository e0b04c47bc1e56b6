"""`backend-console` through its real entry point, as a subprocess: root options, errors, routes.

This module also holds the harness the other CLI test modules import (`Cli`, fixtures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from backend.database import Database
from backend.services import migrations
from conftest import TEST_SECRET_KEY

ENTRY_POINT = Path(sys.executable).with_name("backend-console")
UNREACHABLE_POSTGRES = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/x"
CLI_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as exactly one JSON document (json.loads rejects anything after it)."""
        return json.loads(self.stdout)

    def assert_ok(self) -> CliResult:
        assert self.code == 0, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        return self

    def assert_error(self, *fragments: str, code: int = 1) -> CliResult:
        """Exit `code`, nothing on stdout, one sentence on stderr containing `fragments`."""
        assert self.code == code, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        assert_one_sentence(self.stderr, *fragments)
        assert self.stdout == ""
        return self


def assert_one_sentence(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and lines[0].endswith("."), stderr
    for fragment in fragments:
        assert fragment in lines[0]


class Cli:
    """Runs the installed `backend-console` with a controlled environment and cwd."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *args: str, stdin: str | None = None) -> CliResult:
        completed = subprocess.run(
            [str(ENTRY_POINT), *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        return CliResult(completed.returncode, completed.stdout, completed.stderr)

    def with_env(self, **changes: str | None) -> Cli:
        env = dict(self.env)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return Cli(env, self.cwd)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


def cli_environment(tmp_path: Path) -> dict[str, str]:
    """The parent's environment minus settings, plus a test key, cheap bcrypt and a data dir."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "SECRET_KEY", "ENVIRONMENT", "API_PORT", "API_HOST"}
    }
    env.update(
        SECRET_KEY=TEST_SECRET_KEY,
        BCRYPT_ROUNDS="4",
        DATA_DIR=str(tmp_path / "data"),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


@pytest.fixture
def default_cli(tmp_path: Path) -> Cli:
    """No DATABASE_URL: the embedded SQLite file in DATA_DIR (cwd is tmp_path: no .env)."""
    return Cli(cli_environment(tmp_path), tmp_path)


@pytest.fixture
def fresh_cli(default_cli: Cli, tmp_path: Path) -> Cli:
    """DATABASE_URL names a new, unmigrated SQLite file."""
    return default_cli.with_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")


@pytest.fixture
async def cli(fresh_cli: Cli) -> Cli:
    """DATABASE_URL names a SQLite file migrated to head."""
    await migrate(fresh_cli.database_url)
    return fresh_cli


@pytest.fixture
async def pg_cli(default_cli: Cli, postgres_url: str) -> AsyncIterator[Cli]:
    """A dedicated, empty PostgreSQL database (the shared test database is left alone)."""
    name = f"bc_cli_{uuid.uuid4().hex[:12]}"
    server_dsn = _asyncpg_dsn(postgres_url)
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        yield default_cli.with_env(DATABASE_URL=url)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def migrate(url: str) -> None:
    database = Database(url)
    try:
        await migrations.upgrade(database.engine)
    finally:
        await database.dispose()


# --- the root command ----------------------------------------------------------------


def test_help_lists_every_command(default_cli: Cli) -> None:
    result = default_cli("--help").assert_ok()
    for command in ("serve", "db", "users", "token", "routes"):
        assert command in result.stdout
    for option in ("--database-url", "--host", "--port", "--no-server", "--read-only"):
        assert option in result.stdout


def test_help_imports_no_heavy_module(default_cli: Cli) -> None:
    # Startup time is import time: --help and a group's help must not load these.
    probe = (
        "import sys\n"
        "from console.cli import main\n"
        "for args in (['--help'], ['users', '--help'], ['db', 'upgrade', '--help']):\n"
        "    sys.argv = ['backend-console', *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('sqlalchemy', 'fastapi', 'textual', 'alembic', 'pydantic_settings')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        env=default_cli.env,
        cwd=default_cli.cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_database_url_option_overrides_the_environment(cli: Cli, fresh_cli: Cli) -> None:
    unmigrated = fresh_cli.with_env(DATABASE_URL=UNREACHABLE_POSTGRES)
    result = unmigrated("--database-url", cli.database_url, "users", "list", "--json").assert_ok()
    assert result.json()["items"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("users", "list"),
        ("db", "current"),
        ("token", "inspect", "not-a-token"),
        ("users", "seed", "--count", "5"),
    ],
    ids=["users-list", "db-current", "token-inspect", "users-seed"],
)
def test_unreachable_database_is_one_sentence_with_the_password_masked(
    default_cli: Cli, args: tuple[str, ...]
) -> None:
    result = default_cli("--database-url", UNREACHABLE_POSTGRES, *args)
    result.assert_error(
        "Cannot reach the database at postgresql+asyncpg://postgres:***@127.0.0.1:1/x"
    )
    assert "s3cret-pw" not in result.stderr


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "cannot be used"),
        ("sqlite:///plain.db", "async driver"),
        ("mysql+nosuchdriver://u@h/d", "cannot be used"),
    ],
    ids=["unparsable", "sync-driver", "unknown-driver"],
)
def test_unusable_database_url_is_one_sentence(default_cli: Cli, url: str, fragment: str) -> None:
    default_cli("--database-url", url, "users", "list").assert_error(fragment)


def test_schema_behind_head_is_refused_with_the_fix(fresh_cli: Cli) -> None:
    fresh_cli("users", "list").assert_error("has no schema yet", "backend-console db upgrade")


def test_invalid_setting_is_one_sentence(cli: Cli) -> None:
    cli.with_env(ACCESS_TOKEN_EXPIRE_MINUTES="soon")("users", "list").assert_error(
        "ACCESS_TOKEN_EXPIRE_MINUTES"
    )


def test_read_only_refuses_every_write(cli: Cli) -> None:
    cli("--read-only", "users", "seed", "--count", "1").assert_error(
        "Cannot seed users with --read-only"
    )
    cli("--read-only", "db", "downgrade", "base").assert_error("--read-only")
    # Reading stays possible.
    assert cli("--read-only", "users", "list", "--json").assert_ok().json()["total"] == 0


def test_unknown_command_is_a_usage_error(default_cli: Cli) -> None:
    result = default_cli("frobnicate")
    assert result.code == 2
    assert "Traceback" not in result.stderr


# --- routes ----------------------------------------------------------------------------


def test_routes_lists_the_api_as_a_table_and_as_json(default_cli: Cli) -> None:
    table = default_cli("routes").assert_ok().stdout.splitlines()
    assert table[0].split() == ["method", "path", "auth", "tags", "summary"]
    me = next(line for line in table if line.split()[:2] == ["GET", "/api/users/me"])
    assert me.split()[2] == "token"
    routes = default_cli("routes", "--json").assert_ok().json()
    by_key = {(route["method"], route["path"]): route for route in routes}
    assert by_key[("POST", "/api/auth/login")]["requires_auth"] is False
    assert by_key[("GET", "/api/users/me")]["requires_auth"] is True
    assert by_key[("GET", "/health")]["tags"] == ["health"]
