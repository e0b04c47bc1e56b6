"""The database going away while the console runs: one banner, reconnection, recovery.

On PostgreSQL the server's connections are killed (pg_terminate_backend) while new
ones are refused; on SQLite the file is made unopenable. No restart either way.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import DEFAULT_TEST_POSTGRES_URL, TEST_PASSWORD, _asyncpg_dsn, make_settings
from console_users_kit import console_context, notices, text_of
from sqlalchemy.engine import make_url
from textual.pilot import Pilot

from backend.database import Database
from backend.schemas.user import UserCreate
from backend.services import migrations, users
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from console.app import BackendConsoleApp
from console.startup import ServerAddress


async def until(pilot: Pilot[Any], condition: Any, seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await pilot.pause(0.05)


def make_unopenable(path: Path) -> Path:
    """Move a SQLite file away and leave a directory in its place; returns where it went."""
    away = path.with_name(path.name + ".away")
    path.rename(away)
    path.mkdir()  # SQLite cannot open a directory: every new connection fails
    return away


def make_openable(path: Path, away: Path) -> None:
    path.rmdir()
    away.rename(path)


async def prepare(url: str) -> None:
    database = Database(url)
    try:
        await migrations.upgrade(database.engine)
        async with database.session() as session:
            data = UserCreate(email="ann@example.com", password=TEST_PASSWORD)
            await users.create_user(session, Actor.cli("test"), data, PasswordHasher(4))
    finally:
        await database.dispose()


@pytest.fixture
async def own_postgresql(postgresql_url: str) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A PostgreSQL database of this test's own, and an admin connection to its server."""
    server_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    name = f"bc_down_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgresql_url).set(database=name).render_as_string(False), admin
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def banner_then_recovery(pilot: Pilot[Any], app: BackendConsoleApp, restore: Any) -> None:
    """The Dashboard and Users show one banner (no red notices) until the database answers."""
    app.screen.action_reload()  # type: ignore[attr-defined]
    await until(pilot, lambda: app.database_down is not None)
    await pilot.pause(0.2)
    banner = app.screen.query_one("DatabaseBanner")
    assert banner.display
    assert "Database unreachable" in text_of(app, "DatabaseBanner")
    assert "unreachable:" in text_of(app, "#dashboard-backend")
    assert "The database does not answer." in text_of(app, "#dashboard-backend")
    await pilot.press("u")
    await pilot.pause(0.5)
    assert app.screen.query_one("DatabaseBanner").display
    await pilot.press("d")
    assert notices(app, "error") == []
    await restore()
    await until(pilot, lambda: app.database_down is None)
    assert "The database answers again." in notices(app)
    await until(pilot, lambda: "round trip" in text_of(app, "#dashboard-backend"))
    assert not app.screen.query_one("DatabaseBanner").display
    assert notices(app, "error") == []
    assert app.unexpected_errors == []


async def test_killed_postgresql_connections_show_the_banner_and_recover_without_restart(
    own_postgresql: tuple[str, asyncpg.Connection], tmp_path: Path
) -> None:
    url, admin = own_postgresql
    name = make_url(url).database
    await prepare(url)
    settings = make_settings(url, tmp_path / "data")
    context = console_context(settings, Database(url))
    app = BackendConsoleApp(context, server=ServerAddress("127.0.0.1", 0))

    async def restore() -> None:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: context.api_url is not None)
        await until(pilot, lambda: "round trip" in text_of(app, "#dashboard-backend"))
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
        assert killed >= 1
        await banner_then_recovery(pilot, app, restore)
        assert context.api_url is not None
        async with httpx.AsyncClient(base_url=context.api_url, trust_env=False) as http:
            assert (await http.get("/health")).status_code == 200  # the same server


async def test_an_unopenable_sqlite_file_shows_the_banner_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "console.db"
    url = f"sqlite+aiosqlite:///{path}"
    await prepare(url)
    database = Database(url)
    app = BackendConsoleApp(console_context(make_settings(url, tmp_path / "data"), database))
    away = path.with_name("console.db.away")

    async def restore() -> None:
        make_openable(path, away)

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "round trip" in text_of(app, "#dashboard-backend"))
        await database.engine.dispose()
        make_unopenable(path)
        await banner_then_recovery(pilot, app, restore)
