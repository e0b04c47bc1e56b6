"""Input the Users screen must refuse: a clear message, and the database left as it was."""

from __future__ import annotations

from conftest import UserFactory
from console_users_kit import (
    console_context,
    fill,
    notices,
    press_for,
    running_console,
    settle,
    text_of,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from textual.widgets import Input, Select

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.schemas.user import UserUpdate
from backend.services import users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from console.screens.password_dialog import PasswordDialog
from console.screens.user_form import UserFormDialog
from console.screens.users import UsersScreen


async def snapshot_of(session: AsyncSession) -> list[tuple[object, ...]]:
    """Every user row and the audit count: what "unchanged" means here."""
    rows = await session.execute(
        select(User.id, User.email, User.full_name, User.role, User.is_active, User.version)
        .order_by(User.id)
        .execution_options(populate_existing=True)
    )
    events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return [tuple(row) for row in rows] + [("audit", events)]


async def test_duplicate_email_is_refused_in_the_form(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="taken@example.com")
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#email", "TAKEN@example.com")
        await fill(pilot, "#password", "long enough password")
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormDialog)  # the form stays open to fix it
        # Said once, beside the email field, where the cursor goes to fix it.
        assert text_of(app, "#email-error") == "A user with email taken@example.com already exists."
        assert not form.query_one("#form-error").display
        assert notices(app, "error") == []
        assert app.focused is form.query_one("#email", Input)
    assert await snapshot_of(session) == before


async def test_duplicate_email_in_an_edit_is_shown_beside_the_field(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="a@example.com")
    await make_user(email="b@example.com")
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("e")  # the cursor is on a@example.com
        await settle(pilot)
        await fill(pilot, "#email", "b@example.com")
        form = await press_for(pilot, UserFormDialog, "enter")
        assert text_of(app, "#email-error") == "A user with that email already exists."
        assert not form.query_one("#form-error").display
        assert notices(app, "error") == []
    assert await snapshot_of(session) == before


async def test_bad_email_and_short_password_are_shown_inline(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#email", "not-an-email")
        await fill(pilot, "#password", "short")
        await pilot.press("enter")
        await settle(pilot)
        assert "valid email address" in text_of(app, "#email-error")
        assert text_of(app, "#password-error") == "Password must be at least 8 bytes long."
        await fill(pilot, "#email", "fixed@example.com")
        assert not app.screen.query_one("#email-error").display  # typing clears the error
    assert await snapshot_of(session) == before


async def test_a_bad_email_is_shown_as_the_cursor_leaves_the_field(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        form = await press_for(pilot, UserFormDialog, "n")
        await pilot.press("tab")  # leaving an empty field says nothing yet
        await settle(pilot)
        assert not form.query_one("#email-error").display
        await pilot.press("shift+tab", *"bad-email", "tab")
        await settle(pilot)
        assert "valid email address" in text_of(app, "#email-error")
        assert app.focused is form.query_one("#full_name", Input)  # the cursor moves on
        await pilot.press("shift+tab", "end", *"@example.com")
        assert not form.query_one("#email-error").display
        await pilot.press("tab")
        await settle(pilot)
        assert not form.query_one("#email-error").display
    assert await snapshot_of(session) == before


async def test_a_taken_email_stays_marked_when_the_cursor_leaves_it(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="taken@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        await press_for(pilot, UserFormDialog, "n")
        await fill(pilot, "#email", "taken@example.com")
        await pilot.press("enter")
        await settle(pilot)
        assert "already exists" in text_of(app, "#email-error")
        await pilot.press("tab")
        await settle(pilot)
        assert "already exists" in text_of(app, "#email-error")


async def test_short_password_in_a_reset_is_refused(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="keep@example.com")
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("p")
        await settle(pilot)
        await fill(pilot, "#password", "1234567")
        await press_for(pilot, PasswordDialog, "enter")
        assert text_of(app, "#password-error") == "Password must be at least 8 bytes long."
    assert await snapshot_of(session) == before


async def test_a_stale_edit_says_so_and_offers_a_reload(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    make_user: UserFactory,
    policy: AuthPolicy,
) -> None:
    user = await make_user(email="race@example.com", full_name="Before")
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("e")
        await settle(pilot)
        # Someone else saves while the form is open.
        await users.update_user(
            session,
            Actor.cli("other"),
            user.id,
            UserUpdate(version=1, full_name="Theirs"),
            policy.hasher,
        )
        before = await snapshot_of(session)
        await fill(pilot, "#full_name", "Mine")
        await pilot.click("#save")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormDialog)
        assert form.query_one("#conflict").display
        assert "changed by someone else" in text_of(app, "#conflict-message")
        assert await snapshot_of(session) == before  # never overwritten silently
        await pilot.click("#reload")
        await settle(pilot)
        assert form.query_one("#full_name").value == "Theirs"  # type: ignore[attr-defined]
        assert not form.query_one("#conflict").display
        await fill(pilot, "#full_name", "Mine after all")
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    fresh = await session.get(User, user.id, populate_existing=True)
    assert fresh is not None
    assert (fresh.full_name, fresh.version) == ("Mine after all", 3)


async def test_support_staff_cannot_change_roles_and_are_told_why(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    support = await make_user(Role.SUPPORT, email="support@example.com")
    await make_user(email="target@example.com")
    before = await snapshot_of(session)
    actor = Actor(label="console:helpdesk", role=Role.SUPPORT, user_id=support.id)
    async with running_console(console_context(settings, db, actor=actor)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        screen.table.move_cursor(row=1)  # target@example.com
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#role", Select).value = "admin"
        await pilot.click("#save")
        await settle(pilot)
        assert text_of(app, "#form-error") == "Only administrators can change roles."
        assert "Only administrators can change roles." in notices(app, "error")
    assert await snapshot_of(session) == before


async def test_the_last_admin_cannot_be_deleted(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.ADMIN, email="only-admin@example.com")
    before = await snapshot_of(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("delete")
        await settle(pilot)
        await fill(pilot, "#typed", "only-admin@example.com")
        await press_for(pilot, UsersScreen, "enter")
        assert notices(app, "error") == [
            "This is the last active administrator; promote another one first."
        ]
    assert await snapshot_of(session) == before


async def test_the_last_admin_cannot_be_deactivated_in_bulk_either(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.ADMIN, email="a-admin@example.com")
    await make_user(email="b-user@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("space", "space", "b")
        await settle(pilot)
        await pilot.click("#bulk-deactivate")
        await settle(pilot)
        assert "Deactivated 1 of 2 users." in notices(app)
        assert "This is the last active administrator" in notices(app, "error")[0]
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert list(screen.marked.values()) == ["a-admin@example.com"]  # still marked
    states = dict(
        (
            await session.execute(
                select(User.email, User.is_active).execution_options(populate_existing=True)
            )
        ).all()
    )
    assert states == {"a-admin@example.com": True, "b-user@example.com": False}


async def test_read_only_binds_no_write_action(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="ro@example.com")
    before = await snapshot_of(session)
    context = console_context(settings, db, read_only=True)
    async with running_console(context) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        bound = {active.binding.action for active in screen.active_bindings.values()}
        assert bound.isdisjoint(
            {"new_user", "edit_user", "delete_user", "reset_password", "unlock_user"}
        )
        assert {"export_csv", "focus_search", "toggle_mark"} <= bound
        await press_for(pilot, UsersScreen, "n", "e", "p", "l", "o", "delete", "space", "b")
        assert app.screen.query_one("#status-read-only").display
    assert await snapshot_of(session) == before
