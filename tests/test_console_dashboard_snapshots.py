"""How the Dashboard and the Audit screen look: healthy, pending migrations, generated key,
database down; the event list, filters, changed fields, export.

As in test_console_snapshots.py: synchronous tests, a SQLite file prepared beforehand,
a pinned clock and pinned events. The Dashboard's measurements (round trip, pool in
use, the SQLite library's version) are pinned after they are read: they vary by run.
Regenerate with `uv run pytest tests/test_console_dashboard_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from audit_kit import relink_chain
from conftest import TEST_PASSWORD, make_settings
from console_users_kit import FIXED_NOW, TESTER, settle
from sqlalchemy import select, update
from test_console_database_down import make_unopenable
from test_console_snapshots import _run_in_fresh_thread, after, click, press, typing
from textual.pilot import Pilot

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.schemas.user import UserCreate, UserUpdate
from backend.services import migrations, users
from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.audit import AuditScreen
from console.screens.dashboard import DashboardScreen

SnapCompare = Callable[..., bool]
DATABASE_URL = "sqlite+aiosqlite:///console.db"
SIZE = (120, 36)
# email, name, role, days since sign-up
PEOPLE = [
    ("ada@example.com", "Ada Lovelace", Role.ADMIN, 400),
    ("ben@example.com", "Ben Okafor", Role.SUPPORT, 20),
    ("chen@example.com", "Chen Wei", Role.USER, 9),
    ("dora@example.com", "Dora Silva", Role.USER, 9),
    ("emil@example.com", "Emil Novak", Role.USER, 2),
]


async def _populate(settings: Settings) -> None:
    database = Database(settings.resolved_database_url)
    await migrations.upgrade(database.engine)
    hasher = AuthPolicy.from_settings(settings).hasher
    async with database.session() as session:
        ids = {}
        for email, name, role, age_days in PEOPLE:
            data = UserCreate(email=email, full_name=name, role=role, password=TEST_PASSWORD)
            user = await users.create_user(session, Actor.cli("seed"), data, hasher)
            ids[email] = user.id
            created = FIXED_NOW - dt.timedelta(days=age_days)
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(created_at=created, updated_at=created)
            )
        await session.commit()
        edit = UserUpdate(version=1, full_name="Dora Silva-Lopes", password="a new password")
        await users.update_user(session, TESTER, ids["dora@example.com"], edit, hasher)
        await users.set_active(
            session, Actor.api_user(1, Role.ADMIN), ids["emil@example.com"], False
        )
        failure = {"failed_login_count": 1, "client": "203.0.113.7"}
        chen = f"user:{ids['chen@example.com']}"
        record_event(session, Actor.anonymous(), "auth.login_failed", chen, failure)
        await session.commit()
        await users.delete_user(session, TESTER, ids["ben@example.com"])
        # Every event a minute after the one before, ending an hour before "now".
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        for number, event in enumerate(events):
            event.at = FIXED_NOW - dt.timedelta(hours=1, minutes=len(events) - number)
            if "tokens_valid_after" in event.changes:  # the cut-off is the real clock's
                before, _now = event.changes["tokens_valid_after"]
                pinned = [before, event.at.replace(microsecond=0).isoformat()]
                event.changes = {**event.changes, "tokens_valid_after": pinned}
        await session.commit()
        await relink_chain(session)
    await database.dispose()


@pytest.fixture
def dashboard_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL, Path("data"))
    _run_in_fresh_thread(lambda: _populate(settings))
    return settings


def console(settings: Settings, first_area: str = "dashboard") -> BackendConsoleApp:
    context = ConsoleContext(
        settings=settings,
        database=Database(settings.resolved_database_url),
        policy=AuthPolicy.from_settings(settings),
        actor=TESTER,
        clock=lambda: FIXED_NOW,
        display_timezone=dt.UTC,
    )
    return BackendConsoleApp(context, server=None, first_area=first_area)


async def pin_measurements(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    figures = screen._database  # measured: a round trip differs each time
    if figures is not None:
        pinned = dataclasses.replace(
            figures, round_trip_ms=0.4, pool_in_use=0, pool_size=5, server_version="3.40.1"
        )
        screen._database = pinned
    screen._show_backend()


def dashboard_steps(*steps: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[..., Any]:
    return after(*steps, pin_measurements)


def test_dashboard_healthy(dashboard_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console(dashboard_settings), run_before=dashboard_steps(), terminal_size=SIZE
    )


def test_dashboard_with_a_generated_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL, Path("data"), secret_key=None)
    _run_in_fresh_thread(lambda: _populate(settings))
    assert snap_compare(console(settings), run_before=dashboard_steps(), terminal_size=SIZE)


@pytest.fixture
def behind_head(dashboard_settings: Settings) -> Settings:
    async def downgrade() -> None:
        database = Database(dashboard_settings.resolved_database_url)
        await migrations.downgrade(database.engine, "0002")
        await database.dispose()

    _run_in_fresh_thread(downgrade)
    return dashboard_settings


def test_dashboard_with_pending_migrations(
    behind_head: Settings, snap_compare: SnapCompare
) -> None:
    assert snap_compare(console(behind_head), run_before=dashboard_steps(), terminal_size=SIZE)


def test_dashboard_at_80x24_counts_the_warnings_it_has_no_room_for_and_w_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL, Path("data"), secret_key=None)

    async def populate_behind_head() -> None:
        await _populate(settings)
        database = Database(settings.resolved_database_url)
        await migrations.downgrade(database.engine, "0002")
        await database.dispose()

    _run_in_fresh_thread(populate_behind_head)
    assert snap_compare(
        console(settings), run_before=dashboard_steps(press("w")), terminal_size=(80, 24)
    )


async def _take_the_database_away(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, BackendConsoleApp)
    await app.context.database.engine.dispose()
    make_unopenable(Path("console.db"))
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    screen.action_reload()

    def reading() -> bool:
        return any(not w.is_finished for w in app.workers if w.group.startswith("dashboard"))

    async with asyncio.timeout(10):  # the reconnection goes on meanwhile
        while app.database_down is None or reading():
            await pilot.pause(0.05)
    await pilot.pause()


def test_dashboard_with_the_database_down(
    dashboard_settings: Settings, snap_compare: SnapCompare
) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pin_measurements(pilot)
        await _take_the_database_away(pilot)

    assert snap_compare(console(dashboard_settings), run_before=run, terminal_size=SIZE)


def to_event(index: int) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, AuditScreen)
        screen.query_one("#audit-table").move_cursor(row=index)  # type: ignore[attr-defined]

    return step


def test_audit_list(dashboard_settings: Settings, snap_compare: SnapCompare) -> None:
    app = console(dashboard_settings, "audit")
    assert snap_compare(app, run_before=after(), terminal_size=SIZE)


def test_audit_changed_fields(dashboard_settings: Settings, snap_compare: SnapCompare) -> None:
    app = console(dashboard_settings, "audit")
    assert snap_compare(app, run_before=after(to_event(3)), terminal_size=SIZE)


def test_audit_filters(dashboard_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(
        typing("#audit-actor", "console:tester"), typing("#audit-text", "dora"), wait_filters
    )
    assert snap_compare(console(dashboard_settings, "audit"), run_before=steps, terminal_size=SIZE)


async def wait_filters(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.4)  # the filters apply once typing pauses
    await settle(pilot)


def test_audit_export(dashboard_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("x"), typing("#path", "audit.csv"), click("#export"))
    assert snap_compare(console(dashboard_settings, "audit"), run_before=steps, terminal_size=SIZE)
