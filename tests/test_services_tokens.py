"""backend.services.tokens: issuing, the database-backed checks, revocation."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from conftest import UserFactory
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import utcnow
from backend.models import AuditEvent, RevokedToken, Role, User
from backend.schemas.user import UserUpdate
from backend.services import tokens, users
from backend.services.actor import Actor
from backend.services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from backend.services.jwt_codec import InvalidReason, encode_token
from backend.services.policy import AuthPolicy

CONSOLE = Actor.console("tester")


def signed(policy: AuthPolicy, **claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "1", "role": "user", "iat": now, "exp": now + 600, "jti": "jti-1"}
    return encode_token({**base, **claims}, policy.signing_key, policy.algorithm)


async def last_event(session: AsyncSession) -> AuditEvent:
    event = await session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event is not None
    return event


# --- issuing -------------------------------------------------------------------------------


async def test_issued_token_carries_the_backend_claims(
    policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user(Role.SUPPORT)
    issued = tokens.issue_token(user, policy, minutes=5, extra_claims={"ticket": 42})
    assert issued.claims["sub"] == str(user.id)
    assert issued.claims["role"] == "support"
    assert issued.claims["ticket"] == 42
    assert issued.claims["exp"] - issued.claims["iat"] == 300
    assert 290 <= issued.expires_in <= 300


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": 0}, "between 1 and"),
        ({"minutes": 60 * 24 * 366}, "between 1 and"),
        ({"extra_claims": {"sub": "1", "role": "admin"}}, "cannot override role, sub"),
    ],
    ids=["zero-minutes", "over-a-year", "reserved-claims"],
)
async def test_issue_token_refuses_bad_requests(
    policy: AuthPolicy, make_user: UserFactory, kwargs: dict[str, Any], message: str
) -> None:
    user = await make_user()
    with pytest.raises(InvalidInput, match=message):
        tokens.issue_token(user, policy, **kwargs)


async def test_mint_token_is_admin_only_and_audited_by_jti(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    issued = await tokens.mint_token(session, CONSOLE, user.email.upper(), policy, minutes=2)
    event = await last_event(session)
    assert (event.action, event.target) == ("token.issue", f"user:{user.id}")
    assert event.changes["jti"] == issued.jti
    assert issued.token not in repr(event.changes)
    support = Actor.api_user(99, Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        await tokens.mint_token(session, support, user.email, policy)
    with pytest.raises(NotFound, match=r"nobody@example\.com"):
        await tokens.mint_token(session, CONSOLE, "Nobody@Example.com", policy)


def test_claim_assignments_decode_json_values() -> None:
    claims = tokens.parse_claim_assignments(["a=1", "b=text", 'c={"x": [1]}', "d="])
    assert claims == {"a": 1, "b": "text", "c": {"x": [1]}, "d": ""}
    for bad in ("novalue", "=value"):
        with pytest.raises(InvalidInput, match="KEY=VALUE"):
            tokens.parse_claim_assignments([bad])


# --- authenticating ------------------------------------------------------------------------


async def test_authenticate_returns_the_current_user_state(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    issued = tokens.issue_token(user, policy)
    await users.update_user(
        session,
        CONSOLE,
        user.id,
        UserUpdate(version=1, role=Role.SUPPORT),
        policy.hasher,
    )
    authenticated = await tokens.authenticate_token(session, policy, issued.token)
    assert authenticated.user.role is Role.SUPPORT  # the database wins over the claim


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"sub": "abc"}, "no longer valid"),
        ({"sub": "9" * 30}, "no longer valid"),
        ({"sub": ""}, "non-empty string"),
    ],
    ids=["expired", "non-numeric-sub", "huge-sub", "empty-sub"],
)
async def test_authenticate_rejects_bad_claims(
    session: AsyncSession, policy: AuthPolicy, claims: dict[str, Any], detail: str
) -> None:
    with pytest.raises(NotAuthenticated, match=detail):
        await tokens.authenticate_token(session, policy, signed(policy, **claims))


async def test_revoked_and_force_logged_out_tokens_fail_authentication(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    kept, revoked = tokens.issue_token(user, policy), tokens.issue_token(user, policy)
    current = await tokens.authenticate_token(session, policy, revoked.token)
    await tokens.logout(session, current)
    with pytest.raises(NotAuthenticated, match=r"revoked at .* by api:user:"):
        await tokens.authenticate_token(session, policy, revoked.token)
    await tokens.authenticate_token(session, policy, kept.token)
    await users.revoke_user_tokens(session, CONSOLE, user.id)
    with pytest.raises(NotAuthenticated, match="no longer valid"):
        await tokens.authenticate_token(session, policy, kept.token)
    refreshed = await session.get(User, user.id, populate_existing=True)
    assert refreshed is not None
    after = tokens.issue_token(refreshed, policy)  # in the same second as the cut-off
    await tokens.authenticate_token(session, policy, after.token)


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("inactive", InvalidReason.USER_INACTIVE),
        ("deactivated", InvalidReason.ISSUED_BEFORE_LOGOUT),
        ("deleted", InvalidReason.USER_NOT_FOUND),
        ("force-logout", InvalidReason.ISSUED_BEFORE_LOGOUT),
        ("revoked", InvalidReason.REVOKED),
        ("fine", None),
    ],
)
async def test_inspect_token_names_the_policy_reason(
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
    state: str,
    reason: InvalidReason | None,
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    issued = tokens.issue_token(user, policy)
    if state == "inactive":  # a token minted after the deactivation still fails
        inactive = (await users.set_active(session, CONSOLE, user.id, False)).user
        issued = tokens.issue_token(inactive, policy)
    elif state == "deactivated":
        await users.set_active(session, CONSOLE, user.id, False)
    elif state == "deleted":
        await users.delete_user(session, Actor.api_user(admin.id, Role.ADMIN), issued.user_id)
    elif state == "force-logout":
        await users.revoke_user_tokens(session, CONSOLE, user.id)
    elif state == "revoked":
        await tokens.revoke_token(session, CONSOLE, policy, issued.token)
    check = await tokens.inspect_token(session, policy, issued.token)
    assert (check.valid, check.reason) == (reason is None, reason)


# --- revoking ------------------------------------------------------------------------------


async def test_revoke_token_is_idempotent_and_audited_by_jti(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    issued = tokens.issue_token(user, policy)
    check = await tokens.revoke_token(session, CONSOLE, policy, issued.token)
    assert check.reason is InvalidReason.REVOKED
    await tokens.revoke_token(session, CONSOLE, policy, issued.token)
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoke"))
    ).all()
    assert [(e.actor, e.target, e.changes) for e in events] == [
        ("console:tester", f"user:{user.id}", {"jti": issued.jti})
    ]
    [revoked] = await tokens.list_revoked(session, CONSOLE, search=issued.jti[:6])
    assert (revoked.jti, revoked.user_id, revoked.revoked_by) == (
        issued.jti,
        user.id,
        "console:tester",
    )


async def test_revoke_token_refuses_what_it_cannot_revoke(
    session: AsyncSession, policy: AuthPolicy
) -> None:
    expired = signed(policy, exp=int(time.time()) - 3600)
    with pytest.raises(InvalidInput, match="already expired"):
        await tokens.revoke_token(session, CONSOLE, policy, expired)
    foreign = encode_token({"sub": "1"}, "another key that is long enough!!", "HS256")
    with pytest.raises(InvalidInput, match="Only tokens this backend signed"):
        await tokens.revoke_token(session, CONSOLE, policy, foreign)
    with pytest.raises(PermissionDenied):
        await tokens.revoke_token(session, Actor.api_user(1, Role.USER), policy, signed(policy))
    assert (await session.scalars(select(RevokedToken))).all() == []


async def test_revoked_list_names_each_user_by_email_and_searches_it(
    session: AsyncSession, make_user: UserFactory
) -> None:
    alice, gone = await make_user(email="alice@example.com"), await make_user()
    gone_id = gone.id
    later = utcnow() + dt.timedelta(minutes=5)
    await tokens.revoke_jti(session, CONSOLE, "of-alice", later, alice.id)
    await tokens.revoke_jti(session, CONSOLE, "of-gone", later, gone_id)
    await tokens.revoke_jti(session, CONSOLE, "of-nobody", later, None)
    await users.delete_user(session, CONSOLE, gone_id)
    listed = {r.jti: (r.user_id, r.user_email) for r in await tokens.list_revoked(session, CONSOLE)}
    assert listed == {
        "of-alice": (alice.id, "alice@example.com"),
        "of-gone": (gone_id, None),  # the entry outlives its user
        "of-nobody": (None, None),
    }
    found = await tokens.list_revoked(session, CONSOLE, search="ALICE@")
    assert [r.jti for r in found] == ["of-alice"]
    assert len(await tokens.list_revoked(session, CONSOLE, limit=2)) == 2


async def test_expired_revocations_are_purged(session: AsyncSession) -> None:
    past, future = utcnow() - dt.timedelta(minutes=1), utcnow() + dt.timedelta(minutes=5)
    await tokens.revoke_jti(session, CONSOLE, "old", past, None)
    await tokens.revoke_jti(session, CONSOLE, "new", future, None)
    assert [r.jti for r in await tokens.list_revoked(session, CONSOLE)] == ["new"]
    assert await tokens.purge_expired_revocations(session) == 0
