"""What the Routes screen tests share: the console opened on it, and ways to drive it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from backend.config import Settings
from backend.database import Database
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from backend.services.probe_auth import AuthMode
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.routes import RoutesScreen
from console.startup import ServerAddress
from console.widgets.routes.builder import widget_id
from console.widgets.routes.catalog import RouteCatalog


def routes_app(
    settings: Settings,
    *,
    database: Database | None = None,
    serve: bool = False,
    api_url: str | None = None,
    read_only: bool = False,
) -> BackendConsoleApp:
    """The console opened on the Routes screen; `serve` runs the embedded server (real HTTP)."""
    context = ConsoleContext(
        settings=settings,
        database=database or Database(settings.resolved_database_url),
        policy=AuthPolicy.from_settings(settings),
        actor=Actor.console("tester"),
        read_only=read_only,
        display_timezone=dt.UTC,
        probe_api_url=api_url,
    )
    server = ServerAddress("127.0.0.1", 0) if serve else None
    return BackendConsoleApp(context, server=server, first_area="routes")


def screen_of(pilot: Pilot[Any]) -> RoutesScreen:
    screen = pilot.app.screen
    assert isinstance(screen, RoutesScreen)
    return screen


async def settled(pilot: Pilot[Any]) -> RoutesScreen:
    """Every worker done and its messages handled; no bug reported."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    errors = getattr(pilot.app, "unexpected_errors", [])
    assert errors == [], [repr(e) for e in errors]
    return screen_of(pilot)


async def until_loaded(pilot: Pilot[Any]) -> RoutesScreen:
    """Wait for the catalog (it waits for the schema check and the server)."""
    for _ in range(200):
        await pilot.pause(0.02)
        screen = pilot.app.screen
        if isinstance(screen, RoutesScreen) and screen.catalog is not None:
            break
    return await settled(pilot)


async def pick(pilot: Pilot[Any], label: str) -> RoutesScreen:
    """Filter the catalog down to `label` ("GET /api/users") and open its form."""
    screen = screen_of(pilot)
    screen.query_one("#routes-filter", Input).value = label
    await pilot.pause()
    catalog = screen.query_one(RouteCatalog)
    route = next(r for r in catalog.routes if r.label == label)
    catalog.post_message(RouteCatalog.Chosen(route, picked=True))
    return await settled(pilot)


async def sign_as(pilot: Pilot[Any], email: str) -> None:
    screen = screen_of(pilot)
    screen.query_one("#auth-mode", Select).value = AuthMode.AS_USER
    screen.query_one("#auth-email", Input).value = email
    await pilot.pause()


async def fill(pilot: Pilot[Any], **fields: str) -> None:
    """Type into the builder's fields by key: fill(pilot, **{"path.user_id": "7"})."""
    screen = screen_of(pilot)
    for key, value in fields.items():
        screen.query_one(f"#{widget_id(key)}", Input).value = value
    await pilot.pause()


async def set_body(pilot: Pilot[Any], text: str) -> None:
    screen_of(pilot).query_one("#builder-body", TextArea).load_text(text)
    await pilot.pause()


async def send(pilot: Pilot[Any]) -> RoutesScreen:
    await pilot.press("ctrl+s")
    return await settled(pilot)


def status_text(screen: RoutesScreen) -> str:
    return str(screen.query_one("#response-status").render())


def text_of(screen: RoutesScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def stop_cursor_blink(pilot: Pilot[Any]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
