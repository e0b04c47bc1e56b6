"""backend.services.auth: password login, the lockout, and what they record."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from conftest import TEST_PASSWORD, UserFactory
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database, utcnow
from backend.models import AuditEvent, User
from backend.services import auth, tokens, users
from backend.services.actor import Actor
from backend.services.errors import Locked, NotAuthenticated
from backend.services.policy import AuthPolicy

INVALID = "Incorrect email or password."


async def fresh(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id, populate_existing=True)
    assert user is not None
    return user


async def actions(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def fail(session: AsyncSession, policy: AuthPolicy, email: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(NotAuthenticated, match=INVALID):
            await auth.login(session, policy, email, "wrong password")


async def test_login_issues_a_token_for_the_account(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    issued = await auth.login(session, policy, user.email.upper(), TEST_PASSWORD)
    assert issued.user_id == user.id
    authenticated = await tokens.authenticate_token(session, policy, issued.token)
    assert authenticated.user.id == user.id
    assert authenticated.jti == issued.jti
    assert (issued.expires_at - issued.issued_at) == dt.timedelta(minutes=30)


async def test_login_records_success_without_bumping_the_version(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    await fail(session, policy, user.email)
    await auth.login(session, policy, user.email, TEST_PASSWORD)
    logged_in = await fresh(session, user.id)
    assert logged_in.last_login_at is not None
    assert (logged_in.failed_login_count, logged_in.version) == (0, 1)
    assert await actions(session) == ["user.create", "auth.login_failed", "auth.login"]


async def test_unknown_email_wrong_password_and_inactive_share_one_message(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user, inactive = await make_user(), await make_user()
    await users.set_active(session, Actor.console("t"), inactive.id, False)
    attempts = [
        ("nobody@example.com", TEST_PASSWORD),
        (user.email, "wrong password"),
        (inactive.email, TEST_PASSWORD),
        (user.email, "x" * 100),
        (user.email, TEST_PASSWORD + "\x00"),
        ("not even an email", TEST_PASSWORD),
    ]
    for email, password in attempts:
        with pytest.raises(NotAuthenticated) as caught:
            await auth.login(session, policy, email, password)
        assert caught.value.message == INVALID


async def test_failures_count_and_the_fifth_locks_the_account(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    await fail(session, policy, user.email, times=4)
    assert (await fresh(session, user.id)).failed_login_count == 4
    await fail(session, policy, user.email)
    locked = await fresh(session, user.id)
    assert locked.locked_until is not None
    assert dt.timedelta(minutes=14) < locked.locked_until - utcnow() <= dt.timedelta(minutes=15)
    with pytest.raises(Locked) as caught:
        await auth.login(session, policy, user.email, TEST_PASSWORD)
    assert 14 * 60 < caught.value.retry_after_seconds <= 15 * 60
    assert caught.value.message == (
        "Too many failed logins; the account is locked for 15 more minute(s)."
    )
    assert (await actions(session))[-1] == "auth.lockout"


async def test_lockout_follows_the_policy(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    strict = dataclasses.replace(policy, max_failures=2, lockout_minutes=1)
    user = await make_user()
    await fail(session, strict, user.email, times=2)
    with pytest.raises(Locked) as caught:
        await auth.login(session, strict, user.email, TEST_PASSWORD)
    assert 0 < caught.value.retry_after_seconds <= 60


async def test_login_works_again_once_the_lockout_ends(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    await fail(session, policy, user.email, times=5)
    # Travel to the end of the lockout rather than wait for it.
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(locked_until=utcnow() - dt.timedelta(seconds=1))
    )
    await session.commit()
    await auth.login(session, policy, user.email, TEST_PASSWORD)
    assert (await fresh(session, user.id)).locked_until is None


async def test_unlock_ends_the_lockout_at_once(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    await fail(session, policy, user.email, times=5)
    unlocked = await users.unlock_user(session, Actor.console("t"), user.id)
    assert unlocked.was_locked
    assert (unlocked.user.locked_until, unlocked.user.failed_login_count) == (None, 0)
    await auth.login(session, policy, user.email, TEST_PASSWORD)


async def test_a_locked_account_tokens_stop_working(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    issued = await auth.login(session, policy, user.email, TEST_PASSWORD)
    await fail(session, policy, user.email, times=5)
    with pytest.raises(NotAuthenticated):
        await tokens.authenticate_token(session, policy, issued.token)


async def test_concurrent_failures_all_count(
    db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    roomy = dataclasses.replace(policy, max_failures=100)
    user = await make_user()

    async def wrong_login() -> None:
        async with db.session() as session:
            await fail(session, roomy, user.email)

    await asyncio.gather(*(wrong_login() for _ in range(8)))
    async with db.session() as session:
        assert (await fresh(session, user.id)).failed_login_count == 8
