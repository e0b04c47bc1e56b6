"""How the console looks: the Users table, its panel, every dialog, read-only, help.

snap_compare runs each app in its own event loop, so these tests are synchronous: the
SQLite file is prepared beforehand (asyncio.run in a thread of its own) and each app
builds its own Database from the settings. Timestamps are pinned and cursors frozen.
Regenerate with `uv run pytest tests/test_console_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PASSWORD, make_settings
from console_users_kit import FIXED_NOW, TESTER, fill, freeze_cursors, settle
from sqlalchemy import update
from textual.pilot import Pilot
from textual.widgets import Select

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.schemas.user import UserCreate, UserUpdate
from backend.services import migrations, users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.dialogs import SecretDialog
from console.screens.users import UsersScreen

SnapCompare = Callable[..., bool]
DATABASE_URL = "sqlite+aiosqlite:///console.db"  # relative: the status bar shows the same URL
PEOPLE = [
    # email, name, role, days since sign-up, hours since last login (None: never)
    ("ada@example.com", "Ada Lovelace", Role.ADMIN, 900, 2),
    ("ben.okafor@example.com", "Ben Okafor", Role.SUPPORT, 400, 30),
    ("chen.wei@example.com", "Chen Wei", Role.USER, 300, None),
    ("dora.silva@example.com", "Dora Silva", Role.USER, 200, 500),
    ("emil.novak@example.com", "Emil Novak", Role.USER, 100, 4),
    ("farah.khan@example.com", "Farah Khan", Role.USER, 50, 1),
    ("gus.meyer@example.com", "Gus Meyer", Role.USER, 20, None),
    ("hana.sato@example.com", "Hana Sato", Role.USER, 5, 70),
]


def _run_in_fresh_thread(work: Callable[[], Awaitable[None]]) -> None:
    """asyncio.run, on a thread with no event loop of its own (pytest's stays untouched)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as error:  # handed to the test thread below
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _populate(settings: Settings) -> None:
    database = Database(settings.resolved_database_url)
    await migrations.upgrade(database.engine)
    hasher = AuthPolicy.from_settings(settings).hasher
    seeder = Actor.cli("seed")
    async with database.session() as session:
        for email, name, role, age_days, login_hours in PEOPLE:
            data = UserCreate(email=email, full_name=name, role=role, password=TEST_PASSWORD)
            user = await users.create_user(session, seeder, data, hasher)
            created = FIXED_NOW - dt.timedelta(days=age_days)
            login = None if login_hours is None else FIXED_NOW - dt.timedelta(hours=login_hours)
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(created_at=created, updated_at=login or created, last_login_at=login)
            )
        # Dora is locked out for a while; Gus has been deactivated. (updated_at is given:
        # the column's onupdate would stamp the real time.)
        pinned = {"updated_at": FIXED_NOW - dt.timedelta(hours=1)}
        await session.execute(
            update(User)
            .where(User.email == "dora.silva@example.com")
            .values(
                locked_until=FIXED_NOW + dt.timedelta(minutes=12), failed_login_count=5, **pinned
            )
        )
        await session.execute(
            update(User)
            .where(User.email == "gus.meyer@example.com")
            .values(is_active=False, **pinned)
        )
        await session.execute(update(AuditEvent).values(at=FIXED_NOW - dt.timedelta(days=1)))
        await session.commit()
    await database.dispose()


@pytest.fixture
def snapshot_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL, Path("data"))
    _run_in_fresh_thread(lambda: _populate(settings))
    return settings


def console(settings: Settings, *, actor: Actor = TESTER, read_only: bool = False) -> Any:
    """The console as snap_compare runs it: its own Database, no server, pinned time."""
    context = ConsoleContext(
        settings=settings,
        database=Database(settings.resolved_database_url),
        policy=AuthPolicy.from_settings(settings),
        actor=actor,
        read_only=read_only,
        clock=lambda: FIXED_NOW,
        display_timezone=dt.UTC,
    )
    return BackendConsoleApp(context, server=None, first_area="users")


