"""The Tokens screen's Revoke tab, driven with Pilot against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

from conftest import UserFactory
from console_tokens_kit import console_app, settle, text_of
from sqlalchemy.ext.asyncio import AsyncSession
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input

from backend.config import Settings
from backend.database import Database
from backend.models import RevokedToken, Role, User
from backend.services import tokens, users
from backend.services.actor import Actor
from backend.services.audit import AuditFilter, list_events
from backend.services.jwt_codec import encode_token
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.screens.dialogs import ConfirmDialog
from console.screens.help import HelpDialog
from console.screens.tokens import TokensScreen

SIZE = (130, 45)


def live_token(policy: AuthPolicy, user: User, jti: str, *, age: int = 0) -> str:
    """A token issued `age` seconds ago for `user`, valid for 30 minutes (one older than
    its user is refused)."""
    iat = int(time.time()) - age
    claims = {"sub": str(user.id), "role": user.role, "iat": iat, "exp": iat + 1800, "jti": jti}
    return encode_token(claims, policy.signing_key, "HS256")


async def inspect_then_open_revoke_tab(
    app: BackendConsoleApp, pilot: Pilot[None], token: str
) -> None:
    app.screen.query_one("#inspect-token", Input).value = token
    await settle(pilot)
    await pilot.press("escape", "v")
    await settle(pilot)


def revoked_rows(app: BackendConsoleApp) -> list[str]:
    table = app.screen.query_one("#revoked-table", DataTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


async def test_delete_revokes_the_inspected_token_after_confirming(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    token = live_token(policy, alice, "jti-to-revoke")
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await inspect_then_open_revoke_tab(app, pilot, token)
        assert "jti-to-revoke" in text_of(app, "#revoke-target")

        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmDialog)
        question = app.screen.question
        assert question.startswith("Revoke token jti-to-revoke of alice@example.com · exp ")
        assert question.endswith("UTC? It stops working at once, on every server.")
        await pilot.click("#confirm")
        await settle(pilot)

        assert text_of(app, "#inspect-verdict").startswith("✘ REVOKED")
        assert revoked_rows(app) == ["jti-to-revoke"]

    row = await session.get(RevokedToken, "jti-to-revoke")
    assert row is not None
    assert row.user_id == alice.id
    assert row.revoked_by == "console:tester"
    events = await list_events(session, AuditFilter(action="token.revoke"))
    assert [event.changes for event in events] == [{"jti": "jti-to-revoke"}]
    assert token not in json.dumps([event.changes for event in events])


async def test_cancelling_the_confirmation_revokes_nothing(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await inspect_then_open_revoke_tab(app, pilot, live_token(policy, alice, "jti-kept"))
        await pilot.press("delete")
        await pilot.press("escape")
        await settle(pilot)

        assert isinstance(app.screen, TokensScreen)
        assert text_of(app, "#inspect-verdict").startswith("✔ VALID")

    assert await session.get(RevokedToken, "jti-kept") is None


async def test_force_logout_ends_every_session_of_the_tokens_user(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await inspect_then_open_revoke_tab(app, pilot, live_token(policy, alice, "jti-a"))
        await pilot.press("f")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm")
        await settle(pilot)

        assert text_of(app, "#inspect-verdict").startswith(
            "✘ SESSIONS ENDED  The token was issued before the force logout at"
        )

    await session.refresh(alice)
    assert alice.tokens_valid_after is not None
    events = await list_events(session, AuditFilter(action="user.revoke_tokens"))
    assert [event.actor for event in events] == ["console:tester"]


async def test_a_forged_token_cannot_be_revoked_nor_its_user_logged_out(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    iat = int(time.time())
    claims = {"sub": str(alice.id), "iat": iat, "exp": iat + 600, "jti": "jti-forged"}
    forged = encode_token(claims, "an-attacker-key-that-is-long-enough-0000", "HS256")
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await inspect_then_open_revoke_tab(app, pilot, forged)
        assert app.screen.query_one("#revoke-logout", Button).disabled

        await pilot.press("delete")
        await pilot.click("#confirm")
        await settle(pilot)

        messages = [notification.message for notification in app._notifications]
        assert any(m.startswith("Only tokens this backend signed can be revoked") for m in messages)

    assert await session.get(RevokedToken, "jti-forged") is None
    await session.refresh(alice)
    assert alice.tokens_valid_after is None


async def test_revoked_list_searches_by_jti(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    actor = Actor.cli("fixture")
    for jti in ("jti-apple", "jti-banana", "jti-cherry"):
        await tokens.revoke_token(session, actor, policy, live_token(policy, alice, jti))
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "v")
        await settle(pilot)
        assert sorted(revoked_rows(app)) == ["jti-apple", "jti-banana", "jti-cherry"]

        await pilot.press("slash", *"nana")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#revoked-search", Input)
        assert revoked_rows(app) == ["jti-banana"]


async def test_revoked_list_shows_each_users_email(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    gone = await make_user(Role.USER, email="gone@example.com")
    gone_id = gone.id
    actor = Actor.cli("fixture")
    await tokens.revoke_token(session, actor, policy, live_token(policy, alice, "jti-alice"))
    await tokens.revoke_token(session, actor, policy, live_token(policy, gone, "jti-gone"))
    await users.delete_user(session, actor, gone_id)
    app = console_app(settings, database=db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "v")
        await settle(pilot)
        table = app.screen.query_one("#revoked-table", DataTable)
        owners = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(2)}
        assert owners == {"jti-alice": "alice@example.com", "jti-gone": f"deleted user {gone_id}"}


async def test_read_only_console_binds_no_revoking(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = console_app(settings, database=db, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await inspect_then_open_revoke_tab(app, pilot, live_token(policy, alice, "jti-ro"))
        screen = app.screen
        assert screen.check_action("revoke", ()) is False
        assert screen.check_action("force_logout", ()) is False
        assert screen.query_one("#revoke-token", Button).disabled
        assert screen.query_one("#revoke-logout", Button).disabled

        await pilot.press("delete", "f")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpDialog)
        keys = {item.description for item in app.screen.keys if not item.everywhere}
        assert {"Search", "New token", "Inspect", "Revoked"} <= keys
        assert not {"Revoke", "Force logout"} & keys

    assert await session.get(RevokedToken, "jti-ro") is None
    await session.refresh(alice)
    assert alice.tokens_valid_after is None
