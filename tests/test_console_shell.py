"""The console shell: areas and keys, help, the palette, the embedded server, start-up failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import (
    SLOW_QUERIES,
    TEST_SECRET_KEY,
    UserFactory,
    assert_nothing_left_running,
    make_settings,
)
from console_users_kit import console_context, notices, press_for, running_console, settle, text_of
from sqlalchemy import text
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.worker import Worker, WorkerFailed

from backend.config import Settings, load_settings
from backend.database import Database
from backend.models import Role
from console.app import BackendConsoleApp, run_console
from console.commands import ConsoleCommands
from console.context import ConsoleContext
from console.screens.help import HelpDialog, KeyGroup
from console.screens.users import UsersScreen
from console.startup import ServerAddress
from console.widgets.filter_choice import FilterChoice
from console.widgets.status_bar import StatusBar
from console.widgets.user_filters import UserFilters

PROJECT_ROOT = Path(__file__).resolve().parents[1]


async def run_until_it_closes(app: BackendConsoleApp) -> None:
    """Run an app that exits on its own (a start-up failure), headless."""
    async with asyncio.timeout(30):
        await app.run_async(headless=True, size=(80, 24))


@pytest.fixture
def taken_port() -> object:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


async def test_every_area_key_opens_its_screen(settings: Settings, db: Database) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        for key, screen_name in (
            ("m", "MigrationsScreen"),
            ("r", "RoutesScreen"),
            ("d", "DashboardScreen"),
            ("a", "AuditScreen"),
            ("t", "TokensScreen"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert type(app.screen).__name__ == screen_name
            assert app.screen.query(StatusBar)  # the app gives every screen its status bar
        await pilot.press("escape", "u")  # the Tokens screen opens in its token field
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)


async def test_help_lists_the_keys_of_the_screen_and_of_the_app(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, _):
        dialog = await press_for(pilot, HelpDialog, "question_mark")
        described = {item.description: item.group for item in dialog.keys}
        assert described["New"] is KeyGroup.SCREEN
        assert described["Export"] is KeyGroup.SCREEN
        assert described["Quit"] is KeyGroup.EVERYWHERE
        assert described["Tokens"] is KeyGroup.EVERYWHERE
        assert described["Cursor down"] is KeyGroup.MOVING
        assert [item.group for item in dialog.keys] == sorted(item.group for item in dialog.keys)
        await press_for(pilot, UsersScreen, "escape")


async def test_the_palette_lists_every_area_and_the_screen_actions(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user()
    async with running_console(console_context(settings, db)) as (pilot, app):
        provider = ConsoleCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        for area in ("Dashboard", "Users", "Tokens", "Migrations", "Routes", "Audit"):
            assert f"Go to {area}" in titles
        assert {"New", "Edit", "Delete", "Password", "Export", "Help", "Quit"} <= set(titles)
        assert "Cursor up" not in titles  # the table's own keys are not actions
        # Textual's own commands follow the console's, and Quit is listed once.
        assert titles.index("Theme") > titles.index("Export")
        assert titles.count("Quit") == 1
        hits = [hit async for hit in provider.search("go to tok")]
        assert hits
        hits[0].command()
        await settle(pilot)
        assert type(app.screen).__name__ == "TokensScreen"


async def test_ctrl_p_opens_the_palette_on_the_consoles_own_commands(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, _app):
        palette = await press_for(pilot, CommandPalette, "ctrl+p")
        first = palette.query_one(CommandList).get_option_at_index(0).prompt
        assert str(first).startswith("Go to Dashboard")


async def test_the_palette_of_a_read_only_console_offers_no_writes(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db, read_only=True)) as (_pilot, app):
        titles = {hit.text async for hit in ConsoleCommands(app.screen).discover()}
        assert "Export" in titles
        assert titles.isdisjoint({"New", "Edit", "Delete", "Password", "Unlock", "Logout"})


async def test_the_embedded_server_answers_while_the_console_runs_and_stops_on_quit(
    settings: Settings, db: Database
) -> None:
    context = console_context(settings, db)
    app = BackendConsoleApp(context, server=ServerAddress("127.0.0.1", 0))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        url = context.api_url
        assert url is not None
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=5) as client:
            health = await client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert url.removeprefix("http://") in text_of(app, "#status-api")
        assert text_of(app, "#status-schema") == "schema at head"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert context.api_url is None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=2) as client:
            await client.get("/health")


async def test_quitting_during_a_query_ends_it_and_closes_its_connection_before_leaving(
    settings: Settings, db: Database
) -> None:
    threads_before = set(threading.enumerate())
    tasks_before = asyncio.all_tasks()
    app = BackendConsoleApp(console_context(settings, db), server=None, first_area="users")
    running = asyncio.Event()
    workers: list[Worker[None]] = []

    async def slow_query() -> None:
        async with db.engine.connect() as connection:
            running.set()
            await connection.execute(text(SLOW_QUERIES[db.dialect]))

    async def operator(pilot: Pilot[object]) -> None:
        await settle(pilot)
        # A screen's worker, as the screens' queries are: on the way out Textual
        # cancels it twice (every worker of the app, then the screen's own).
        workers.append(app.screen.run_worker(slow_query(), exit_on_error=False))
        await running.wait()
        await asyncio.sleep(0.05)  # the statement is under way
        await pilot.press("q")

    # The way `backend-console` runs it (run_async), not run_test, which shuts down
    # in another order.
    async with asyncio.timeout(30):
        await app.run_async(headless=True, size=(100, 30), auto_pilot=operator)
    assert workers[0].is_cancelled
    assert workers[0].is_finished
    # Each aiosqlite connection has its thread, which ends when it is closed: none of
    # the console's may outlive it (a statement still running kept one).
    for thread in set(threading.enumerate()) - threads_before:
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=2)
            assert not thread.is_alive(), thread.name
    await assert_nothing_left_running(tasks_before)


async def test_a_taken_port_ends_the_console_with_one_sentence(
    settings: Settings, db: Database, taken_port: int
) -> None:
    app = BackendConsoleApp(
        console_context(settings, db), server=ServerAddress("127.0.0.1", taken_port)
    )
    await run_until_it_closes(app)
    assert app.return_code == 1
    assert app.fatal_error == (
        f"Port {taken_port} on 127.0.0.1 is already in use; pass --port or --no-server."
    )


async def test_an_unreachable_database_ends_the_console_with_one_sentence(
    data_dir: Path,
) -> None:
    url = "postgresql+asyncpg://postgres:secret@127.0.0.1:1/nowhere"
    settings = make_settings(url, data_dir)
    app = BackendConsoleApp(ConsoleContext.from_settings(settings), server=None)
    await run_until_it_closes(app)
    assert app.return_code == 1
    assert app.fatal_error is not None
    assert app.fatal_error.startswith(
        "Cannot reach the database at postgresql+asyncpg://postgres:***@127.0.0.1:1/nowhere ("
    )
    assert "secret" not in app.fatal_error


async def test_the_embedded_default_database_is_migrated_on_first_start(data_dir: Path) -> None:
    settings = load_settings(secret_key=TEST_SECRET_KEY, data_dir=data_dir, bcrypt_rounds=4)
    assert settings.uses_default_database
    async with running_console(ConsoleContext.from_settings(settings)) as (_pilot, app):
        assert text_of(app, "#status-schema") == "schema at head"
        assert "Migrated the embedded database to the latest schema." in notices(app)
        assert text_of(app, "#users-position") == "no rows"
    assert (data_dir / "backend-console.db").exists()


async def test_a_failing_first_migration_ends_the_console_with_its_sentence(
    data_dir: Path,
) -> None:
    settings = load_settings(secret_key=TEST_SECRET_KEY, data_dir=data_dir, bcrypt_rounds=4)
    database = Database(settings.resolved_database_url)
    async with database.engine.begin() as connection:  # in the way of the first revision
        await connection.execute(text("CREATE TABLE audit_events (id INTEGER)"))
    await database.dispose()
    app = BackendConsoleApp(ConsoleContext.from_settings(settings), server=None)
    await run_until_it_closes(app)
    assert app.return_code == 1
    assert app.fatal_error is not None
    assert app.fatal_error.startswith("Revision 0001 (upgrade) failed at `CREATE TABLE")
    assert app.fatal_error.endswith("the database is at base.")


async def test_another_database_behind_head_is_reported_not_migrated(data_dir: Path) -> None:
    url = f"sqlite+aiosqlite:///{data_dir / 'shared.db'}"
    settings = make_settings(url, data_dir)
    app = BackendConsoleApp(ConsoleContext.from_settings(settings), server=None)
    async with app.run_test() as pilot:
        with contextlib.suppress(WorkerFailed):  # the table is missing: the screen says so
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert text_of(app, "#status-schema").startswith("schema empty (head ")
        assert any("db upgrade" in notice for notice in notices(app, "warning"))
        assert any("no such table" in notice for notice in notices(app, "error"))
    database = Database(url)
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
    await database.dispose()
    assert tables == []


def test_a_configuration_problem_is_one_sentence_and_exit_1(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(environment="production", data_dir=data_dir)
    with pytest.raises(SystemExit) as exit_info:
        run_console(settings, host=None, port=None, no_server=False, read_only=False)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "backend-console: SECRET_KEY must be set when ENVIRONMENT=production.\n"
    )


def test_a_real_terminal_run_prints_the_port_problem_after_the_screen_closes(
    data_dir: Path, taken_port: int
) -> None:
    script = (
        "from backend.config import load_settings; from console.app import run_console; "
        f"run_console(load_settings(secret_key={TEST_SECRET_KEY!r}, data_dir={str(data_dir)!r}), "
        f"host='127.0.0.1', port={taken_port}, no_server=False, read_only=False)"
    )
    output, code = _run_in_terminal([sys.executable, "-c", script])
    assert code == 1
    assert f"backend-console: Port {taken_port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output


def _run_in_terminal(command: list[str], timeout: float = 60) -> tuple[str, int]:
    """Run `command` on a pseudo-terminal; its whole output and its exit code."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=PROJECT_ROOT, env=env
    )
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(controller)
    return b"".join(chunks).decode("utf-8", "replace"), process.wait(timeout=10)


