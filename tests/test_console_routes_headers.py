"""Free-form request headers on the Routes screen, sent to a real server that echoes them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from console_routes_kit import pick, routes_app, screen_of, send, settled, status_text, text_of
from probe_kit import odd_app, served
from textual.pilot import Pilot
from textual.widgets import Input, Select

from backend.config import Settings
from backend.services.probe_auth import AuthMode
from backend.services.probe_history import ProbeHistory
from console.widgets.routes.builder import RequestBuilder
from console.widgets.routes.headers_editor import HeadersEditor
from console.widgets.routes.response_view import ResponseView

SECRET = "typed-secret-0123456789"


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async with served(odd_app()) as url:
        yield url


async def on_echo(pilot: Pilot[Any]) -> None:
    """The catalog loaded, GET /echo's form open."""
    await settled(pilot)
    await pick(pilot, "GET /echo")


def editor(pilot: Pilot[Any]) -> HeadersEditor:
    return screen_of(pilot).query_one(RequestBuilder).headers


def echoed(pilot: Pilot[Any]) -> dict[str, str]:
    answer: dict[str, str] = json.loads(screen_of(pilot).query_one(ResponseView).body_text)
    return answer


async def test_typed_headers_are_checked_sent_and_kept(
    sqlite_settings: Settings, echo_url: str
) -> None:
    app = routes_app(sqlite_settings, api_url=echo_url)
    async with app.run_test(size=(140, 45)) as pilot:
        await on_echo(pilot)
        await pilot.click("#headers-add")
        await pilot.press(*"Bad Name", "enter", *"1")
        await editor(pilot).add_row("X-Trace", "abc", focus=False)
        screen = await send(pilot)
        errors = [str(e.render()) for e in screen.query(".header-error")]
        assert errors[0].startswith("'Bad Name' is not a header name")
        assert errors[1] == ""
        assert status_text(screen) == "No request sent yet."
        rows = editor(pilot).rows
        rows[0].query_one(".header-name", Input).value = "Accept-Language"
        await pilot.pause()
        screen = await send(pilot)
        assert status_text(screen).startswith("200 OK")
        assert echoed(pilot)["accept-language"] == "1"
        assert echoed(pilot)["x-trace"] == "abc"
        # A row is removed with its ✕.
        await pilot.click(".header-remove")
        screen = await send(pilot)
        assert "accept-language" not in echoed(pilot)
        assert [row.pair for row in editor(pilot).rows] == [("X-Trace", "abc")]
    entries = ProbeHistory(sqlite_settings.data_dir).entries()
    assert entries[0].headers == [["X-Trace", "abc"]]
    assert entries[1].headers == [["Accept-Language", "1"], ["X-Trace", "abc"]]


async def test_a_typed_authorization_is_masked_sent_and_never_kept(
    sqlite_settings: Settings, echo_url: str
) -> None:
    app = routes_app(sqlite_settings, api_url=echo_url)
    async with app.run_test(size=(140, 45)) as pilot:
        await on_echo(pilot)
        row = await editor(pilot).add_row("Authorization", f"Bearer {SECRET}", focus=False)
        assert row.query_one(".header-value", Input).password  # masked on screen
        screen = await send(pilot)
        assert echoed(pilot)["authorization"] == f"Bearer {SECRET}"
        notices = [n.message for n in app._notifications]
        assert any(m.startswith("Authorization typed by hand") for m in notices)
        await pilot.press("escape", "c")
        assert SECRET not in app.clipboard
        assert "'Authorization: Bearer typed-se…(23 chars)'" in app.clipboard
        await pilot.press("v")  # reveal: on screen and in what is copied
        assert not row.query_one(".header-value", Input).password
        await pilot.press("c")
        assert f"Authorization: Bearer {SECRET}" in app.clipboard
        # With a token from the auth mode, typing Authorization too is refused.
        screen.query_one("#auth-mode", Select).value = AuthMode.TOKEN
        screen.query_one("#auth-token", Input).value = "pasted-token"
        await pilot.pause()
        screen = await send(pilot)
        assert text_of(screen, ".header-error").startswith("Authorization is set by the auth mode")
    history = (sqlite_settings.data_dir / "probe-history.jsonl").read_text()
    assert SECRET not in history
    assert ProbeHistory(sqlite_settings.data_dir).entries()[0].headers == [["Authorization", "***"]]


async def test_a_replay_puts_typed_headers_back(sqlite_settings: Settings, echo_url: str) -> None:
    app = routes_app(sqlite_settings, api_url=echo_url)
    async with app.run_test(size=(140, 45)) as pilot:
        await on_echo(pilot)
        await editor(pilot).add_row("X-Trace", "first", focus=False)
        await send(pilot)
        await editor(pilot).fill([])
        await pilot.press("escape", "h", "enter")
        await settled(pilot)
        assert [row.pair for row in editor(pilot).rows] == [("X-Trace", "first")]
        assert echoed(pilot)["x-trace"] == "first"
