"""The Users screen as a person types at it: fast bursts, focus, and what the notices say."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEST_PASSWORD, UserFactory
from console_users_kit import (
    console_context,
    fill,
    notices,
    press_for,
    running_console,
    settle,
    text_of,
    type_burst,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role, User
from backend.services import user_search
from console.screens.dialogs import TypedConfirmDialog
from console.screens.export_dialog import ExportDialog
from console.screens.help import HelpDialog, KeyGroup
from console.screens.password_dialog import PasswordDialog
from console.screens.user_form import UserFormDialog
from console.screens.users import UsersScreen
from console.widgets.filter_choice import FilterChoice


async def audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_tab_between_fields_typed_in_one_burst_fills_each_field(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        form = await press_for(pilot, UserFormDialog, "n")
        type_burst(pilot, "ann@example.com", "<tab>", "Ann Admin", "<tab>", "<tab>", TEST_PASSWORD)
        await settle(pilot)
        assert form.query_one("#email", Input).value == "ann@example.com"
        assert form.query_one("#full_name", Input).value == "Ann Admin"
        assert form.query_one("#role", Select).value == "user"
        assert form.query_one("#password", Input).value == TEST_PASSWORD
        type_burst(pilot, "<shift+tab>", "<shift+tab>")
        await settle(pilot)
        assert app.focused is form.query_one("#full_name", Input)
        type_burst(pilot, "<enter>")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "Created ann@example.com (user)." in notices(app)
    user = await session.scalar(select(User).where(User.email == "ann@example.com"))
    assert user is not None
    assert user.full_name == "Ann Admin"


async def create_in_the_form(pilot: Pilot[None], email: str) -> None:
    await pilot.press("n")
    await settle(pilot)
    await fill(pilot, "#email", email)
    await fill(pilot, "#password", TEST_PASSWORD)
    await pilot.press("enter")
    await settle(pilot)


async def test_a_new_user_is_selected_on_the_page_that_starts_with_them(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    for number in range(60):
        await make_user(email=f"u{number:02d}@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await create_in_the_form(pilot, "u30a@example.com")  # sorts 32nd of 61
        selected = screen.table.selected
        assert selected is not None
        assert selected.email == "u30a@example.com"
        assert text_of(app, "#users-position") == "rows 32-61 of 61"
        assert "u30a@example.com" in text_of(app, "#detail-body")
        await pilot.press("left_square_bracket")  # the rows before them are a page back
        await settle(pilot)
        assert text_of(app, "#users-position") == "rows 1-31 of 61"


async def test_past_the_counting_cap_the_position_of_a_new_user_is_a_lower_bound(
    settings: Settings, db: Database, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in "abcde":
        await make_user(email=f"{name}@example.com")
    monkeypatch.setattr(user_search, "COUNT_CAP", 2)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("slash", *"example", "enter")  # filtered: counts stop at the cap
        await settle(pilot)
        await create_in_the_form(pilot, "da@example.com")  # four rows before it
        assert text_of(app, "#users-position") == "rows 3+ of 4+"
        await pilot.press("left_square_bracket")  # back at the start the index is sure
        await settle(pilot)
        assert text_of(app, "#users-position") == "rows 1-4 of 4+"


async def test_a_new_user_the_filters_leave_out_is_named_in_a_notice(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(Role.SUPPORT, email="helper@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        screen.query_one("#filter-role", FilterChoice).value = "support"
        await settle(pilot)
        await create_in_the_form(pilot, "plain@example.com")  # a user, not support
        expected = "plain@example.com is not shown: the search or filters leave them out."
        assert expected in notices(app)
        assert [row.email for row in screen.pager.window.rows] == ["helper@example.com"]


async def test_slash_then_text_in_one_burst_searches(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="adam@example.com")
    await make_user(email="zed@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        type_burst(pilot, "<slash>", "adam/x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)  # "a" did not switch to Audit
        assert screen.query_one("#search", Input).value == "adam/x"  # "/" typed in the box


async def test_a_validation_error_moves_the_cursor_to_the_field(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#email", "not-an-email")
        app.screen.query_one("#password", Input).focus()
        await fill(pilot, "#password", "short")
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#email", Input)


async def test_unlocking_an_account_that_is_not_locked_says_so_and_writes_nothing(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="free@example.com")
    before = await audit_count(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("l")
        await settle(pilot)
        assert "free@example.com was not locked." in notices(app)
        assert not [notice for notice in notices(app) if notice.startswith("Unlocked")]
    assert await audit_count(session) == before


async def test_saving_an_unchanged_edit_writes_nothing_and_says_so(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(email="same@example.com")
    before = await audit_count(session)
    async with running_console(console_context(settings, db)) as (pilot, app):
        await press_for(pilot, UserFormDialog, "e")
        await press_for(pilot, UsersScreen, "enter")
        assert "No changes to save for same@example.com." in notices(app)
    assert await audit_count(session) == before


async def test_a_mistyped_delete_confirmation_says_why_nothing_happened(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="keep@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        dialog = await press_for(pilot, TypedConfirmDialog, "delete")
        assert dialog.query_one("#typed", Input).placeholder == ""  # nothing looks typed
        await fill(pilot, "#typed", "keep@")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        expected = "That does not match; type keep@example.com exactly."
        assert text_of(app, "#typed-error") == expected
        await fill(pilot, "#typed", "keep@example.com")
        assert not dialog.query_one("#typed-error").display
        assert not dialog.query_one("#confirm", Button).disabled


async def test_tab_in_a_burst_reaches_the_password_dialog_buttons(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="pw@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        dialog = await press_for(pilot, PasswordDialog, "p")
        type_burst(pilot, "abc", "<tab>", "d")
        await settle(pilot)
        assert dialog.query_one("#password", Input).value == "abc"
        assert app.focused is dialog.query_one("#set", Button)


async def test_export_says_an_exact_count_without_about(
    settings: Settings, db: Database, make_user: UserFactory, tmp_path: Path
) -> None:
    await make_user(email="one@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        await press_for(pilot, ExportDialog, "x")
        assert "Writes 1 users of the current view" in text_of(app, ".dialog-hint")


async def test_space_marks_and_moves_down_and_esc_says_it_cleared_the_marks(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    for name in ("a", "b", "c"):
        await make_user(email=f"{name}@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("space", "space")
        await settle(pilot)
        assert sorted(screen.marked.values()) == ["a@example.com", "b@example.com"]
        assert screen.table.cursor_row == 2
        await pilot.press("escape")
        await settle(pilot)
        assert screen.marked == {}
        assert "Cleared 2 marks." in notices(app)


async def test_help_explains_each_key_and_lists_the_dimmed_ones(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, _):
        dialog = await press_for(pilot, HelpDialog, "question_mark")
        screen_keys = {item.key: item for item in dialog.keys if item.group is KeyGroup.SCREEN}
        assert screen_keys["b"].detail == "Act on every marked user"
        assert not screen_keys["b"].enabled  # nothing marked yet: listed, dimmed
        assert "tab" not in screen_keys  # Textual's own focus keys are not this screen's
        assert "Cursor down" in {item.description for item in dialog.keys}


@pytest.mark.parametrize("burst", [False, True], ids=["key by key", "in one burst"])
async def test_escape_leaves_the_search_box_so_the_screens_keys_work_at_once(
    settings: Settings, db: Database, make_user: UserFactory, burst: bool
) -> None:
    await make_user(email="root@example.com")
    await make_user(email="zed@example.com")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        if burst:
            type_burst(pilot, "<slash>", "root@", "<escape>", "?")
        else:
            await pilot.press("slash", *"root@", "escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)  # "?" opened the help, not typed a "?"
        assert screen.focused is screen.table
        assert screen.query_one("#search", Input).value == "root@"  # the search stays
        assert [row.email for row in screen.pager.window.rows] == ["root@example.com"]
        await pilot.press("escape", "escape")  # close the help; then esc clears the search
        await settle(pilot)
        assert len(screen.pager.window.rows) == 2


async def test_escape_in_a_dialogs_field_closes_the_dialog(
    settings: Settings, db: Database
) -> None:
    # A dialog's own keys (tab, enter) work in its fields: esc there is "close the dialog".
    async with running_console(console_context(settings, db)) as (pilot, _app):
        await press_for(pilot, UserFormDialog, "n")
        await pilot.press(*"ann@ex")
        await press_for(pilot, UsersScreen, "escape")
        await press_for(pilot, HelpDialog, "question_mark")
