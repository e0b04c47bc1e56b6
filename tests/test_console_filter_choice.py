"""The Users filter bar's FilterChoice: its list, by keys and by mouse, and its value.

Driven with Pilot against real SQLite and PostgreSQL, as a person uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from conftest import UserFactory
from console_users_kit import console_context, running_console, settle
from textual.pilot import Pilot
from textual.widgets import OptionList

from backend.config import Settings
from backend.database import Database
from backend.models import Role
from backend.services.user_search import UserQuery
from console.app import BackendConsoleApp
from console.screens.users import UsersScreen
from console.widgets.filter_choice import FilterChoice, FilterChoiceMenu
from console.widgets.user_filters import UserFilters

EVERYONE = ["admin@example.com", "staff@example.com", "user@example.com"]


async def three_roles(make_user: UserFactory) -> None:
    await make_user(Role.ADMIN, email="admin@example.com")
    await make_user(Role.SUPPORT, email="staff@example.com")
    await make_user(Role.USER, email="user@example.com")


def users_screen(app: BackendConsoleApp) -> UsersScreen:
    screen = app.screen
    assert isinstance(screen, UsersScreen)
    return screen


def shown_emails(screen: UsersScreen) -> list[str]:
    return [row.email for row in screen.pager.window.rows]


def role_filter(screen: UsersScreen) -> FilterChoice:
    return screen.query_one("#filter-role", FilterChoice)


def open_list(app: BackendConsoleApp) -> OptionList:
    """The open menu's list (asserts a menu is open)."""
    menu = app.screen
    assert isinstance(menu, FilterChoiceMenu)
    return menu.query_one(OptionList)


def assert_closed_without_a_pick(app: BackendConsoleApp, screen: UsersScreen) -> None:
    """The role list is closed, the filter unchanged, every user still shown."""
    assert app.screen is screen
    assert role_filter(screen).value == "any"
    assert shown_emails(screen) == EVERYONE


async def focus(pilot: Pilot[None], choice: FilterChoice) -> None:
    choice.focus()
    await pilot.pause()


@asynccontextmanager
async def console_with_three_roles(
    settings: Settings, db: Database, make_user: UserFactory, *, size: tuple[int, int] = (110, 40)
) -> AsyncIterator[tuple[Pilot[None], BackendConsoleApp, UsersScreen]]:
    """The console on the Users screen, over an admin, a support and a user account."""
    await three_roles(make_user)
    async with running_console(console_context(settings, db), size=size) as (pilot, app):
        yield pilot, app, users_screen(app)


async def test_role_filter_menu_picks_with_enter(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        choice = role_filter(screen)
        await focus(pilot, choice)
        await pilot.press("enter")
        assert open_list(app).highlighted == 0  # the current value: "any role"
        await pilot.press("down", "down", "enter")  # any role, admin, support
        await settle(pilot)
        assert app.screen is screen
        assert choice.value == "support"
        assert choice.label == "support"
        assert choice.has_focus  # back where the person was
        assert shown_emails(screen) == ["staff@example.com"]


async def test_role_filter_menu_opens_on_the_current_value(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        choice = role_filter(screen)
        choice.value = "user"
        await focus(pilot, choice)
        await pilot.press("space")
        assert open_list(app).highlighted == 3  # any role, admin, support, user


async def test_escape_closes_the_menu_without_changing_the_filter(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        choice = role_filter(screen)
        await focus(pilot, choice)
        await pilot.press("down")
        open_list(app)
        await pilot.press("down", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert choice.value == "any"
        assert choice.has_focus
        assert shown_emails(screen) == EVERYONE


async def test_a_click_opens_the_menu_under_the_widget_and_a_click_on_an_option_picks_it(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        choice = role_filter(screen)
        await pilot.click("#filter-role")
        options = open_list(app)
        assert options.region.x == choice.region.x
        assert options.region.y == choice.region.bottom  # right under it
        await pilot.click(options, offset=(2, 2))  # the border, "any role", then "admin"
        await settle(pilot)
        assert app.screen is screen
        assert choice.value == "admin"
        assert shown_emails(screen) == ["admin@example.com"]


async def test_a_click_beside_the_open_menu_closes_it(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        await pilot.click("#filter-role")
        open_list(app)
        await pilot.click(offset=(5, 20))  # over the table, far from the list
        await settle(pilot)
        assert_closed_without_a_pick(app, screen)


async def test_resizing_the_terminal_closes_the_open_menu_without_a_pick(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        await pilot.click("#filter-role")
        await pilot.press("down")
        open_list(app)
        await pilot.resize_terminal(90, 30)
        await settle(pilot)
        assert_closed_without_a_pick(app, screen)


async def test_the_sort_menu_stays_on_an_80_by_24_screen(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    context = console_with_three_roles(settings, db, make_user, size=(80, 24))
    async with context as (pilot, app, _screen):
        await pilot.click("#sort")  # the rightmost: its list is wider than it is
        options = open_list(app)
        assert options.region.right <= 80
        assert options.region.bottom <= 24
        assert options.region.height == 8  # six sorts and the border: none hidden


async def test_typing_in_the_open_menu_jumps_and_q_does_not_quit(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    async with console_with_three_roles(settings, db, make_user) as (pilot, app, screen):
        choice = screen.query_one("#sort", FilterChoice)
        await focus(pilot, choice)
        await pilot.press("enter", "q", "e")  # no sort starts with "q"; the next "e" one
        assert app.is_running
        assert open_list(app).highlighted == 1  # after "Email A-Z": "Email Z-A"
        await pilot.press("space")  # picks, as enter does
        await settle(pilot)
        assert choice.value == "email-desc"
        assert shown_emails(screen) == EVERYONE[::-1]


async def test_setting_an_unknown_value_raises_value_error(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (_pilot, app):
        choice = role_filter(users_screen(app))
        with pytest.raises(ValueError, match="'owner' is not one of the options"):
            choice.value = "owner"
        assert choice.value == "any"


async def test_setting_the_same_value_twice_reloads_once(
    settings: Settings, db: Database, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[UserQuery] = []
    original = UsersScreen.on_user_filters_changed

    def counting(screen: UsersScreen, event: UserFilters.Changed) -> None:
        queries.append(event.query)
        original(screen, event)

    monkeypatch.setattr(UsersScreen, "on_user_filters_changed", counting)
    async with console_with_three_roles(settings, db, make_user) as (pilot, _app, screen):
        choice = role_filter(screen)
        choice.value = "support"
        await settle(pilot)
        choice.value = "support"
        await settle(pilot)
        assert [query.role for query in queries] == [Role.SUPPORT]
        assert shown_emails(screen) == ["staff@example.com"]
