"""Snapshots of the Tokens screen: issue, inspect (valid, expired, tampered, issued
before a password change), revoke.

Synchronous tests (snap_compare runs the app in a loop of its own). The database is
a SQLite file prepared beforehand; tokens have fixed jti, iat and exp, and the
console's clock is pinned, so nothing in a screenshot changes from run to run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PASSWORD, TEST_SECRET_KEY
from console_tokens_kit import (
    FIXED_JTI,
    FIXED_NOW,
    ManualClock,
    console_app,
    fixed_claims,
    fixed_token,
    settle,
    stop_cursor_blink,
    tampered,
)
from sqlalchemy import update
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from backend.config import Settings, load_settings
from backend.database import Database
from backend.models import AuditEvent, RevokedToken, Role, User
from backend.schemas.user import UserCreate
from backend.services import migrations, tokens, users
from backend.services.actor import Actor
from backend.services.jwt_codec import encode_token
from backend.services.policy import AuthPolicy
from backend.services.tokens import IssuedToken
from console.widgets.tokens.issue_pane import IssuePane

SIZE = (130, 48)
# Relative, so that the status bar shows the same URL whatever the temporary directory.
DATABASE_URL = "sqlite+aiosqlite:///tokens.db"
FAR_FUTURE = 4_102_444_800  # 2100-01-01: revocations must outlive the real clock's purge


@dataclass(frozen=True)
class SnapshotWorld:
    settings: Settings
    alice_id: int
    bob_id: int

    def key(self) -> str:
        return AuthPolicy.from_settings(self.settings).signing_key


async def _prepare(settings: Settings) -> tuple[int, int]:
    """Migrate, create alice and bob, revoke two of bob's tokens and reset bob's password
    at pinned times; returns (alice's id, bob's id)."""
    database = Database(settings.resolved_database_url)
    policy = AuthPolicy.from_settings(settings)
    actor = Actor.cli("fixture")
    try:
        await migrations.upgrade(database.engine)
        async with database.session() as session:
            alice = await users.create_user(
                session,
                actor,
                UserCreate(email="alice@example.com", password=TEST_PASSWORD, role=Role.ADMIN),
                policy.hasher,
            )
            bob = await users.create_user(
                session,
                actor,
                UserCreate(email="bob@example.com", password=TEST_PASSWORD),
                policy.hasher,
            )
            for number in (1, 2):
                claims = fixed_claims(bob.id, jti=f"jti-revoked-{number}", exp=FAR_FUTURE)
                token = encode_token(claims, policy.signing_key, "HS256")
                await tokens.revoke_token(session, actor, policy, token)
                # Pin when it was revoked: the real time would change every screenshot.
                pinned = dt.datetime.fromtimestamp(FIXED_NOW - 3600 * number, dt.UTC)
                await session.execute(
                    update(RevokedToken)
                    .where(RevokedToken.jti == f"jti-revoked-{number}")
                    .values(revoked_at=pinned)
                )
            await users.set_password(session, actor, bob.id, "a new passphrase", policy.hasher)
            # Pin when the reset ended bob's sessions: after fixed_claims' iat.
            ended = dt.datetime.fromtimestamp(FIXED_NOW - 300, dt.UTC)
            await session.execute(
                update(User).where(User.id == bob.id).values(tokens_valid_after=ended)
            )
            await session.execute(
                update(AuditEvent)
                .where(AuditEvent.action == "user.reset_password")
                .values(at=ended)
            )
            await session.commit()
            return alice.id, bob.id
    finally:
        await database.dispose()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SnapshotWorld:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        database_url=DATABASE_URL,
        secret_key=TEST_SECRET_KEY,
        bcrypt_rounds=4,
        data_dir=tmp_path / "data",
    )
    return SnapshotWorld(settings, *asyncio.run(_prepare(settings)))


Step = Callable[[Pilot[Any]], Any]


def snapshot_app(world: SnapshotWorld) -> Any:
    return console_app(world.settings, clock=ManualClock())


def inspecting(token: str, *keys: str) -> Step:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#inspect-token", Input).value = token
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        stop_cursor_blink(pilot)

    return run_before


def test_snapshot_issue(snap_compare: Any, world: SnapshotWorld) -> None:
    claims = fixed_claims(world.alice_id, tenant="acme", exp=FIXED_NOW + 300)
    issued = IssuedToken(
        token=encode_token(claims, world.key(), "HS256"),
        jti=FIXED_JTI,
        user_id=world.alice_id,
        issued_at=dt.datetime.fromtimestamp(claims["iat"], dt.UTC),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        claims=claims,
    )

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("escape", "n")
        screen = pilot.app.screen
        screen.query_one("#issue-email", Input).value = "alice"
        screen.query_one("#issue-minutes", Input).value = "15"
        screen.query_one("#issue-claims", TextArea).load_text("tenant=acme")
        await settle(pilot)
        screen.query_one(IssuePane).show_issued(issued, "alice@example.com")
        screen.query_one(IssuePane).scroll_home(animate=False)
        await settle(pilot)
        stop_cursor_blink(pilot)

    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=run_before)


def test_snapshot_inspect_valid(snap_compare: Any, world: SnapshotWorld) -> None:
    token = fixed_token(world.key(), world.alice_id)
    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=inspecting(token))


def test_snapshot_inspect_expired(snap_compare: Any, world: SnapshotWorld) -> None:
    token = fixed_token(
        world.key(), world.alice_id, iat=FIXED_NOW - 4 * 3600, exp=FIXED_NOW - 3 * 3600
    )
    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=inspecting(token))


def test_snapshot_inspect_tampered(snap_compare: Any, world: SnapshotWorld) -> None:
    token = tampered(fixed_token(world.key(), world.alice_id, role="user"), role="admin")
    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=inspecting(token))


def test_snapshot_inspect_issued_before_a_password_reset(
    snap_compare: Any, world: SnapshotWorld
) -> None:
    token = fixed_token(world.key(), world.bob_id, role="user")
    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=inspecting(token))


def test_snapshot_revoke_list(snap_compare: Any, world: SnapshotWorld) -> None:
    token = fixed_token(world.key(), world.alice_id)
    run_before = inspecting(token, "escape", "v")
    assert snap_compare(snapshot_app(world), terminal_size=SIZE, run_before=run_before)
