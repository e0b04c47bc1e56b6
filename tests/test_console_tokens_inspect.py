"""The Tokens screen's Inspect tab, driven with Pilot against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from conftest import UserFactory
from console_tokens_kit import (
    FIXED_NOW,
    ManualClock,
    console_app,
    fixed_token,
    raw_payload_token,
    settle,
    tampered,
    text_of,
)
from sqlalchemy.ext.asyncio import AsyncSession
from textual.pilot import Pilot
from textual.widgets import Input, Select, TabbedContent, Tabs

from backend.config import Settings
from backend.database import Database
from backend.models import Role
from backend.services import tokens, users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.widgets.tokens.inspect_pane import InspectPane
from console.widgets.user_table import UserTable

SIZE = (130, 45)


def lane_text(app: BackendConsoleApp, lane: str) -> str:
    status = text_of(app, f"#lane-{lane} .lane-status")
    return f"{status} | {text_of(app, f'#lane-{lane} .lane-detail')}"


async def inspect(app: BackendConsoleApp, pilot: Pilot[None], token: str) -> None:
    app.screen.query_one("#inspect-token", Input).value = token  # as if pasted
    await settle(pilot)


async def test_valid_token_passes_every_lane_and_names_its_user(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.ADMIN, email="alice@example.com")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, fixed_token(policy.signing_key, alice.id))

        assert text_of(app, "#inspect-verdict") == (
            "✔ VALID  The token is well-formed, signed and current."
        )
        for lane in ("structure", "signature", "time", "policy"):
            assert lane_text(app, lane).startswith("✔ pass"), lane
        assert text_of(app, "#lane-time .lane-name") == "time (leeway 10 s)"
        assert text_of(app, "#claim-iat .claim-date") == "2030-01-01 05:50:00 UTC"
        assert text_of(app, "#claim-iat .claim-relative") == "issued 10 min ago"
        assert text_of(app, "#claim-exp .claim-relative") == "expires in 20 min"
        assert text_of(app, "#claim-nbf .claim-date") == "—"
        assert text_of(app, "#owner-text") == "alice@example.com  (id 1, admin, active)"
        assert app.screen.query_one("#inspect-header").border_title == (
            "Header · signature verified"
        )


async def test_expired_token_fails_the_time_lane_with_its_age(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    token = fixed_token(
        policy.signing_key, alice.id, iat=FIXED_NOW - 4 * 3600, exp=FIXED_NOW - 3 * 3600
    )
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, token)

        assert text_of(app, "#inspect-verdict") == "✘ EXPIRED  The token expired 3 hours ago."
        assert lane_text(app, "signature").startswith("✔ pass")
        assert lane_text(app, "time") == "✘ fail | The token expired 3 hours ago."
        assert lane_text(app, "policy").startswith("· not checked")
        assert text_of(app, "#claim-exp .claim-relative") == "expired 3 h ago"
        assert "alice@example.com" in text_of(app, "#owner-text")


async def test_tampered_token_is_decoded_but_marked_unverified(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    token = tampered(fixed_token(policy.signing_key, alice.id, role="user"), role="admin")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, token)

        assert text_of(app, "#inspect-verdict").startswith("✘ BAD SIGNATURE")
        assert lane_text(app, "structure").startswith("✔ pass")
        assert lane_text(app, "signature").startswith("✘ fail")
        assert app.screen.query_one("#inspect-header").border_title == "Header · UNVERIFIED"
        assert app.screen.query_one("#inspect-payload").border_title == "Payload · UNVERIFIED"
        assert '"role": "admin"' in text_of(app, "#inspect-payload")
        assert text_of(app, "#owner-text").endswith("unverified sub claim")


async def test_times_update_live_and_the_verdict_flips_at_expiry(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    clock = ManualClock()
    app = console_app(settings, database=db, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, fixed_token(policy.signing_key, alice.id))
        pane = app.screen.query_one(InspectPane)

        clock.at += 5 * 60
        pane.tick()
        await settle(pilot)
        assert text_of(app, "#claim-exp .claim-relative") == "expires in 15 min"
        assert text_of(app, "#inspect-verdict").startswith("✔ VALID")

        clock.at = FIXED_NOW + 1200 + 11  # past exp and the 10 s leeway
        pane.tick()
        await settle(pilot)
        assert text_of(app, "#claim-exp .claim-relative") == "expired 11 s ago"
        assert text_of(app, "#inspect-verdict") == "✘ EXPIRED  The token expired 11 seconds ago."


HOSTILE_EXP = {
    "nan": ("NaN", "invalid NumericDate: NaN"),
    "1e400": ("1e400", "invalid NumericDate: Infinity"),
    "huge-integer": ("1" + "0" * 40, "invalid NumericDate: a date after the year 9999"),
    "negative": ("-5", "invalid NumericDate: a negative number"),
    "string": ('"tomorrow"', "invalid NumericDate: a string, not a number"),
    "list": ("[1, 2]", "invalid NumericDate: an array, not a number"),
}


@pytest.mark.parametrize(("raw_exp", "shown"), HOSTILE_EXP.values(), ids=HOSTILE_EXP.keys())
async def test_hostile_exp_values_are_named_not_crashed_on(
    raw_exp: str,
    shown: str,
    settings: Settings,
    db: Database,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    payload = f'{{"sub": "{alice.id}", "jti": "j", "iat": {FIXED_NOW}, "exp": {raw_exp}}}'
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, raw_payload_token(payload, policy.signing_key))

        assert text_of(app, "#inspect-verdict").startswith("✘ INVALID CLAIM")
        assert text_of(app, "#claim-exp .claim-relative") == shown
        assert "The exp claim is an invalid NumericDate" in lane_text(app, "time")


async def test_hidden_and_reordering_characters_are_shown_escaped(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    token = fixed_token(policy.signing_key, alice.id, note="exe.\u202egnp\u200b", esc="\x1b[31mred")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, token)

        payload = text_of(app, "#inspect-payload")
        assert '"note": "exe.\\u202egnp\\u200b"' in payload
        assert '"esc": "\\u001b[31mred"' in payload
        assert "\u202e" not in payload
        assert "\x1b" not in payload


@pytest.mark.parametrize(
    ("token", "verdict"),
    [
        ("x" * 1_000_000, "✘ TOO LARGE  The token is over 8192 bytes."),
        ("\x00\x1b[2J.\u202e.", "✘ MALFORMED"),
        ("a.b", "✘ MALFORMED  The token has 2 segments; a signed JWT has exactly 3."),
    ],
    ids=["one-megabyte", "control-characters", "two-segments"],
)
async def test_garbage_gets_a_precise_verdict(
    token: str, verdict: str, settings: Settings, db: Database
) -> None:
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, token)

        assert text_of(app, "#inspect-verdict").startswith(verdict)
        assert text_of(app, "#owner-text") == "No sub claim to look up."


async def test_clearing_the_input_clears_the_verdict(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, fixed_token(policy.signing_key, alice.id))
        await inspect(app, pilot, "")

        assert app.screen.query_one(InspectPane).inspection is None
        assert text_of(app, "#inspect-verdict").startswith("Paste a token")
        assert text_of(app, "#inspect-payload") == "Nothing decoded."


async def test_a_token_issued_earlier_can_be_picked_for_inspection(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(InspectPane)
        pane.add_recent("alice · until 06:20", fixed_token(policy.signing_key, alice.id))
        app.screen.query_one("#inspect-recent", Select).value = 0
        await settle(pilot)

        assert text_of(app, "#inspect-verdict").startswith("✔ VALID")


async def test_typing_on_arrival_goes_into_the_token_field_not_to_the_keys(
    settings: Settings, db: Database
) -> None:
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"eyJq.x.q")  # "q" alone would quit, "v"/"n" switch tabs
        await settle(pilot)
        assert app.is_running
        assert app.screen.query_one("#inspect-token", Input).value == "eyJq.x.q"
        assert app.screen.query_one(TabbedContent).active == "tokens-inspect"


async def test_slash_focuses_the_token_field_and_escape_leaves_it(
    settings: Settings, db: Database
) -> None:
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        assert isinstance(app.screen.focused, Tabs)
        assert app.screen.check_action("leave_field", ()) is False  # nothing to leave
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#inspect-token", Input)
        assert app.screen.check_action("leave_field", ()) is True  # esc shown in the footer
        await pilot.press("escape")
        assert isinstance(app.focused, Tabs)


async def test_open_in_users_finds_the_tokens_user_there(
    settings: Settings, db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    await make_user(Role.USER, email="bob@example.com")
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, fixed_token(policy.signing_key, alice.id))
        await pilot.click("#owner-open")
        await settle(pilot)

        assert app.current_mode == "users"
        assert app.screen.query_one("#search", Input).value == "alice@example.com"
        table = app.screen.query_one(UserTable)
        assert table.row_count == 1
        assert table.selected is not None
        assert table.selected.id == alice.id


async def test_coming_back_names_a_password_reset_made_meanwhile(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.ADMIN, email="alice@example.com")
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await inspect(app, pilot, tokens.issue_token(alice, policy).token)
        assert text_of(app, "#inspect-verdict").startswith("✔ VALID")
        await pilot.press("escape", "u")  # leave the token's field, open Users
        await settle(pilot)
        await users.set_password(
            session, Actor.console("tester"), alice.id, "a brand new passphrase", policy.hasher
        )
        await pilot.press("t")
        await settle(pilot)
        verdict = text_of(app, "#inspect-verdict")
        assert verdict.startswith(
            "✘ SESSIONS ENDED  The token was issued before the password reset at"
        )
