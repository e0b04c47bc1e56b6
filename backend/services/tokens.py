"""Access tokens: issue, verify against the database, inspect, revoke.

The pure JWT work (strict parsing, signature, time claims) lives in jwt_codec; this
module adds what only the database knows: revocation, force-logout, the user's state.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, String, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend.database import utcnow
from backend.models import RevokedToken, User
from backend.schemas.user import UserRead
from backend.services import driver_sql, permissions
from backend.services.actor import Actor
from backend.services.audit import record_event, user_target
from backend.services.driver_sql import KeyedReader, KeyedSelect
from backend.services.errors import InvalidInput, NotAuthenticated, NotFound
from backend.services.jwt_codec import (
    InvalidReason,
    LaneResult,
    LaneStatus,
    TokenCheck,
    TokenClaims,
    check_token,
    encode_token,
)
from backend.services.jwt_verify import verify_token
from backend.services.policy import AuthPolicy
from backend.services.token_claims import check_extra_claims
from backend.services.token_claims import parse_claim_assignments as parse_claim_assignments
from backend.services.user_search import LIST_COLUMNS
from backend.services.users import SessionsEnded, find_user_by_email, last_sessions_end

MAX_TOKEN_MINUTES = 60 * 24 * 365
POLICY_NOT_CHECKED = LaneResult(
    LaneStatus.NOT_CHECKED, "Not checked because an earlier lane failed."
)
GENERIC_TOKEN_ERROR = "The token is no longer valid."


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    user_id: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    claims: dict[str, Any]

    @property
    def expires_in(self) -> int:
        return max(0, int(self.expires_at.timestamp() - time.time()))


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    """The user behind a verified token, as of this request."""

    user: UserRead
    jti: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RevocationInfo:
    revoked_at: dt.datetime
    revoked_by: str


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One line of the revoked list, with the email of the token's user."""

    jti: str
    user_id: int | None
    user_email: str | None  # None: no user, or the user has been deleted since
    revoked_at: dt.datetime
    revoked_by: str
    expires_at: dt.datetime


def issue_token(
    user: User | UserRead,
    policy: AuthPolicy,
    *,
    minutes: int | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> IssuedToken:
    """Sign an access token for `user`, exactly as a login does. Raises InvalidInput."""
    lifetime = policy.access_token_minutes if minutes is None else minutes
    if not 1 <= lifetime <= MAX_TOKEN_MINUTES:
        raise InvalidInput(f"Token lifetime must be between 1 and {MAX_TOKEN_MINUTES} minutes.")
    extra = dict(extra_claims or {})
    check_extra_claims(extra)
    issued_at = _issued_at(user)
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        **extra,
        "sub": str(user.id),
        "role": str(user.role),
        "iat": issued_at,
        "exp": issued_at + lifetime * 60,
        "jti": jti,
    }
    return IssuedToken(
        token=encode_token(claims, policy.signing_key, policy.algorithm),
        jti=jti,
        user_id=user.id,
        issued_at=dt.datetime.fromtimestamp(issued_at, dt.UTC),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        claims=claims,
    )


def _issued_at(user: User | UserRead) -> int:
    # iat is in whole seconds and a force-logout cut-off is rounded up to the next
    # second, so a token issued right after a force-logout is dated at the cut-off.
    now = math.floor(time.time())
    if user.tokens_valid_after is not None:
        return max(now, int(user.tokens_valid_after.timestamp()))
    return now


