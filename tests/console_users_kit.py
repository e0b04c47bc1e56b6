"""What the console shell and Users screen tests share: a pinned clock, the app, waiting."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rich.console import Console
from textual import events
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from backend.config import Settings
from backend.database import Database
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.context import ConsoleContext

# Every console test sees this moment as "now", in UTC.
FIXED_NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
TESTER = Actor.console("tester")
ScreenT = TypeVar("ScreenT", bound=Screen[Any])


def console_context(
    settings: Settings,
    database: Database,
    *,
    actor: Actor = TESTER,
    read_only: bool = False,
) -> ConsoleContext:
    return ConsoleContext(
        settings=settings,
        database=database,
        policy=AuthPolicy.from_settings(settings),
        actor=actor,
        read_only=read_only,
        clock=lambda: FIXED_NOW,
        display_timezone=dt.UTC,
    )


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and the screen catch up with the messages they posted."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def press_for(pilot: Pilot[Any], screen_type: type[ScreenT], *keys: str) -> ScreenT:
    """Press `keys`, let the console settle, and return the screen they led to.

    Asserts that screen is a `screen_type` (a dialog, or the screen staying put).
    """
    await pilot.press(*keys)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type)
    return screen


@asynccontextmanager
async def running_console(
    context: ConsoleContext, *, size: tuple[int, int] = (110, 40)
) -> AsyncIterator[tuple[Pilot[None], BackendConsoleApp]]:
    """The console on the Users screen, with no embedded server; fails on swallowed bugs."""
    app = BackendConsoleApp(context, server=None, first_area="users")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield pilot, app
        assert app.unexpected_errors == []


def notices(app: App[Any], severity: str | None = None) -> list[str]:
    """The notifications shown so far (optionally of one severity)."""
    return [
        notice.message
        for notice in app._notifications
        if severity is None or notice.severity == severity
    ]


def text_of(app: App[Any], selector: str) -> str:
    """The plain text a Static (or Label) shows."""
    content = app.screen.query_one(selector, Static).content
    if isinstance(content, Content):
        return content.plain
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content, end="")
    return console.export_text().rstrip()


def freeze_cursors(pilot: Pilot[Any]) -> None:
    """Screenshots must not depend on when a cursor blinked."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


async def fill(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Put `value` in the input `selector` of the current screen."""
    field = pilot.app.screen.query_one(selector, Input)
    field.value = value
    await pilot.pause()


def type_burst(pilot: Pilot[Any], *parts: str) -> None:
    """Queue keys as a terminal delivers fast typing: all of them before any is handled.

    Each part is a key name in angle brackets ("<tab>", "<enter>") or text, typed
    character by character. Pilot.press waits after every key, which hides the races
    a burst exposes.
    """
    app = pilot.app
    for part in parts:
        named = part.startswith("<") and part.endswith(">")
        keys = [(part[1:-1], None)] if named else [_key_of(c) for c in part]
        for key, character in keys:
            event = events.Key(key, character)
            event.set_sender(app)
            app.post_message(event)


def _key_of(character: str) -> tuple[str, str]:
    if character.isalnum():
        return character, character
    name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    return name, character
