"""The Dashboard: the console's first screen, its figures, the live request log, the audit link."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from conftest import TEST_SECRET_KEY, UserFactory
from console_users_kit import console_context, notices, settle, text_of
from sqlalchemy.ext.asyncio import AsyncSession
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from backend.config import Settings, load_settings
from backend.database import Database
from backend.models import Role
from backend.services import audit_key
from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.audit_reanchor import reanchor_chain
from console.app import BackendConsoleApp
from console.screens.audit import AuditScreen
from console.screens.dashboard import DashboardScreen, administrator_warning
from console.startup import ServerAddress
from console.widgets.dashboard.panels import warning_rows


async def until(pilot: Pilot[Any], condition: Any, seconds: float = 10.0) -> None:
    """Pause until `condition()` holds (the Dashboard's timers keep workers coming)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await pilot.pause(0.05)


async def test_the_console_opens_on_the_dashboard_with_its_figures(
    settings: Settings, db: Database, make_user: UserFactory, session: AsyncSession
) -> None:
    await make_user(Role.ADMIN)
    await make_user(Role.USER)
    app = BackendConsoleApp(console_context(settings, db), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        accounts = text_of(app, "#accounts-figures")
        assert "Total      2 (2 active)" in accounts
        assert "Admins     1" in accounts
        backend = text_of(app, "#dashboard-backend")
        assert "server off" in backend
        assert f"{db.dialect} " in backend
        assert "(head)" in backend
        assert "Only one active administrator" in backend
        assert "Development mode" in backend
        assert "SECRET_KEY" not in backend  # the tests' settings give one
        assert "Audit chain broken" not in backend
        audit = app.screen.query_one("#dashboard-audit", OptionList)
        assert audit.option_count == 2  # the two user.create events
        assert app.unexpected_errors == []


async def test_no_active_administrator_is_a_warning_that_names_the_way_out(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(Role.SUPPORT)  # a new database: accounts, but no administrator yet
    await make_user(Role.USER)
    app = BackendConsoleApp(console_context(settings, db), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        backend = text_of(app, "#dashboard-backend")
        assert "No active administrator: create one (Users: n)." in backend
        assert "Only one active administrator" not in backend
        assert "Admins     0" in text_of(app, "#accounts-figures")
        await pilot.press("w")
        assert notices(app, "warning")[-1].splitlines() == [
            "▲ No active administrator: create one (Users: n).",
            "▲ Development mode: set ENVIRONMENT=production.",
        ]


def test_administrator_warnings_name_the_way_out_this_console_has() -> None:
    assert administrator_warning(1, read_only=False) == (
        "Only one active administrator: promote a second one."
    )
    assert administrator_warning(0, read_only=False) == (
        "No active administrator: create one (Users: n)."
    )
    assert administrator_warning(0, read_only=True) == (
        "No active administrator: `users create --role admin`."
    )


async def test_two_active_administrators_are_no_warning(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)
    app = BackendConsoleApp(console_context(settings, db, read_only=True), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        backend = text_of(app, "#dashboard-backend")
        assert "Admins     2" in text_of(app, "#accounts-figures")
        assert "administrator" not in backend
        assert "Development mode" in backend


def test_warnings_beyond_the_panels_room_are_counted_on_its_last_row() -> None:
    warnings = ["first", "second", "third", "fourth"]

    def shown(room: int) -> list[tuple[str, str]]:
        return [(label, str(line)) for label, line in warning_rows(warnings, room)]

    assert shown(4) == [
        ("Warnings", "▲ first"),
        ("", "▲ second"),
        ("", "▲ third"),
        ("", "▲ fourth"),
    ]
    assert shown(3) == [
        ("Warnings", "▲ first"),
        ("", "▲ second"),
        ("", "▲ 2 more: w lists every warning"),
    ]
    assert shown(1) == [("Warnings", "▲ 4 more: w lists every warning")]
    assert len(shown(0)) == 4  # not laid out yet: everything
    assert [(label, str(line)) for label, line in warning_rows([], 3)] == [("Warnings", "none")]


async def test_a_broken_audit_chain_is_a_warning(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    from sqlalchemy import text

    for number in range(3):
        record_event(session, Actor.cli("ann"), "thing.touch", "", {"n": number})
        await session.commit()
    await session.execute(text("UPDATE audit_events SET actor = 'cli:eve' WHERE chain_seq = 2"))
    await session.commit()
    app = BackendConsoleApp(console_context(settings, db), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Audit chain broken: event" in text_of(app, "#dashboard-backend")


async def test_a_chain_signed_again_meanwhile_is_no_warning(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    for number in range(3):
        record_event(session, Actor.cli("ann"), "thing.touch", "", {"n": number})
        await session.commit()
    app = BackendConsoleApp(console_context(settings, db), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        # SECRET_KEY changed and the chain re-anchored while the Dashboard watches it.
        audit_key.use_settings(load_settings(secret_key="a-rotated-key-0123456789-0123456789"))
        try:
            await reanchor_chain(session, Actor.cli("ann"), previous_secret_key=TEST_SECRET_KEY)
            screen.refresh_audit()
            await settle(pilot)
            assert "Audit chain broken" not in text_of(app, "#dashboard-backend")
        finally:
            audit_key.use_settings(load_settings(secret_key=TEST_SECRET_KEY))


async def test_enter_on_a_recent_event_opens_audit_at_that_event(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    for number in range(4):
        record_event(session, Actor.cli("ann"), "thing.touch", f"user:{number}", {"n": number})
    await session.commit()
    app = BackendConsoleApp(console_context(settings, db), server=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # the third newest event
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert [event.changes["n"] for event in screen.events] == [1, 0]
        assert screen.selected is not None
        assert screen.selected.target == "user:1"
        assert app.unexpected_errors == []


async def test_the_live_log_shows_the_embedded_servers_requests_filtered_and_paused(
    settings: Settings, db: Database
) -> None:
    context = console_context(settings, db)
    app = BackendConsoleApp(context, server=ServerAddress("127.0.0.1", 0))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: context.api_url is not None)
        api_url = str(context.api_url)
        async with httpx.AsyncClient(base_url=api_url, trust_env=False) as http:
            await http.get("/api/users/me", headers={"Authorization": "Bearer not-a-token"})
            await http.get("/health")
            await http.get("/nowhere")
        await until(pilot, lambda: "/nowhere" in text_of(app, "#requests-lines"))
        lines = text_of(app, "#requests-lines")
        assert "/api/users/me" in lines
        assert "not-a-token" not in lines
        await until(pilot, lambda: "/health 200 in" in text_of(app, "#dashboard-backend"))
        assert "req/s" in text_of(app, "#dashboard-backend")

        await pilot.press("s", "s", "s")  # all -> 2xx -> 3xx -> 4xx
        assert text_of(app, "#requests-status") == "status: 4xx"
        lines = text_of(app, "#requests-lines")
        assert "/nowhere" in lines
        assert "/health" not in lines
        await pilot.press("slash", *"users")
        assert app.screen.focused is app.screen.query_one("#requests-path", Input)
        await until(pilot, lambda: "/nowhere" not in text_of(app, "#requests-lines"))
        assert "/api/users/me" in text_of(app, "#requests-lines")

        await pilot.press("escape", "p")
        assert "PAUSED" in text_of(app, "#requests-paused")
        async with httpx.AsyncClient(base_url=api_url, trust_env=False) as http:
            await http.get("/api/users/me/unknown")
        await pilot.pause(1.5)
        assert "/api/users/me/unknown" not in text_of(app, "#requests-lines")
        await pilot.press("p")
        await until(pilot, lambda: "/api/users/me/unknown" in text_of(app, "#requests-lines"))
        assert app.unexpected_errors == []
        assert notices(app, "error") == []
