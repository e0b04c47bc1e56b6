"""`backend-console` through its real entry point, as a subprocess: root options, errors, routes.

This module also holds the harness the other CLI test modules import (`Cli`, fixtures).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import TEST_SECRET_KEY
from sqlalchemy.engine import make_url

from backend.database import Database
from backend.services import migrations

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
    assert lines[0].startswith("Error: "), stderr
    assert lines[0].endswith("."), stderr
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_probe(probe: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`probe` (Python source) run by a fresh interpreter of this environment."""
    return subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


def default_cli(tmp_path: Path) -> Cli:
    """No DATABASE_URL: the embedded SQLite file in DATA_DIR (cwd is tmp_path: no .env)."""
    return Cli(cli_environment(tmp_path), tmp_path)


def fresh_cli(tmp_path: Path) -> Cli:
    """DATABASE_URL names a new, unmigrated SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    return default_cli(tmp_path).with_env(DATABASE_URL=url)


async def migrated_cli(tmp_path: Path) -> Cli:
    """DATABASE_URL names a SQLite file migrated to head."""
    cli = fresh_cli(tmp_path)
    await migrate(cli.database_url)
    return cli


@asynccontextmanager
async def postgresql_cli(tmp_path: Path, postgresql_url: str) -> AsyncIterator[Cli]:
    """A dedicated, empty PostgreSQL database (the shared test database is left alone)."""
    name = f"bc_cli_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_asyncpg_dsn(postgresql_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        url = make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
        yield default_cli(tmp_path).with_env(DATABASE_URL=url)
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


class Terminal:
    """The CLI on a pseudo-terminal: wait for what it shows, type as a person would."""

    def __init__(self, cli: Cli, args: list[str], rows: int = 30, columns: int = 100) -> None:
        self._controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**cli.env, "TERM": "xterm-256color", "LINES": str(rows), "COLUMNS": str(columns)}
        self._process = subprocess.Popen(
            [str(ENTRY_POINT), *args],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
            cwd=cli.cwd,
            start_new_session=True,  # the pty becomes its controlling terminal
        )
        os.close(terminal)
        self.output = b""

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        os.close(self._controller)

    def wait_for(self, text: bytes, timeout: float = CLI_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"{text!r} never appeared in {self.output!r}"
            assert self._read(0.2) or self._process.poll() is None, self.output

    def wait_for_hidden_input(self, timeout: float = CLI_TIMEOUT_SECONDS) -> None:
        """Wait until echo is off: typed text will not be shown."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self._controller)[3] & termios.ECHO:
            assert time.monotonic() < deadline, "echo never went off"
            self._read(0.05)

    def type(self, keys: bytes) -> None:
        os.write(self._controller, keys)

    def finish(self, timeout: float = CLI_TIMEOUT_SECONDS) -> int:
        """Wait for the exit, keep everything it printed, return the exit code.

        Reading goes on while it waits: a program that finds the terminal's buffer full
        blocks in its next write (a console's last frames, its goodbye) and never exits.
        """
        deadline = time.monotonic() + timeout
        while self._process.poll() is None:
            assert time.monotonic() < deadline, f"no exit within {timeout} s: {self.output!r}"
            self._read(0.1)
        while self._read(0.1):
            pass
        return self._process.returncode

    def _read(self, seconds: float) -> bool:
        if not select.select([self._controller], [], [], seconds)[0]:
            return False
        try:
            chunk = os.read(self._controller, 65536)
        except OSError:  # EIO: the process has closed the terminal
            return False
        self.output += chunk
        return bool(chunk)


# --- the root command ----------------------------------------------------------------


