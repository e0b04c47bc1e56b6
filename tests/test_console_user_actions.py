"""Every Users screen action, driven with Pilot; the database is checked afterwards."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD, UserFactory
from console_users_kit import (
    FIXED_NOW,
    console_context,
    fill,
    notices,
    press_for,
    running_console,
    settle,
    text_of,
)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from textual.widgets import Button, Checkbox, Select

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.services import tokens
from backend.services.errors import NotAuthenticated
from backend.services.policy import AuthPolicy
from console.screens.dialogs import BulkDialog, ConfirmDialog, SecretDialog, TypedConfirmDialog
from console.screens.export_dialog import ExportDialog
from console.screens.password_dialog import PasswordDialog
from console.screens.user_form import UserFormDialog
from console.screens.users import UsersScreen
from console.widgets.filter_choice import FilterChoice


async def reload_user(session: AsyncSession, email: str) -> User | None:
    """The user as the database has it now (the console wrote through its own sessions)."""
    query = select(User).where(User.email == email).execution_options(populate_existing=True)
    return await session.scalar(query)


async def audit_actions(session: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    events = await session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"user:{user_id}").order_by(AuditEvent.id)
    )
    return [(event.actor, event.action) for event in events]


def select_row(app: object, email: str) -> None:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, UsersScreen)
    index = [row.email for row in screen.pager.window.rows].index(email)
    screen.table.move_cursor(row=index)


async def test_create_a_user_with_a_typed_password(
    settings: Settings, db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await press_for(pilot, UserFormDialog, "n")
        await fill(pilot, "#email", "New.Person@Example.com")
        await fill(pilot, "#full_name", "New Person")
        app.screen.query_one("#role", Select).value = "support"
        await fill(pilot, "#password", TEST_PASSWORD)
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "new.person@example.com" in [row.email for row in app.screen.pager.window.rows]
    user = await reload_user(session, "new.person@example.com")
    assert user is not None
    assert (user.full_name, user.role) == ("New Person", "support")
    assert await policy.hasher.verify(TEST_PASSWORD, user.hashed_password)
    assert await audit_actions(session, user.id) == [("console:tester", "user.create")]


async def test_create_with_a_generated_password_shows_it_once(
    settings: Settings, db: Database, session: AsyncSession, policy: AuthPolicy
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#email", "gen@example.com")
        dialog = await press_for(pilot, SecretDialog, "enter")
        secret = dialog.secret
        await pilot.click("#copy")
        assert app.clipboard == secret
        await pilot.click("#done")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    user = await reload_user(session, "gen@example.com")
    assert user is not None
    assert len(secret) >= 24
    assert await policy.hasher.verify(secret, user.hashed_password)


async def test_edit_name_role_and_active(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user(email="edit@example.com", full_name="Old Name")
    async with running_console(console_context(settings, db)) as (pilot, app):
        form = await press_for(pilot, UserFormDialog, "e")
        await fill(pilot, "#full_name", "New Name")
        form.query_one("#role", Select).value = "support"
        form.query_one("#is_active", Checkbox).value = False
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "Saved edit@example.com." in notices(app)
    fresh = await reload_user(session, "edit@example.com")
    assert fresh is not None
    assert (fresh.full_name, fresh.role, fresh.is_active, fresh.version) == (
        "New Name",
        "support",
        False,
        2,
    )
    assert await audit_actions(session, user.id) == [
        ("cli:fixture", "user.create"),
        ("console:tester", "user.update"),
    ]


async def test_reset_password_typed_and_generated(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    make_user: UserFactory,
    policy: AuthPolicy,
) -> None:
    user = await make_user(email="pw@example.com")
    stolen = tokens.issue_token(user, policy)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await press_for(pilot, PasswordDialog, "p")
        await fill(pilot, "#password", "a brand new secret")
        await pilot.press("enter")
        await settle(pilot)
        assert (
            "Changed the password of pw@example.com; every session of the account has ended."
            in notices(app)
        )
        fresh = await reload_user(session, "pw@example.com")
        assert fresh is not None
        assert await policy.hasher.verify("a brand new secret", fresh.hashed_password)
        await pilot.press("p")
        await settle(pilot)
        await pilot.click("#generate")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, SecretDialog)
        assert shown.secret not in " ".join(notices(app))
    fresh = await reload_user(session, "pw@example.com")
    assert fresh is not None
    assert await policy.hasher.verify(shown.secret, fresh.hashed_password)
    actions = await audit_actions(session, user.id)
    assert actions[-2:] == [("console:tester", "user.reset_password")] * 2
    # A reset ends every session of the account (issue 16).
    with pytest.raises(NotAuthenticated):
        await tokens.authenticate_token(session, policy, stolen.token)


async def test_unlock_and_force_logout(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user(email="lock@example.com")
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(locked_until=FIXED_NOW.replace(year=2099), failed_login_count=5)
    )
    await session.commit()
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("l")
        await settle(pilot)
        assert "Unlocked lock@example.com." in notices(app)
        await press_for(pilot, ConfirmDialog, "o")
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Logged out lock@example.com." in notices(app)
    fresh = await reload_user(session, "lock@example.com")
    assert fresh is not None
    assert (fresh.locked_until, fresh.failed_login_count) == (None, 0)
    assert fresh.tokens_valid_after is not None
    assert [action for _, action in await audit_actions(session, user.id)][-2:] == [
        "user.unlock",
        "user.revoke_tokens",
    ]


async def test_cancelled_force_logout_changes_nothing(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="stay@example.com")
    async with running_console(console_context(settings, db)) as (pilot, _):
        await pilot.press("o")
        await settle(pilot)
        await press_for(pilot, UsersScreen, "escape")
    fresh = await reload_user(session, "stay@example.com")
    assert fresh is not None
    assert fresh.tokens_valid_after is None


async def test_delete_needs_the_email_typed(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    gone_id = (await make_user(email="gone@example.com")).id
    await make_user(email="kept@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        select_row(app, "gone@example.com")
        dialog = await press_for(pilot, TypedConfirmDialog, "delete")
        await fill(pilot, "#typed", "kept@example.com")
        assert dialog.query_one("#confirm", Button).disabled
        await fill(pilot, "#typed", "gone@example.com")
        await pilot.press("enter")
        await settle(pilot)
        assert "Deleted gone@example.com." in notices(app)
        assert isinstance(app.screen, UsersScreen)
        assert [row.email for row in app.screen.pager.window.rows] == ["kept@example.com"]
    assert await reload_user(session, "gone@example.com") is None
    assert await reload_user(session, "kept@example.com") is not None
    assert ("console:tester", "user.delete") in await audit_actions(session, gone_id)


async def test_bulk_actions_apply_to_the_marked_rows(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    for name in ("a", "b", "c"):
        await make_user(email=f"{name}@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("space", "space")  # space marks and moves to the next row
        assert "2 marked" in text_of(app, "#users-position")
        await press_for(pilot, BulkDialog, "b")
        await pilot.click("#bulk-deactivate")
        await settle(pilot)
        assert "Deactivated 2 of 2 users." in notices(app)
        assert screen.marked == {}
        for choice in ("#bulk-force_logout", "#bulk-activate"):
            select_row(app, "a@example.com")
            await pilot.press("space", "b")
            await settle(pilot)
            await pilot.click(choice)
            await settle(pilot)
    users = {email: await reload_user(session, f"{email}@example.com") for email in "abc"}
    assert {email: user.is_active for email, user in users.items() if user} == {
        "a": True,
        "b": False,
        "c": True,
    }
    assert users["a"] is not None
    assert users["a"].tokens_valid_after is not None


async def test_bulk_activate_counts_only_the_accounts_it_changed(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    awake = await make_user(email="a@example.com")
    dormant = await make_user(email="b@example.com")
    await session.execute(update(User).where(User.id == dormant.id).values(is_active=False))
    await session.commit()
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("space", "space", "b")
        await settle(pilot)
        await pilot.click("#bulk-activate")
        await settle(pilot)
        assert "Activated 1 of 2 users; 1 already was." in notices(app)
    assert ("console:tester", "user.activate") in await audit_actions(session, dormant.id)
    assert ("console:tester", "user.activate") not in await audit_actions(session, awake.id)
    activated = await reload_user(session, "b@example.com")
    assert activated is not None
    assert activated.is_active


async def test_export_writes_the_current_view(
    settings: Settings, db: Database, make_user: UserFactory, tmp_path: Path
) -> None:
    await make_user(email="one@example.com")
    await make_user(Role.SUPPORT, email="two@example.com")
    target = tmp_path / "view.csv"
    async with running_console(console_context(settings, db)) as (pilot, app):
        app.screen.query_one("#filter-role", FilterChoice).value = "support"
        await settle(pilot)
        await press_for(pilot, ExportDialog, "x")
        await fill(pilot, "#path", str(target))
        await pilot.click("#export")
        await settle(pilot)
        assert "Exported 1 users" in text_of(app, "#export-status")
        # The button is now "Close". Button ignores a click while the previous click's
        # press effect (0.2 s) still shows, as a person's second click never lands then.
        close = app.screen.query_one("#export")
        for _ in range(40):
            if not close.has_class("-active"):
                break
            await pilot.pause(0.05)
        await pilot.click("#export")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: the owner's only
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,email,full_name,role")
    assert [line.split(",")[1] for line in lines[1:]] == ["two@example.com"]


async def test_export_refuses_to_overwrite_a_file(
    settings: Settings, db: Database, make_user: UserFactory, tmp_path: Path
) -> None:
    await make_user()
    target = tmp_path / "taken.csv"
    target.write_text("precious", encoding="utf-8")
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("x")
        await settle(pilot)
        await fill(pilot, "#path", str(target))
        await pilot.click("#export")
        await settle(pilot)
        assert "already exists" in text_of(app, "#path-error")
    assert target.read_text(encoding="utf-8") == "precious"