async def test_a_failing_worker_shows_a_notice_and_the_console_stays_up(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the page query broke")

    monkeypatch.setattr("console.screens.user_paging.page_user_rows", broken)
    app = BackendConsoleApp(console_context(settings, db), server=None, first_area="users")
    async with app.run_test() as pilot:
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert notices(app, "error") == ["RuntimeError: the page query broke"]
        await pilot.press("m")  # still usable
        await pilot.pause()
        assert app.current_mode == "migrations"
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_failing_action_shows_a_notice_and_the_screen_keeps_working(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_screen: UsersScreen) -> None:
        raise ValueError("a bug in an action")

    monkeypatch.setattr(UsersScreen, "action_export_csv", broken)
    app = BackendConsoleApp(console_context(settings, db), server=None, first_area="users")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert notices(app, "error") == ["ValueError: a bug in an action"]
        await pilot.press("question_mark")  # the same screen still answers keys
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)
        await pilot.press("escape", "q")
    assert app.return_code == 0


async def test_a_crashing_handler_restarts_its_screen_instead_of_closing_the_console(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = UsersScreen.on_user_filters_changed
    crashes: list[UsersScreen] = []

    def broken_once(screen: UsersScreen, event: UserFilters.Changed) -> None:
        if event.query.role is Role.ADMIN and not crashes:
            crashes.append(screen)
            raise ValueError("a bug in a message handler")
        original(screen, event)

    monkeypatch.setattr(UsersScreen, "on_user_filters_changed", broken_once)
    app = BackendConsoleApp(console_context(settings, db), server=None, first_area="users")
    async with app.run_test() as pilot:
        await settle(pilot)
        crashed = app.screen
        crashed.query_one("#filter-role", FilterChoice).value = "admin"
        await pilot.pause(0.2)
        await settle(pilot)
        assert app.is_running
        assert notices(app, "error") == ["ValueError: a bug in a message handler"]
        assert "The Users screen was restarted after that error." in notices(app)
        assert isinstance(app.screen, UsersScreen)
        assert app.screen is not crashed
        await press_for(pilot, HelpDialog, "question_mark")
        await pilot.press("escape", "q")
    assert app.return_code == 0
