"""Snapshots of the Routes screen: catalog, builder (example body, field errors, typed
headers), answers (a large one folded, then opened by a search), history and read-only mode.

Synchronous tests (snap_compare runs the app in a loop of its own), in-process (no
server: no port in the picture); timings are pinned after the real request, and the
history is written beforehand with fixed times.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PASSWORD, TEST_SECRET_KEY
from console_routes_kit import fill, pick, routes_app, settled, sign_as, stop_cursor_blink
from textual.pilot import Pilot

from backend.config import Settings, load_settings
from backend.database import Database
from backend.models import Role
from backend.schemas.user import UserCreate, UserPage, UserRead
from backend.services import migrations, users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from backend.services.probe import ProbeOutcome
from backend.services.probe_client import ProbeRequest, ProbeResponse
from backend.services.probe_history import ProbeHistory, entry_for
from console.screens.routes import RoutesScreen
from console.widgets.routes.headers_editor import HeadersEditor
from console.widgets.routes.response_view import ResponseView

SIZE = (140, 45)
DATABASE_URL = "sqlite+aiosqlite:///routes.db"  # relative: the same in every picture
PINNED_AT = dt.datetime(2030, 1, 1, 9, 30, tzinfo=dt.UTC)
PINNED_MS = 7.0
Step = Callable[[Pilot[Any]], Any]


async def _prepare(settings: Settings) -> None:
    database = Database(settings.resolved_database_url)
    policy = AuthPolicy.from_settings(settings)
    try:
        await migrations.upgrade(database.engine)
        async with database.session() as session:
            for email, role in (("alice@example.com", Role.ADMIN), ("bob@example.com", Role.USER)):
                data = UserCreate(email=email, password=TEST_PASSWORD, role=role)
                await users.create_user(session, Actor.cli("fixture"), data, policy.hasher)
    finally:
        await database.dispose()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        database_url=DATABASE_URL,
        secret_key=TEST_SECRET_KEY,
        bcrypt_rounds=4,
        data_dir=tmp_path / "data",
    )
    asyncio.run(_prepare(settings))
    return settings


def steps(*actions: Step) -> Step:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        for _ in range(200):
            if getattr(pilot.app.screen, "catalog", None) is not None:
                break
            await pilot.pause(0.02)
        for action in actions:
            await action(pilot)
            await settled(pilot)
        pin_timing(pilot)
        await settled(pilot)
        stop_cursor_blink(pilot)

    return run_before


def pin_timing(pilot: Pilot[Any]) -> None:
    """The answer shown again with a fixed elapsed time (the real one varies)."""
    view = pilot.app.screen.query_one(ResponseView)
    outcome = view.outcome
    if outcome is not None and outcome.response is not None:
        if outcome.response.elapsed_ms == PINNED_MS:
            return  # already pinned (shown again, its folds would close)
        response = dataclasses.replace(outcome.response, elapsed_ms=PINNED_MS)
        view.show(dataclasses.replace(outcome, response=response))


def picking(label: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await pick(pilot, label)

    return step


def typing(**fields: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await fill(pilot, **fields)

    return step


def pressing(*keys: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)

    return step


def signing_as(email: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await sign_as(pilot, email)

    return step


def test_snapshot_catalog_filtered(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(pressing("slash", *"users"))
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_builder_with_an_example_body(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(picking("POST /api/users"), pressing("escape"))
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_builder_field_errors(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(
        picking("PATCH /api/users/{user_id}"),
        typing(**{"path.user_id": "seven"}),
        pressing("ctrl+s"),
    )
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_a_200_answer(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(picking("GET /health"), pressing("ctrl+s"), pressing("escape"))
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_a_403_answer(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(
        picking("GET /api/users"),
        signing_as("bob@example.com"),
        pressing("ctrl+s"),
        pressing("escape"),
    )
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_history(snap_compare: Any, settings: Settings) -> None:
    history = ProbeHistory(settings.data_dir)
    recorded = [
        (ProbeRequest("GET", "/health"), "no auth", 200, "200 OK"),
        (
            ProbeRequest("GET", "/api/users", query=(("limit", "5"),)),
            "as bob@example.com",
            403,
            "403 Forbidden",
        ),
        (ProbeRequest("GET", "/api/users/me"), "as alice@example.com", 200, "200 OK"),
    ]
    for minutes, (request, auth, status, outcome) in enumerate(recorded):
        at = PINNED_AT + dt.timedelta(minutes=minutes)
        history.append(
            entry_for(request, auth, status=status, outcome=outcome, elapsed_ms=5, at=at)
        )
    run_before = steps(pressing("escape", "h"))
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_read_only_refuses_a_post(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(picking("POST /api/users"), pressing("escape"))
    app = routes_app(settings, read_only=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def answering_a_listing(count: int) -> Step:
    """GET /api/users answered with `count` users (fixed data, so the picture is stable)."""

    async def step(pilot: Pilot[Any]) -> None:
        users = [
            UserRead(
                id=n,
                email=f"user{n}@example.com",
                full_name=f"User {n}",
                role=Role.USER,
                is_active=True,
                version=1,
                created_at=PINNED_AT,
                updated_at=PINNED_AT,
                last_login_at=None,
                locked_until=None,
                failed_login_count=0,
                tokens_valid_after=None,
            )
            for n in range(1, count + 1)
        ]
        body = UserPage(items=users, next_cursor=None, total=count).model_dump_json().encode()
        response = ProbeResponse(
            200, "OK", PINNED_MS, (("content-type", "application/json"),), body, len(body)
        )
        outcome = ProbeOutcome(ProbeRequest("GET", "/api/users"), response)
        screen = pilot.app.screen
        screen.post_message(RoutesScreen.Answered(outcome, None, "no auth"))

    return step


def test_snapshot_a_large_answer_folded(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(picking("GET /api/users"), answering_a_listing(40), pressing("escape"))
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def test_snapshot_a_search_opens_the_fold_it_needs(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(
        picking("GET /api/users"),
        answering_a_listing(40),
        pressing("escape", "ctrl+f", *"user37@", "enter", "escape"),
        focusing("#response-body"),
    )
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)


def typing_headers(*pairs: tuple[str, str]) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        editor = pilot.app.screen.query_one(HeadersEditor)
        for name, value in pairs:
            await editor.add_row(name, value, focus=False)

    return step


def focusing(selector: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one(selector).focus()

    return step


def test_snapshot_typed_headers_checked(snap_compare: Any, settings: Settings) -> None:
    run_before = steps(
        picking("GET /health"),
        typing_headers(
            ("X-Trace", "probe-1"), ("Bad Name", "1"), ("Authorization", "Basic c2VjcmV0")
        ),
        pressing("ctrl+s"),
    )
    assert snap_compare(routes_app(settings), terminal_size=SIZE, run_before=run_before)
