"""The Routes screen driven with Pilot, against the embedded uvicorn server (real HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from conftest import TEST_PASSWORD, UserFactory
from console_routes_kit import (
    fill,
    pick,
    routes_app,
    screen_of,
    send,
    set_body,
    settled,
    sign_as,
    status_text,
    text_of,
    until_loaded,
)
from probe_kit import odd_app, served
from test_cli import free_port
from textual.widgets import Select

from backend.config import Settings
from backend.database import Database
from backend.models import Role
from backend.services.probe_auth import AuthMode
from backend.services.probe_history import ProbeHistory
from console.commands import ConsoleCommands
from console.screens.help import HelpDialog
from console.widgets.routes.body_view import BodyView
from console.widgets.routes.catalog import RouteCatalog
from console.widgets.routes.history_list import HistoryList
from console.widgets.routes.response_view import ResponseView
from console.widgets.routes.route_list import RouteList


async def test_the_catalog_groups_by_tag_and_filters_as_you_type(
    sqlite_settings: Settings,
) -> None:
    app = routes_app(sqlite_settings, serve=True)
    app.context.probe_token = "handed-over-by-the-tokens-screen"
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await until_loaded(pilot)
        catalog = screen.query_one(RouteCatalog)
        assert catalog.shown_count == len(catalog.routes) >= 13
        assert "from http://127.0.0.1:" in text_of(screen, "#routes-source")
        # The arrows move through the routes as soon as the screen is shown.
        routes = screen.query_one(RouteList)
        first = routes.highlighted
        await pilot.press("down")
        assert routes.highlighted not in (first, None)
        await pilot.press("slash", *"delete")
        await pilot.pause()
        assert catalog.shown_count == 1
        await pilot.press("escape")  # leaves the filter, back to the routes
        assert screen.focused is routes
        # The Tokens screen's token is offered, and chosen, on arrival.
        assert screen.query_one("#auth-mode", Select).value is AuthMode.CONSOLE_TOKEN
        # Help and the palette take the screen's keys from its bindings.
        titles = [hit.text async for hit in ConsoleCommands(screen).discover()]
        assert {"Filter", "History", "Auth", "Reveal token", "Search body"} <= set(titles)
        assert "Copy as curl" not in titles  # nothing sent yet
        await pilot.press("question_mark")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, HelpDialog)
        assert {"Send", "Filter", "History"} <= {item.description for item in dialog.keys}


async def test_admin_gets_200_and_a_user_403_as_minted_users(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user(Role.USER)
    app = routes_app(settings, database=db, serve=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        screen = await pick(pilot, "GET /api/users")
        await sign_as(pilot, admin.email)
        screen = await send(pilot)
        assert status_text(screen).startswith("200 OK · ")
        assert "Matches the documented schema." in text_of(screen, "#response-findings")
        assert user.email in screen.query_one(ResponseView).body_text
        await sign_as(pilot, user.email)
        screen = await send(pilot)
        assert status_text(screen).startswith("403 Forbidden")
        assert "administrators and support staff" in screen.query_one(ResponseView).body_text
    entries = ProbeHistory(settings.data_dir).entries()
    assert [e.auth for e in entries] == [f"as {user.email}", f"as {admin.email}"]


async def test_a_path_parameter_and_body_then_a_422_with_its_detail(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    admin = await make_user(Role.ADMIN)
    target = await make_user(Role.USER)
    app = routes_app(settings, database=db, serve=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        await pick(pilot, "PATCH /api/users/{user_id}")
        await sign_as(pilot, admin.email)
        await fill(pilot, **{"path.user_id": str(target.id)})
        await set_body(pilot, json.dumps({"version": 1, "full_name": "Renamed"}))
        screen = await send(pilot)
        assert status_text(screen).startswith("200 OK")
        assert '"full_name": "Renamed"' in screen.query_one(ResponseView).body_text
        await pick(pilot, "POST /api/users")
        await set_body(pilot, json.dumps({"email": "x@localhost", "password": TEST_PASSWORD}))
        screen = await send(pilot)
        assert status_text(screen).startswith("422 Unprocessable")
        assert '"detail"' in screen.query_one(ResponseView).body_text
        # Today's document lists 422 for this route; the answer's detail is shown whole.
        assert "email" in screen.query_one(ResponseView).body_text


async def test_bad_fields_are_marked_before_anything_is_sent(
    sqlite_settings: Settings,
) -> None:
    app = routes_app(sqlite_settings, serve=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        await pick(pilot, "PATCH /api/users/{user_id}")
        await fill(pilot, **{"path.user_id": "seven"})
        await set_body(pilot, '{"version": 1,')
        screen = await send(pilot)
        assert text_of(screen, "#field-path-user_id-error") == "user_id must be a whole number."
        assert text_of(screen, "#builder-body-error").startswith("Not valid JSON")
        assert status_text(screen) == "No request sent yet."
    assert ProbeHistory(sqlite_settings.data_dir).entries() == []


async def test_history_replays_with_one_key_and_copy_as_curl_masks_the_token(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    admin = await make_user(Role.ADMIN)
    app = routes_app(settings, database=db, serve=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        await pick(pilot, "GET /api/users/me")
        await sign_as(pilot, admin.email)
        screen = await send(pilot)
        await pilot.press("escape", "c")
        command = app.clipboard
        assert command.startswith("curl -sS -X GET http://127.0.0.1:")
        assert "(masked" not in command
        assert "chars)" in command  # the masked token: its start and its length
        assert command in text_of(screen, "#response-share")
        await pilot.press("h", "enter")
        screen = await settled(pilot)
        assert status_text(screen).startswith("200 OK")
        await pilot.press("slash", *"nothing-like-it")
        screen = await settled(pilot)
        assert screen.query_one(HistoryList).entries == ()
    entries = ProbeHistory(settings.data_dir).entries()
    assert [(e.path, e.auth) for e in entries] == [("/api/users/me", f"as {admin.email}")] * 2


@pytest.fixture
async def odd_url() -> AsyncIterator[str]:
    async with served(odd_app()) as url:
        yield url


async def test_api_url_reads_a_second_servers_catalog_and_esc_cancels(
    sqlite_settings: Settings, odd_url: str
) -> None:
    app = routes_app(sqlite_settings, api_url=odd_url)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await until_loaded(pilot)
        assert {r.path for r in screen.query_one(RouteCatalog).routes} == {
            "/sleep",
            "/liar",
            "/teapot",
            "/many",
            "/big",
            "/echo",
            "/large-json",
        }
        # Another server's database and key: signing "as user" is not offered.
        modes = [value for _, value in screen.query_one("#auth-mode", Select)._options]
        assert AuthMode.AS_USER not in modes
        await pick(pilot, "GET /liar")
        screen = await send(pilot)
        assert "At $.id: 'seven' is not of type 'integer'." in text_of(screen, "#response-findings")
        await pick(pilot, "GET /many")
        screen = await send(pilot)
        view = screen.query_one(ResponseView)
        body = view.query_one(BodyView)
        assert text_of(screen, "#response-cut").startswith("Folded (▸) to fit")
        assert body.shown_text == '{\n  "items": […]\n}'
        assert '"items": [\n    0,' in view.body_text  # the whole document, to search and copy
        # A search opens the fold that hides its match.
        await pilot.press("escape", "ctrl+f", *"299", "enter")
        screen = await settled(pilot)
        assert (body.match_text, body.folds) == ("299", 0)
        assert text_of(screen, "#response-cut") == ""
        # enter folds the container the cursor is in; o opens everything again.
        body.focus()
        await pilot.press("enter")
        assert body.shown_text == '{\n  "items": […]\n}'
        assert screen.check_action("unfold", ()) is True
        await pilot.press("o")
        assert body.folds == 0
        assert screen.check_action("unfold", ()) is False
        await pick(pilot, "GET /big")
        screen = await send(pilot)
        assert text_of(screen, "#response-cut").startswith("Showing the first 256.0 KB of 10.0 MB")
        await pick(pilot, "GET /sleep")
        await fill(pilot, **{"query.seconds": "1"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await pilot.press("escape")
        screen = await settled(pilot)
        assert status_text(screen) == "Cancelled."


async def test_a_large_json_answer_is_shown_as_text_then_folded(
    sqlite_settings: Settings, odd_url: str
) -> None:
    app = routes_app(sqlite_settings, api_url=odd_url)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        await pick(pilot, "GET /large-json")
        screen = await send(pilot)
        body = screen.query_one(BodyView)
        assert body.shown_text == '{\n  "items": […]\n}'
        assert text_of(screen, "#response-cut").startswith("Folded (▸) to fit")
        assert body.find("14999")
        assert body.match_text == "14999"
        # Shown again: its text at once, the lines laid out in a thread meanwhile.
        view = screen.query_one(ResponseView)
        assert view.outcome is not None
        view.show(view.outcome)
        assert body.text.startswith('{"items":[{"n":0,')
        await settled(pilot)
        assert body.shown_text == '{\n  "items": […]\n}'


async def test_an_answer_out_of_view_is_still_checked_and_kept(sqlite_settings: Settings) -> None:
    # What follows an answer waits for its frame, or a few frames' time at most.
    app = routes_app(sqlite_settings)  # in-process
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        screen = await pick(pilot, "GET /health")
        view = screen.query_one(ResponseView)
        view.query_one(BodyView).display = False
        screen = await send(pilot)
        await pilot.pause(0.2)
        screen = await settled(pilot)
        assert text_of(screen, "#response-findings") == "Matches the documented schema."
    assert [e.path for e in ProbeHistory(sqlite_settings.data_dir).entries()] == ["/health"]


async def test_a_target_that_refuses_is_one_red_sentence(sqlite_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = routes_app(sqlite_settings, api_url=url)
    async with app.run_test(size=(140, 45)) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if app._notifications:
                break
        screen = screen_of(pilot)
        assert text_of(screen, "#routes-source") == "No catalog."
        messages = [n.message for n in app._notifications]
        assert messages == [f"Connection refused: nothing listens at {url}."]
        assert [n.severity for n in app._notifications] == ["error"]


async def test_read_only_sends_get_requests_only(sqlite_settings: Settings) -> None:
    app = routes_app(sqlite_settings, serve=True, read_only=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await until_loaded(pilot)
        screen = await pick(pilot, "POST /api/auth/register")
        assert "only GET requests can be sent" in text_of(screen, "#builder-note")
        await pilot.press("escape")
        assert screen.check_action("send", ()) is False
        await screen.run_action("send")  # as the palette would, were it listed
        screen = await settled(pilot)
        assert status_text(screen) == "No request sent yet."
        screen = await pick(pilot, "GET /health")
        screen = await send(pilot)
        assert status_text(screen).startswith("200 OK")
    assert [e.path for e in ProbeHistory(sqlite_settings.data_dir).entries()] == ["/health"]
