"""The key bar at the foot of each screen, driven with Pilot on real SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from conftest import UserFactory
from console_users_kit import console_context, running_console, settle
from textual.pilot import Pilot

from backend.config import Settings
from backend.database import Database
from console.app import BackendConsoleApp
from console.screens.tokens import TokensScreen
from console.screens.user_form import UserFormDialog
from console.screens.users import UsersScreen
from console.widgets.key_bar import ELLIPSIS, KeyBar, KeyItem


def key_bar(app: BackendConsoleApp) -> KeyBar:
    return app.screen.query_one(KeyBar)


def item(app: BackendConsoleApp, display: str) -> KeyItem:
    return next(entry for entry in key_bar(app).items if entry.display == display)


def drawn_line(app: BackendConsoleApp) -> str:
    bar = key_bar(app)
    return "".join(segment.text for segment in bar.render_line(0)).rstrip()


def column_of(app: BackendConsoleApp, display: str) -> int:
    """A column inside the key's label, as the bar last drew it."""
    bar = key_bar(app)
    wanted = item(app, display)
    x = next(x for x in range(bar.size.width) if bar.item_at(x) == wanted)
    return x + 1


async def click_key(pilot: Pilot[Any], app: BackendConsoleApp, display: str) -> None:
    await pilot.click(KeyBar, offset=(column_of(app, display), 0))
    await settle(pilot)


async def test_the_bar_shows_the_screens_keys_and_dims_those_without_a_row(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (_pilot, app):
        displays = [entry.display for entry in key_bar(app).items]
        assert displays[:4] == ["/", "n", "e", "del"]
        assert "enter" not in displays  # show=False keys stay out, as in the Footer
        assert item(app, "n").enabled
        assert not item(app, "e").enabled  # no users: nothing to edit
        assert key_bar(app).palette is not None


async def test_keys_become_available_when_a_row_is_there(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(email="row@example.com")
    async with running_console(console_context(settings, db)) as (_pilot, app):
        assert item(app, "e").enabled
        assert item(app, "del").enabled


async def test_clicking_a_key_presses_it(settings: Settings, db: Database) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await click_key(pilot, app, "n")
        assert isinstance(app.screen, UserFormDialog)


async def test_clicking_an_unavailable_key_does_nothing(settings: Settings, db: Database) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await click_key(pilot, app, "e")
        assert isinstance(app.screen, UsersScreen)


async def test_hovering_a_key_highlights_it_and_shows_its_tooltip(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.hover(KeyBar, offset=(column_of(app, "n"), 0))
        await pilot.pause()
        assert key_bar(app).tooltip == "Create a user"
        await pilot.hover(None, offset=(1, 10))  # over the table
        await pilot.pause()
        assert key_bar(app).tooltip is None


async def test_keys_that_do_not_fit_end_in_an_ellipsis_with_the_palette_key_on_the_right(
    settings: Settings, db: Database
) -> None:
    async with running_console(console_context(settings, db), size=(80, 24)) as (_pilot, app):
        line = drawn_line(app)
        assert len(line) <= 80
        assert ELLIPSIS in line
        assert line.endswith("^p palette")
        assert " / Search " in line


async def test_every_key_fits_on_a_wide_terminal(settings: Settings, db: Database) -> None:
    async with running_console(console_context(settings, db), size=(240, 30)) as (_pilot, app):
        line = drawn_line(app)
        assert ELLIPSIS not in line
        assert " x Export " in line


async def test_the_bar_follows_the_screen(settings: Settings, db: Database) -> None:
    async with running_console(console_context(settings, db)) as (pilot, app):
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TokensScreen)
        tokens_keys = {entry.display for entry in key_bar(app).items}
        assert "n" not in tokens_keys  # the Users screen's keys are gone
        await pilot.press("escape", "u")
        await settle(pilot)
        assert "n" in {entry.display for entry in key_bar(app).items}


async def test_a_read_only_console_shows_no_write_keys(settings: Settings, db: Database) -> None:
    context = console_context(settings, db, read_only=True)
    async with running_console(context) as (_pilot, app):
        displays = {entry.display for entry in key_bar(app).items}
        assert "/" in displays
        assert not displays & {"n", "e", "del", "p"}
