"""The users table, driven with Pilot against real SQLite and PostgreSQL: mouse, keys, lines.

The table draws its own lines (Textual's Line API) rather than being a DataTable; these
check what DataTable used to provide: clicks, the wheel, page keys, lines that fit.
"""

from __future__ import annotations

from conftest import UserFactory
from console_users_kit import console_context, running_console, settle, text_of
from textual import events

from backend.config import Settings
from backend.database import Database
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users
from console.screens.users import UsersScreen
from console.widgets.user_table import MARK, UserTable


def position(app: object) -> str:
    return text_of(app, "#users-position")  # type: ignore[arg-type]


def users_screen(app: object) -> UsersScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, UsersScreen)
    return screen


def turn_wheel(table: UserTable, *, down: bool) -> None:
    kind = events.MouseScrollDown if down else events.MouseScrollUp
    table.post_message(kind(table, 5, 5, 0, 1 if down else -1, 0, False, False, False))


async def test_a_click_moves_the_cursor_and_a_click_on_the_cursor_opens_the_user(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    for name in "abcde":
        await make_user(email=f"{name}@example.com")
    async with running_console(console_context(settings, db), size=(100, 40)) as (pilot, app):
        screen = users_screen(app)
        table = screen.table
        await pilot.click(table, offset=(5, 3))  # line 0 is the header: this is row 2
        await settle(pilot)
        assert table.cursor_row == 2
        assert not screen.detail_visible
        await pilot.click(table, offset=(5, 0))  # the header moves nothing
        await settle(pilot)
        assert table.cursor_row == 2
        await pilot.click(table, offset=(5, 3))
        await settle(pilot)
        assert screen.detail_visible
        assert "c@example.com" in text_of(app, "#detail-body")


async def test_the_wheel_scrolls_the_window_then_turns_the_page(
    settings: Settings, db: Database
) -> None:
    await seed_users(db, 120, actor=Actor.cli("fixture"), hasher=PasswordHasher(4))
    async with running_console(console_context(settings, db)) as (pilot, app):
        table = users_screen(app).table
        turn_wheel(table, down=False)  # nothing comes before the first page
        await settle(pilot)
        assert position(app) == "rows 1-50 of 120"
        for _ in range(50):
            if table.scroll_y >= table.max_scroll_y:
                break
            turn_wheel(table, down=True)
            await settle(pilot)
            assert position(app) == "rows 1-50 of 120"
        assert table.scroll_y == table.max_scroll_y > 0
        turn_wheel(table, down=True)  # past the window's end: the next page
        await settle(pilot)
        assert position(app) == "rows 51-100 of 120"
        assert table.scroll_y == 0
        turn_wheel(table, down=False)
        await settle(pilot)
        assert position(app) == "rows 1-50 of 120"
        assert table.cursor_row == 49


async def test_page_keys_move_a_screenful_then_turn_the_page(
    settings: Settings, db: Database
) -> None:
    await seed_users(db, 120, actor=Actor.cli("fixture"), hasher=PasswordHasher(4))
    async with running_console(console_context(settings, db)) as (pilot, app):
        table = users_screen(app).table
        screenful = table.scrollable_content_region.height - 1  # less the header
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.cursor_row == screenful
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert (table.cursor_row, position(app)) == (49, "rows 1-50 of 120")
        await pilot.press("pagedown")
        await settle(pilot)
        assert (table.cursor_row, position(app)) == (0, "rows 51-100 of 120")
        await pilot.press("pageup")
        await settle(pilot)
        assert (table.cursor_row, position(app)) == (49, "rows 1-50 of 120")
        await pilot.press("ctrl+home")
        await settle(pilot)
        assert table.cursor_row == 0


async def test_lines_fill_the_width_long_values_end_in_an_ellipsis_marks_show(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(
        email="a.very.long.address.that.cannot.fit@example.com",
        full_name="Someone Whose Name Is Longer Than Its Column",
    )
    async with running_console(console_context(settings, db), size=(80, 24)) as (pilot, app):
        table = users_screen(app).table
        header, row = (table.render_line(y).text for y in (0, 1))
        assert len(header) == len(row) == table.size.width
        assert header.split() == ["Email", "Name", "Role", "State", "Last", "login"]
        email, *_ = row.split()
        assert email.startswith("a.very.long")
        assert email.endswith("…")
        assert "Someone Whose" in row
        assert "Column" not in row
        assert not row.startswith(f" {MARK}")
        await pilot.press("space")
        await settle(pilot)
        assert table.render_line(1).text.startswith(f" {MARK}  a.very.long")
