"""Login with lockout: the one place passwords are checked against accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import utcnow
from backend.models import User
from backend.services.actor import Actor
from backend.services.audit import record_event, user_target
from backend.services.errors import Locked, NotAuthenticated
from backend.services.policy import AuthPolicy
from backend.services.tokens import IssuedToken, issue_token
from backend.services.users import find_user_by_email

# One message for an unknown email and a wrong password: no account enumeration.
INVALID_CREDENTIALS = "Incorrect email or password."


async def login(
    session: AsyncSession,
    policy: AuthPolicy,
    email: str,
    password: str,
    *,
    client: str | None = None,
) -> IssuedToken:
    """Check a password and issue an access token (the API's sign-in).

    Audited with the client's address (`client`, when known): a success as the user
    (`api:user:<id>`), a failure or lockout as `api:anonymous`, since whoever typed the
    wrong password has not proved to be anyone. Raises NotAuthenticated (unknown email,
    wrong password, inactive account: one message) and Locked (too many failures, until
    the lockout ends).
    """
    user = await find_user_by_email(session, email)
    if user is None:
        await policy.hasher.burn()  # same work as a real check: timing reveals nothing
        raise NotAuthenticated(INVALID_CREDENTIALS)
    now = utcnow()
    if user.is_locked(now):
        raise _locked(user, now)
    if not await policy.hasher.verify(password, user.hashed_password):
        await _record_failure(session, policy, user, now, client)
        raise NotAuthenticated(INVALID_CREDENTIALS)
    if not user.is_active:
        raise NotAuthenticated(INVALID_CREDENTIALS)
    await _record_success(session, user, now, client)
    return issue_token(user, policy)


def _locked(user: User, now: dt.datetime) -> Locked:
    assert user.locked_until is not None
    seconds = max(1, int((user.locked_until - now).total_seconds()))
    minutes = -(-seconds // 60)
    return Locked(
        f"Too many failed logins; the account is locked for {minutes} more minute(s).",
        retry_after_seconds=seconds,
    )


async def _record_failure(
    session: AsyncSession, policy: AuthPolicy, user: User, now: dt.datetime, client: str | None
) -> None:
    # An atomic increment: concurrent failures on several workers all count.
    failures = await session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(failed_login_count=User.failed_login_count + 1)
        .returning(User.failed_login_count)
    )
    changes: dict[str, object] = {"failed_login_count": failures, **_origin(client)}
    if failures is not None and failures >= policy.max_failures:
        locked_until = now + dt.timedelta(minutes=policy.lockout_minutes)
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=locked_until, failed_login_count=0)
        )
        changes["locked_until"] = locked_until.isoformat()
        record_event(session, Actor.anonymous(), "auth.lockout", user_target(user.id), changes)
    else:
        record_event(session, Actor.anonymous(), "auth.login_failed", user_target(user.id), changes)
    await session.commit()


async def _record_success(
    session: AsyncSession, user: User, now: dt.datetime, client: str | None
) -> None:
    # Core UPDATE, not the ORM: a login must not bump the version an editor holds.
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=now, failed_login_count=0, locked_until=None)
    )
    actor = Actor.api_user(user.id, user.role)
    record_event(session, actor, "auth.login", user_target(user.id), _origin(client))
    await session.commit()


def _origin(client: str | None) -> dict[str, str]:
    """Where a sign-in came from, for its audit event (the address only, when known)."""
    return {} if client is None else {"client": client}