def test_help_lists_every_command_without_importing_heavy_modules(tmp_path: Path) -> None:
    # Startup time is import time: --help and a group's help must not load these. The
    # entry point's `main` runs in a probe process that then reports what it imported.
    probe = (
        "import sys\n"
        "from console.cli.root import main\n"
        "for args in (['--help'], ['users', '--help'], ['db', 'upgrade', '--help']):\n"
        "    sys.argv = ['backend-console', *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('sqlalchemy', 'fastapi', 'textual', 'alembic', 'pydantic_settings')\n"
        "print('heavy:', sorted(name for name in heavy if name in sys.modules))\n"
    )
    completed = run_probe(probe, cli_environment(tmp_path), tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "heavy: []"
    for name in ("serve", "db", "users", "token", "routes", "--database-url", "--read-only"):
        assert name in completed.stdout


async def test_database_url_option_overrides_the_environment(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    unreachable = cli.with_env(DATABASE_URL=UNREACHABLE_POSTGRES)
    result = unreachable("--database-url", cli.database_url, "users", "list", "--json")
    result.assert_ok()
    assert result.json()["items"] == []


def test_unreachable_database_is_one_sentence_with_the_password_masked(tmp_path: Path) -> None:
    result = default_cli(tmp_path)("--database-url", UNREACHABLE_POSTGRES, "users", "list")
    result.assert_error(
        "Cannot reach the database at postgresql+asyncpg://postgres:***@127.0.0.1:1/x"
    )
    assert "s3cret-pw" not in result.stderr


def test_unparsable_database_url_is_one_sentence_without_the_url(tmp_path: Path) -> None:
    result = default_cli(tmp_path)("--database-url", "postgres ql://u:pw@h/d", "users", "list")
    result.assert_error("cannot be used", "sqlite+aiosqlite:///PATH")
    assert "pw@" not in result.stderr


@pytest.mark.parametrize("url", ["nonsense", "mysql://u:pw@h/d", "sqlite:///plain-driver.db"])
def test_the_console_refuses_an_unusable_database_url_in_one_sentence(
    tmp_path: Path, url: str
) -> None:
    result = default_cli(tmp_path)("--database-url", url, "--no-server")
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot be used" in lines[0]
    assert "sqlite+aiosqlite:///PATH" in lines[0]
    assert "pw@" not in result.stderr


async def test_invalid_setting_is_one_sentence(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    cli.with_env(ACCESS_TOKEN_EXPIRE_MINUTES="soon")("users", "list").assert_error(
        "ACCESS_TOKEN_EXPIRE_MINUTES"
    )


async def test_read_only_refuses_every_write(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    cli("--read-only", "users", "seed", "--count", "1").assert_error(
        "Cannot seed users with --read-only"
    )


def test_no_command_opens_the_console_which_quits_on_q(tmp_path: Path) -> None:
    with Terminal(default_cli(tmp_path), ["--no-server", "--read-only"]) as terminal:
        terminal.wait_for(b"Dashboard")
        terminal.type(b"q")
        assert terminal.finish() == 0


def test_the_bare_command_opens_the_console_with_the_api_and_quits_on_q(tmp_path: Path) -> None:
    port = free_port()
    with Terminal(default_cli(tmp_path).with_env(API_PORT=str(port)), []) as terminal:
        terminal.wait_for(b"failed")  # the Dashboard's accounts panel: "0 logins, 0 failed"
        terminal.wait_for(f"API 127.0.0.1:{port}".encode())
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5, trust_env=False)
        assert health.json()["status"] == "ok"
        terminal.type(b"q")
        assert terminal.finish() == 0


def test_the_bare_command_opens_the_console_without_loading_the_command_line(
    tmp_path: Path,
) -> None:
    # The bare command skips Typer (console/launcher.py); a configuration error it
    # meets before the console opens is still one sentence and exit status 1.
    probe = (
        "import sys\n"
        "from console.launcher import main\n"
        "sys.argv = ['backend-console']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    print('exit:', exit.code)\n"
        "print('typer loaded:', 'typer' in sys.modules)\n"
    )
    env = {**cli_environment(tmp_path), "ACCESS_TOKEN_EXPIRE_MINUTES": "soon"}
    completed = run_probe(probe, env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["exit: 1", "typer loaded: False"]
    assert_one_sentence(completed.stderr, "ACCESS_TOKEN_EXPIRE_MINUTES")


def test_ctrl_c_while_the_console_starts_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # Before Textual takes the keys, ctrl+c is a KeyboardInterrupt in the start-up code.
    probe = (
        "import sys\n"
        "import console.cli.open_console as opening\n"
        "from console.launcher import main\n"
        "def interrupted(state):\n"
        "    raise KeyboardInterrupt\n"
        "opening.open_console = interrupted\n"
        "sys.argv = ['backend-console']\n"
        "main()\n"
    )
    completed = run_probe(probe, cli_environment(tmp_path), tmp_path)
    assert (completed.returncode, completed.stdout, completed.stderr) == (130, "", "")


@pytest.mark.parametrize("args", [[], ["--read-only"]])
def test_the_console_without_a_terminal_is_one_sentence(tmp_path: Path, args: list[str]) -> None:
    # stdin and stdout are pipes here: there is nothing to draw on or read keys from.
    result = default_cli(tmp_path)(*args)
    assert (result.code, result.stdout) == (1, "")
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs a terminal" in lines[0]
    assert "backend-console serve" in lines[0]


def test_q_typed_before_the_console_appears_quits_it(tmp_path: Path) -> None:
    # Keys typed during start-up wait for the console; q must reach the table (and the
    # app's binding), not the search box, which is focusable first on the screen.
    with Terminal(default_cli(tmp_path), ["--no-server", "--read-only"]) as terminal:
        terminal.type(b"q")
        assert terminal.finish() == 0


# --- routes ----------------------------------------------------------------------------


def test_routes_lists_the_api_as_a_table_and_as_json(tmp_path: Path) -> None:
    cli = default_cli(tmp_path)
    table = cli("routes").assert_ok().stdout.splitlines()
    assert table[0].split() == ["method", "path", "auth", "roles", "tags", "summary"]
    me = next(line for line in table if line.split()[:2] == ["GET", "/api/users/me"])
    assert me.split()[2:4] == ["token", "admin,support,user"]
    routes = cli("routes", "--json").assert_ok().json()
    by_key = {(route["method"], route["path"]): route for route in routes}
    assert by_key[("POST", "/api/auth/login")]["requires_auth"] is False
    assert by_key[("GET", "/api/users/me")]["requires_auth"] is True
    assert by_key[("GET", "/health")]["tags"] == ["health"]
    assert by_key[("DELETE", "/api/users/{user_id}")]["roles"] == ["admin"]
