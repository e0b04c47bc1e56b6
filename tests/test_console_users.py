"""The Users screen, driven with Pilot against real SQLite and PostgreSQL: browsing."""

from __future__ import annotations

import pytest
from conftest import UserFactory
from console_users_kit import FIXED_NOW, console_context, running_console, settle, text_of
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.database import Database
from backend.models import Role, User
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users
from console.screens.users import UsersScreen
from console.widgets.filter_choice import FilterChoice
from console.widgets.user_table import UserTable


def position(app: object) -> str:
    return text_of(app, "#users-position")  # type: ignore[arg-type]


def shown_emails(screen: UsersScreen) -> list[str]:
    return [row.email for row in screen.pager.window.rows]


async def test_the_first_page_and_its_position_show_at_once(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    for name in ("b", "a", "c"):
        await make_user(email=f"{name}@example.com")
    async with running_console(console_context(settings, db)) as (_pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert shown_emails(screen) == ["a@example.com", "b@example.com", "c@example.com"]
        assert position(app) == "rows 1-3 of 3"


async def test_keys_and_the_cursor_page_through_a_bounded_window(
    settings: Settings, db: Database
) -> None:
    await seed_users(db, 120, actor=Actor.cli("fixture"), hasher=PasswordHasher(4))
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        table = screen.query_one(UserTable)
        first_page = shown_emails(screen)
        assert position(app) == "rows 1-50 of 120"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert position(app) == "rows 51-100 of 120"
        assert table.row_count == 50  # the table never holds more than one page
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert position(app) == "rows 101-120 of 120"
        await pilot.press("right_square_bracket")  # nothing beyond the last page
        await settle(pilot)
        assert position(app) == "rows 101-120 of 120"
        await pilot.press("up")  # at the first row: back one page, cursor on its last row
        await settle(pilot)
        assert position(app) == "rows 51-100 of 120"
        assert table.cursor_row == 49
        await pilot.press("down")  # at the last row: on to the next page
        await settle(pilot)
        assert position(app) == "rows 101-120 of 120"
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert position(app) == "rows 1-50 of 120"
        assert shown_emails(screen) == first_page
        # Keys pressed while a page loads are not lost: three at once, two pages on.
        await pilot.press(*["right_square_bracket"] * 3)
        await settle(pilot)
        assert position(app) == "rows 101-120 of 120"


async def test_search_as_you_type_narrows_the_table(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="liam@example.com", full_name="Liam Smith")
    await make_user(email="ana@example.com", full_name="Ana Smithers")
    await make_user(email="kofi@example.com", full_name="Kofi Okafor")
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("slash", *"smit")
        await settle(pilot)
        assert shown_emails(screen) == ["ana@example.com", "liam@example.com"]
        assert position(app) == "rows 1-2 of 2"
        await pilot.press("enter", "escape")  # back to the table; esc clears the search
        await settle(pilot)
        assert len(shown_emails(screen)) == 3


async def test_role_active_locked_filters_and_sorts(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    staff = await make_user(Role.SUPPORT, email="staff@example.com")
    idle = await make_user(email="idle@example.com")
    locked = await make_user(email="locked@example.com")
    await make_user(email="zed@example.com")
    await session.execute(update(User).where(User.id == idle.id).values(is_active=False))
    await session.execute(
        update(User).where(User.id == locked.id).values(locked_until=FIXED_NOW.replace(year=2099))
    )
    await session.execute(update(User).where(User.id == staff.id).values(last_login_at=FIXED_NOW))
    await session.commit()
    async with running_console(console_context(settings, db)) as (pilot, app):
        screen = app.screen
        assert isinstance(screen, UsersScreen)

        async def choose(selector: str, value: str) -> None:
            screen.query_one(selector, FilterChoice).value = value
            await settle(pilot)

        await choose("#filter-role", "support")
        assert shown_emails(screen) == ["staff@example.com"]
        await choose("#filter-role", "any")
        await choose("#filter-active", "no")
        assert shown_emails(screen) == ["idle@example.com"]
        await choose("#filter-active", "any")
        await choose("#filter-locked", "yes")
        assert shown_emails(screen) == ["locked@example.com"]
        await choose("#filter-locked", "any")
        await choose("#sort", "email-desc")
        assert shown_emails(screen)[0] == "zed@example.com"
        await choose("#sort", "last-login-desc")
        assert shown_emails(screen)[0] == "staff@example.com"  # the only one who logged in


async def test_the_detail_panel_shows_the_user_and_their_audit_events(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="seen@example.com", full_name="Seen Person")
    async with running_console(console_context(settings, db), size=(100, 40)) as (pilot, app):
        await pilot.press("enter")
        await settle(pilot)
        detail = text_of(app, "#detail-body")
        assert "seen@example.com" in detail
        assert "Seen Person · user · active" in detail
        assert "cli:fixture" in detail
        assert "user.create" in detail
        await pilot.press("escape")  # closes the panel on a narrow terminal
        await settle(pilot)
        assert not app.screen.has_class("detail-open")


async def test_wide_terminals_show_the_detail_panel_beside_the_table(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="wide@example.com")
    async with running_console(console_context(settings, db), size=(160, 40)) as (_pilot, app):
        assert app.screen.has_class("-wide")
        assert "wide@example.com" in text_of(app, "#detail-body")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_columns_fit_the_width(
    settings: Settings, db: Database, make_user: UserFactory, size: tuple[int, int]
) -> None:
    await make_user(email="fit@example.com")
    async with running_console(console_context(settings, db), size=size) as (_pilot, app):
        table = app.screen.query_one(UserTable)
        assert table.virtual_size.width <= table.size.width  # no column is cut off
        assert ("Created" in table.column_labels) is (size[0] >= 140)