async def mint_token(
    session: AsyncSession,
    actor: Actor,
    email: str,
    policy: AuthPolicy,
    *,
    minutes: int | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> IssuedToken:
    """An operator issues a token for a user (to reproduce a bug); audited by jti.

    Raises PermissionDenied, NotFound, InvalidInput.
    """
    permissions.require_admin(actor, "issue tokens for other users")
    user = await find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No user has the email {email.strip().lower()}.")
    issued = issue_token(user, policy, minutes=minutes, extra_claims=extra_claims)
    record_event(
        session,
        actor,
        "token.issue",
        user_target(user.id),
        {"jti": issued.jti, "expires_at": issued.expires_at.isoformat()},
    )
    await session.commit()
    return issued


async def authenticate_token(
    session: AsyncSession | AsyncConnection | KeyedReader, policy: AuthPolicy, token: str
) -> AuthenticatedUser:
    """The user a bearer token stands for, with every check. Raises NotAuthenticated.

    Runs on every authenticated request, so it also takes a bare connection or, on
    PostgreSQL, the hot pool (backend/hot_pool.py): no ORM session, no transaction.
    """
    check = verify_token(
        token, policy.signing_key, policy.algorithm, leeway_seconds=policy.leeway_seconds
    )
    if check.claims is None:
        raise NotAuthenticated(check.detail)
    user, revocation = await _load_token_subject(session, check.claims)
    # The reason alone: the lane's wording is for the Tokens screen, not every request.
    reason = policy_reason(check.claims, user, revocation, utcnow())
    if revocation is not None:
        raise NotAuthenticated(_revoked_detail(revocation))
    if reason is not None or user is None:
        raise NotAuthenticated(GENERIC_TOKEN_ERROR)
    return AuthenticatedUser(
        user=user,
        jti=check.claims.jti,
        expires_at=dt.datetime.fromtimestamp(check.claims.exp, dt.UTC),
    )


async def inspect_token(
    session: AsyncSession, policy: AuthPolicy, token: str, *, now: float | None = None
) -> TokenCheck:
    """This backend's full verdict on a token: structure, signature, time and policy lanes.

    `now` (a Unix time) pins the clock, for displays that must not drift; default: now.
    """
    check = check_token(
        token,
        policy.signing_key,
        policy.algorithm,
        now=now,
        leeway_seconds=policy.leeway_seconds,
        max_lifetime_seconds=policy.max_lifetime_seconds,
    )
    if check.claims is None:
        return check.with_policy(POLICY_NOT_CHECKED, None)
    user, revocation = await _load_token_subject(session, check.claims)
    if user is None:
        revocation = await _revocation(session, check.claims.jti)
    moment = dt.datetime.fromtimestamp(check.checked_at, dt.UTC)
    result, reason = policy_verdict(check.claims, user, revocation, moment)
    if reason is InvalidReason.ISSUED_BEFORE_LOGOUT and user is not None:
        ended = await last_sessions_end(session, user.id)
        if ended is not None:
            result = LaneResult(LaneStatus.FAIL, sessions_ended_detail(ended))
    return check.with_policy(result, reason)


def sessions_ended_detail(ended: SessionsEnded) -> str:
    """ "The token was issued before the password change at ...": the cut-off's reason."""
    return f"The token was issued before the {ended.reason} at {_utc_text(ended.at)}."


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def subject_user_id(sub: object) -> int | None:
    """The user id a sub claim names, or None. ASCII digits only: "²".isdigit() is True
    but int("²") raises, and ids stay within a BIGINT."""
    if not isinstance(sub, str) or not (sub.isascii() and sub.isdigit()) or len(sub) > 18:
        return None
    return int(sub)


async def find_token_subject(
    session: AsyncSession, actor: Actor, payload: Mapping[str, Any] | None
) -> UserRead | None:
    """The user a token's sub names, even when the token is invalid (for display only:
    an unverified sub proves nothing). None when sub names no user. Raises PermissionDenied.
    """
    permissions.require_staff(actor)
    user_id = subject_user_id(None if payload is None else payload.get("sub"))
    if user_id is None:
        return None
    row = (await session.execute(select(*LIST_COLUMNS).where(User.id == user_id))).one_or_none()
    return None if row is None else UserRead.model_validate(row, from_attributes=True)


def policy_reason(
    claims: TokenClaims,
    user: UserRead | None,
    revocation: RevocationInfo | None,
    now: dt.datetime,
) -> InvalidReason | None:
    """Why the policy lane fails (revocation, the sessions' cut-off, the account's age and
    state), or None."""
    if revocation is not None:
        return InvalidReason.REVOKED
    if user is None:
        return InvalidReason.USER_NOT_FOUND
    if user.tokens_valid_after is not None and claims.iat < user.tokens_valid_after.timestamp():
        return InvalidReason.ISSUED_BEFORE_LOGOUT
    # iat is whole seconds (rounded down), created_at is not: compare whole seconds.
    if claims.iat < math.floor(user.created_at.timestamp()):
        return InvalidReason.ISSUED_BEFORE_ACCOUNT
    if not user.is_active:
        return InvalidReason.USER_INACTIVE
    if user.locked_until is not None and user.locked_until > now:
        return InvalidReason.USER_LOCKED
    return None


def policy_verdict(
    claims: TokenClaims,
    user: UserRead | None,
    revocation: RevocationInfo | None,
    now: dt.datetime,
) -> tuple[LaneResult, InvalidReason | None]:
    """The policy lane, worded: revocation, the sessions' cut-off, the account's age and state."""
    reason = policy_reason(claims, user, revocation, now)
    if reason is None:
        assert user is not None
        return LaneResult(LaneStatus.PASS, f"User {user.email} is active; not revoked."), None
    if revocation is not None:
        detail = _revoked_detail(revocation)
    elif user is None:
        detail = f"User {claims.sub} does not exist."
    else:
        detail = _policy_failure(reason, user)
    return LaneResult(LaneStatus.FAIL, detail), reason


def _policy_failure(reason: InvalidReason, user: UserRead) -> str:
    if reason is InvalidReason.ISSUED_BEFORE_LOGOUT and user.tokens_valid_after is not None:
        when = _utc_text(user.tokens_valid_after)
        return f"The token was issued before the user's sessions ended at {when}."
    if reason is InvalidReason.ISSUED_BEFORE_ACCOUNT:
        return f"The token was issued before user {user.id} existed."
    if reason is InvalidReason.USER_INACTIVE:
        return "The user is inactive."
    return "The user is locked out."


def _revoked_detail(revocation: RevocationInfo) -> str:
    when = _utc_text(revocation.revoked_at)
    return f"The token was revoked at {when} by {revocation.revoked_by or 'unknown'}."


def _token_subject_statement() -> Select[Any]:
    users, revoked = User.__table__, RevokedToken.__table__
    by_jti = revoked.c.jti == bindparam("jti")
    return select(
        *(users.c[column.key] for column in LIST_COLUMNS),
        select(revoked.c.revoked_at).where(by_jti).scalar_subquery().label("revoked_at"),
        select(revoked.c.revoked_by).where(by_jti).scalar_subquery().label("revoked_by"),
    ).where(users.c.id == bindparam("user_id"))


def _token_subjects_statement() -> Select[Any]:
    """The same row for many (user_id, jti) lookups at once (PostgreSQL: unnest)."""
    users, revoked = User.__table__, RevokedToken.__table__
    lookup = (
        func.unnest(
            bindparam("user_id", type_=ARRAY(BigInteger)), bindparam("jti", type_=ARRAY(String))
        )
        .table_valued("user_id", "jti", with_ordinality="position")
        .render_derived(name="lookup")
    )
    return select(
        lookup.c.position,
        *(users.c[column.key] for column in LIST_COLUMNS),
        revoked.c.revoked_at,
        revoked.c.revoked_by,
    ).select_from(
        lookup.join(users, users.c.id == lookup.c.user_id).outerjoin(
            revoked, revoked.c.jti == lookup.c.jti
        )
    )


# Built once, in Core: per request this skips statement construction, cache-key
# generation and the ORM compile step (measured: a third of the request's CPU), and
# on asyncpg goes straight to the driver (driver_sql).
TOKEN_SUBJECT = _token_subject_statement()
TOKEN_SUBJECTS = KeyedSelect(_token_subjects_statement(), keys=("user_id", "jti"))


async def _load_token_subject(
    session: AsyncSession | AsyncConnection | KeyedReader, claims: TokenClaims
) -> tuple[UserRead | None, RevocationInfo | None]:
    """The user and the token's revocation, in one round trip (the hot path of every request)."""
    user_id = subject_user_id(claims.sub)
    if user_id is None:
        return None, None
    if isinstance(session, AsyncSession | AsyncConnection):
        connection = await session.connection() if isinstance(session, AsyncSession) else session
        row = await driver_sql.fetch_first(
            connection, TOKEN_SUBJECT, {"user_id": user_id, "jti": claims.jti}
        )
    else:
        row = await session.fetch_keyed(TOKEN_SUBJECTS, (user_id, claims.jti))
    if row is None:
        return None, None
    revocation = None
    if row["revoked_at"] is not None:
        revocation = RevocationInfo(_as_utc(row["revoked_at"]), row["revoked_by"])
    return UserRead.model_validate(row), revocation


def _as_utc(value: dt.datetime) -> dt.datetime:
    # A scalar subquery loses the column's type decorator on SQLite.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _revocation(session: AsyncSession, jti: str) -> RevocationInfo | None:
    row = await session.get(RevokedToken, jti)
    return None if row is None else RevocationInfo(row.revoked_at, row.revoked_by)


async def revoke_jti(
    session: AsyncSession,
    actor: Actor,
    jti: str,
    expires_at: dt.datetime,
    user_id: int | None,
) -> None:
    """Revoke one token by its jti until it would expire anyway (idempotent)."""
    await purge_expired_revocations(session, commit=False)
    if await session.get(RevokedToken, jti) is None:
        revoked = RevokedToken(
            jti=jti, expires_at=expires_at, user_id=user_id, revoked_by=actor.label
        )
        session.add(revoked)
        target = user_target(user_id) if user_id is not None else ""
        record_event(session, actor, "token.revoke", target, {"jti": jti})
    await session.commit()


async def logout(session: AsyncSession, current: AuthenticatedUser) -> None:
    """Revoke the token the user signed in with."""
    actor = Actor.api_user(current.user.id, current.user.role)
    await revoke_jti(session, actor, current.jti, current.expires_at, current.user.id)


async def revoke_token(
    session: AsyncSession, actor: Actor, policy: AuthPolicy, token: str
) -> TokenCheck:
    """Revoke a pasted token (it must at least carry this backend's valid signature).

    Raises PermissionDenied, InvalidInput (not a token this backend signed).
    """
    permissions.require_staff(actor)
    check = check_token(
        token, policy.signing_key, policy.algorithm, leeway_seconds=policy.leeway_seconds
    )
    if check.claims is None:
        if check.reason is InvalidReason.EXPIRED:
            raise InvalidInput("The token has already expired; there is nothing to revoke.")
        raise InvalidInput(f"Only tokens this backend signed can be revoked: {check.detail}")
    user_id = subject_user_id(check.claims.sub)
    expires_at = dt.datetime.fromtimestamp(check.claims.exp, dt.UTC)
    await revoke_jti(session, actor, check.claims.jti, expires_at, user_id)
    return await inspect_token(session, policy, token)


async def list_revoked(
    session: AsyncSession,
    actor: Actor,
    *,
    search: str | None = None,
    limit: int = 100,
) -> list[RevokedEntry]:
    """Revoked tokens not expired yet, newest first, each with its user's email.

    At most `limit` rows; `search` matches the jti, the user's email or who revoked it.
    Raises PermissionDenied.
    """
    permissions.require_staff(actor)
    await purge_expired_revocations(session)
    query = (
        select(
            RevokedToken.jti,
            RevokedToken.user_id,
            User.email.label("user_email"),
            RevokedToken.revoked_at,
            RevokedToken.revoked_by,
            RevokedToken.expires_at,
        )
        # One primary-key lookup per listed row; a deleted user leaves the email empty.
        .outerjoin(User, User.id == RevokedToken.user_id)
        .order_by(RevokedToken.revoked_at.desc())
        .limit(limit)
    )
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(
            or_(
                RevokedToken.jti.like(pattern),
                User.email.like(pattern.lower()),
                RevokedToken.revoked_by.like(pattern),
            )
        )
    return [RevokedEntry(**row._mapping) for row in await session.execute(query)]


async def purge_expired_revocations(session: AsyncSession, *, commit: bool = True) -> int:
    """Forget revocations of tokens that have expired anyway; returns how many."""
    result = await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    if commit:
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
