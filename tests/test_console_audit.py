"""The Audit screen: keyset pages both ways, filters and their mistakes, Users, export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import UserFactory
from console_users_kit import console_context, fill, notices, settle, text_of
from sqlalchemy.ext.asyncio import AsyncSession
from textual.widgets import Input

from backend.config import Settings
from backend.database import Database
from backend.models import Role
from backend.services.actor import Actor
from backend.services.audit import record_event
from console.app import BackendConsoleApp
from console.screens.audit import PAGE_SIZE, AuditScreen
from console.screens.users import UsersScreen


async def record(session: AsyncSession, count: int) -> None:
    for number in range(count):
        actor = Actor.console("ann") if number % 2 else Actor.cli("bob")
        record_event(session, actor, "thing.touch", f"user:{number % 3}", {"n": number})
    await session.commit()


def audit_app(settings: Settings, db: Database) -> BackendConsoleApp:
    return BackendConsoleApp(console_context(settings, db), server=None, first_area="audit")


async def test_pages_go_older_and_back_newer(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    await record(session, PAGE_SIZE + 10)
    app = audit_app(settings, db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AuditScreen)
        assert [e.changes["n"] for e in screen.events][:2] == [PAGE_SIZE + 9, PAGE_SIZE + 8]
        assert "newest first" in text_of(pilot.app, "#audit-position")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert [e.changes["n"] for e in screen.events] == list(range(9, -1, -1))
        assert "[ newer" in text_of(pilot.app, "#audit-position")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "No more events that way." in notices(pilot.app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.events[0].changes["n"] == PAGE_SIZE + 9
        assert app.unexpected_errors == []


async def test_filters_narrow_the_list_and_mistakes_are_one_notice(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    await record(session, 9)
    app = audit_app(settings, db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AuditScreen)
        await fill(pilot, "#audit-actor", "console:ann")
        await fill(pilot, "#audit-target", "user:1")
        await pilot.pause(0.4)
        await settle(pilot)
        assert [e.changes["n"] for e in screen.events] == [7, 1]
        await fill(pilot, "#audit-since", "last tuesday")
        await pilot.pause(0.4)
        await settle(pilot)
        assert any("is not a moment" in n for n in notices(pilot.app, "error"))
        await fill(pilot, "#audit-since", "")
        await fill(pilot, "#audit-target", "ann")
        await pilot.pause(0.4)
        await settle(pilot)
        assert any("takes a user id" in n for n in notices(pilot.app, "error"))
        assert [e.changes["n"] for e in screen.events] == [7, 1]  # the last good filters
        assert app.unexpected_errors == []


async def test_j_shows_the_events_user_on_users_and_a_comes_back(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.USER, email="ann@example.com")
    async with audit_app(settings, db).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(pilot.app.screen, UsersScreen)
        assert pilot.app.screen.query_one("#search", Input).value == "ann@example.com"
        await pilot.press("escape", "a")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AuditScreen)
        assert screen.selected is not None
        assert screen.selected.action == "user.create"


async def test_j_on_an_event_without_a_user_says_so(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    record_event(session, Actor.cli("bob"), "user.export", "", {"count": 3})
    record_event(session, Actor.cli("bob"), "user.delete", "user:999", {"email": "x@e.com"})
    await session.commit()
    async with audit_app(settings, db).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert "User 999 no longer exists." in notices(pilot.app, "warning")
        await pilot.press("down", "j")
        await settle(pilot)
        assert "The selected event is not about a user." in notices(pilot.app, "warning")
        assert isinstance(pilot.app.screen, AuditScreen)


async def test_export_writes_the_filtered_view_to_csv(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    await record(session, 7)
    async with audit_app(settings, db).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await fill(pilot, "#audit-actor", "cli:bob")
        await pilot.pause(0.4)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await fill(pilot, "#path", "bob.csv")
        await pilot.click("#export")
        await settle(pilot)
        assert "Exported 4 events to bob.csv." in text_of(pilot.app, "#export-status")
    rows = list(csv.reader((tmp_path / "bob.csv").open(encoding="utf-8")))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert [row[2] for row in rows[1:]] == ["cli:bob"] * 4


async def test_the_selected_events_changes_show_before_and_after_only_for_changed_values(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    record_event(session, Actor.cli("bob"), "user.update", "user:1", {"role": ["user", "admin"]})
    record_event(session, Actor.cli("bob"), "user.create", "user:2", {"email": "c@example.com"})
    await session.commit()
    app = audit_app(settings, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        created = text_of(pilot.app, "#audit-detail").splitlines()
        assert [line.split() for line in created[-2:]] == [
            ["field", "value"],
            ["email", "c@example.com"],
        ]
        await pilot.press("down")
        await settle(pilot)
        updated = text_of(pilot.app, "#audit-detail").splitlines()
        assert [line.split() for line in updated[-2:]] == [
            ["field", "before", "after"],
            ["role", "user", "admin"],
        ]
        assert app.unexpected_errors == []