def after(*steps: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Any]:
    """A run_before that settles, runs `steps`, settles again and freezes the cursors."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for step in steps:
            await step(pilot)
            await settle(pilot)
        freeze_cursors(pilot)

    return run


def press(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)

    return step


def typing(selector: str, value: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        await fill(pilot, selector, value)

    return step


def click(selector: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.click(selector)

    return step


def to_row(index: int) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, UsersScreen)
        screen.table.move_cursor(row=index)

    return step


def test_users_table(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after())


def test_users_table_wide_with_detail_panel(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    app = console(snapshot_settings)
    assert snap_compare(app, terminal_size=(160, 32), run_before=after(to_row(3)))


def test_detail_panel(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    app = console(snapshot_settings)
    assert snap_compare(app, run_before=after(to_row(3), press("enter")))


def test_marked_rows_and_search(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("space", "down", "space"), press("slash", *"ex"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_create_form(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(press("n")))


def test_create_form_with_the_role_list_open(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    steps = after(press("n"), typing("#email", "ann@example.com"), press("tab", "tab", "enter"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_role_filter_menu_open(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(click("#filter-role"), press("down"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_create_form_with_validation_errors(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    steps = after(
        press("n"), typing("#email", "not an email"), typing("#password", "short"), press("enter")
    )
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_create_form_with_a_duplicate_email(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    steps = after(
        press("n"),
        typing("#email", "ada@example.com"),
        typing("#password", "long enough password"),
        press("enter"),
    )
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_edit_form(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(to_row(1), press("e")))


def test_edit_form_with_a_forbidden_role_change(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    support = Actor(label="console:helpdesk", role=Role.SUPPORT, user_id=2)

    async def promote(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one("#role", Select).value = Role.ADMIN.value

    steps = after(to_row(4), press("e"), promote, click("#save"))
    assert snap_compare(console(snapshot_settings, actor=support), run_before=steps)


def test_edit_form_with_a_version_conflict(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    async def someone_else_saves(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, BackendConsoleApp)
        context = app.context
        async with context.database.session() as session:
            data = UserUpdate(version=1, full_name="Emil N. Novak")
            await users.update_user(session, Actor.cli("other"), 5, data, context.policy.hasher)

    steps = after(
        to_row(4), press("e"), someone_else_saves, typing("#full_name", "Emil"), click("#save")
    )
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_password_dialog(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(to_row(2), press("p")))


def test_password_dialog_with_a_short_password(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    steps = after(to_row(2), press("p"), typing("#password", "1234"), press("enter"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_generated_password_shown_once(
    snapshot_settings: Settings, snap_compare: SnapCompare
) -> None:
    async def show(pilot: Pilot[Any]) -> None:
        note = "Shown only this once: copy it now and hand it over safely."
        secret = "fixed-Secret-for-the-snapshot"
        await pilot.app.push_screen(
            SecretDialog("New password for chen.wei@example.com", secret, note)
        )

    assert snap_compare(console(snapshot_settings), run_before=after(show))


def test_force_logout_confirmation(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(to_row(1), press("o")))


def test_delete_confirmation(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(to_row(2), press("delete"), typing("#typed", "chen.wei@"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_last_admin_refusal(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("delete"), typing("#typed", "ada@example.com"), press("enter"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_bulk_dialog(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("space", "space", "space", "b"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_export_dialog(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("x"), typing("#path", "users.csv"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_export_finished(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    steps = after(press("x"), typing("#path", "users.csv"), click("#export"))
    assert snap_compare(console(snapshot_settings), run_before=steps)


def test_read_only_console(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings, read_only=True), run_before=after())


def test_help(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(press("question_mark")))


def test_command_palette(snapshot_settings: Settings, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(snapshot_settings), run_before=after(press("ctrl+p")))
