"""User accounts: create, read, edit, delete, lock state and tokens; every write audited."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from backend.database import utcnow
from backend.models import AuditEvent, Role, User
from backend.schemas.user import MeUpdate, UserCreate, UserRegister, UserUpdate
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit import describe_changes, record_event, user_target
from backend.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backend.services.passwords import PasswordHasher, password_problem

MAX_USER_ID = 2**63 - 1
# The audit key naming why an event ended the account's sessions (a SessionsEnd value).
SESSIONS_ENDED = "sessions_ended"


class SessionsEnd(StrEnum):
    """What ends every session of an account: the one rule is in `_write`."""

    PASSWORD_CHANGE = "password change"
    PASSWORD_RESET = "password reset"
    DEACTIVATION = "deactivation"
    FORCE_LOGOUT = "force logout"


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    """The last time an account's sessions were ended, and why (from the audit trail)."""

    reason: str  # a SessionsEnd value
    at: dt.datetime


async def get_user(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """The user with `user_id`. Raises NotFound, PermissionDenied (users see only themselves)."""
    if actor.user_id != user_id:
        permissions.require_staff(actor)
    return await _load(session, user_id)


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with this email (any case), or None. No permission check: internal use."""
    if "\x00" in email:
        return None  # no stored email has one, and PostgreSQL refuses it in a query
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def create_user(
    session: AsyncSession, actor: Actor, data: UserCreate, hasher: PasswordHasher
) -> User:
    """Create an account. Raises PermissionDenied, Conflict (duplicate email)."""
    permissions.require_can_create(actor, data.role)
    user = User(
        email=data.email,
        full_name=data.full_name,
        role=data.role.value,
        hashed_password=await hasher.hash(data.password),
    )
    return await _insert(session, actor, user, action="user.create")


async def register_user(session: AsyncSession, data: UserRegister, hasher: PasswordHasher) -> User:
    """Self-service sign-up with the `user` role, through the API: the new account is the
    actor of its own registration (`api:user:<its id>`). Raises Conflict (duplicate email)."""
    user = User(
        email=data.email,
        full_name=data.full_name,
        role=Role.USER.value,
        hashed_password=await hasher.hash(data.password),
    )
    return await _insert(session, None, user, action="user.register")


async def update_user(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    data: UserUpdate,
    hasher: PasswordHasher,
) -> User:
    """Apply a partial edit made against `data.version`.

    Raises NotFound, PermissionDenied, Conflict (stale version, duplicate email, last admin).
    """
    user = await _load(session, user_id)
    _require_version(user, data.version)
    requested = data.model_dump(exclude_unset=True, exclude={"version"})
    changes = _changed_fields(user, requested)
    if not changes:
        return user
    permissions.require_can_edit(actor, user, changes)
    await _guard_last_admin(session, user, changes)
    return await _apply(session, actor, user, changes, hasher, action="user.update")


async def update_own_profile(
    session: AsyncSession, actor: Actor, data: MeUpdate, hasher: PasswordHasher
) -> User:
    """A signed-in user edits their own account; a new password needs the current one.

    Raises PermissionDenied, NotFound, InvalidInput (wrong current password), Conflict.
    """
    if actor.user_id is None:
        raise PermissionDenied("Only a signed-in user has an own account.")
    user = await _load(session, actor.user_id)
    requested = data.model_dump(exclude_unset=True, exclude={"current_password", "new_password"})
    if data.new_password is not None:
        current = data.current_password or ""
        if not await hasher.verify(current, user.hashed_password):
            raise InvalidInput("The current password is wrong.")
        requested["password"] = data.new_password
    changes = _changed_fields(user, requested)
    if not changes:
        return user
    return await _apply(session, actor, user, changes, hasher, action="user.update_self")


async def set_password(
    session: AsyncSession, actor: Actor, user_id: int, password: str, hasher: PasswordHasher
) -> User:
    """Reset a user's password (staff). Raises NotFound, PermissionDenied, InvalidInput."""
    user = await _load(session, user_id)
    permissions.require_can_edit(actor, user, {"password"})
    _validate_password(password)
    return await _apply(
        session, actor, user, {"password": ("", password)}, hasher, action="user.reset_password"
    )


@dataclass(frozen=True, slots=True)
class ActiveSet:
    """What set_active did: `changed` is False when the account already was so."""

    user: User
    changed: bool


async def set_active(session: AsyncSession, actor: Actor, user_id: int, active: bool) -> ActiveSet:
    """Activate or deactivate an account. Raises NotFound, PermissionDenied, Conflict.

    An account already so is left alone: nothing written, nothing audited.
    """
    user = await _load(session, user_id)
    changes = _changed_fields(user, {"is_active": active})
    if not changes:
        return ActiveSet(user, changed=False)
    permissions.require_can_edit(actor, user, changes)
    await _guard_last_admin(session, user, changes)
    action = "user.activate" if active else "user.deactivate"
    user.is_active = active
    return ActiveSet(await _write(session, actor, user, changes, action), changed=True)


@dataclass(frozen=True, slots=True)
class Unlocked:
    """What unlock_user found: `was_locked` is False when no lockout was in force."""

    user: User
    was_locked: bool


async def unlock_user(session: AsyncSession, actor: Actor, user_id: int) -> Unlocked:
    """Clear a login lockout and the failure count. Raises NotFound, PermissionDenied.

    An account with neither is left alone: nothing written, nothing audited. A lapsed
    lockout or a failure count alone is cleared (and audited), though it was not locked.
    """
    user = await _load(session, user_id)
    permissions.require_can_manage(actor, user, "unlock")
    if user.locked_until is None and user.failed_login_count == 0:
        return Unlocked(user, was_locked=False)
    was_locked = user.is_locked(utcnow())
    changes = {
        "locked_until": (user.locked_until, None),
        "failed_login_count": (user.failed_login_count, 0),
    }
    user.locked_until = None
    user.failed_login_count = 0
    return Unlocked(await _write(session, actor, user, changes, "user.unlock"), was_locked)


async def revoke_user_tokens(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """Force logout: every token issued before now stops working.

    Raises NotFound, PermissionDenied.
    """
    user = await _load(session, user_id)
    permissions.require_can_manage(actor, user, "force logout")
    return await _write(
        session, actor, user, {}, "user.revoke_tokens", ends=SessionsEnd.FORCE_LOGOUT
    )


async def last_sessions_end(session: AsyncSession, user_id: int) -> SessionsEnded | None:
    """When and why the account's sessions were last ended, or None if never (or the
    audit trail no longer says). Not on the hot path: the token check reads only the
    cut-off; the Tokens inspector asks this to name the reason."""
    reason = AuditEvent.changes[SESSIONS_ENDED].as_string()
    row = (
        await session.execute(
            select(reason, AuditEvent.at)
            .where(AuditEvent.target == user_target(user_id), reason.is_not(None))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else SessionsEnded(row[0], row[1])


async def delete_user(session: AsyncSession, actor: Actor, user_id: int) -> None:
    """Delete an account. Raises NotFound, PermissionDenied, Conflict (last admin)."""
    user = await _load(session, user_id)
    permissions.require_can_delete(actor, user)
    await _guard_last_admin(session, user, {"deleted": (False, True)})
    record_event(session, actor, "user.delete", user_target(user.id), {"email": user.email})
    await session.delete(user)
    await session.commit()


# --- helpers -----------------------------------------------------------------


async def _load(session: AsyncSession, user_id: int) -> User:
    # Ids are 64-bit in both databases; asking them for a larger one is a driver error.
    in_range = 1 <= user_id <= MAX_USER_ID
    user = await session.get(User, user_id, populate_existing=True) if in_range else None
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def _require_version(user: User, expected: int) -> None:
    if user.version != expected:
        raise Conflict(
            f"User {user.id} was changed by someone else since you loaded it "
            f"(now version {user.version}, yours {expected}); reload and try again."
        )


def _validate_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem)


def _changed_fields(user: User, requested: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """`{field: (old, new)}` for the fields whose value really changes."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in requested.items():
        if field == "password":
            changes[field] = ("", new)
            continue
        new_value = new.value if isinstance(new, Role) else new
        old = getattr(user, field)
        if old != new_value:
            changes[field] = (old, new_value)
    return changes


async def _guard_last_admin(
    session: AsyncSession, user: User, changes: dict[str, tuple[Any, Any]]
) -> None:
    """Refuse to demote, deactivate or delete the last active administrator."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    losing_admin = (
        "deleted" in changes
        or changes.get("role", (None, Role.ADMIN.value))[1] != Role.ADMIN.value
        or changes.get("is_active", (None, True))[1] is False
    )
    if not losing_admin:
        return
    # FOR UPDATE (PostgreSQL) serialises two admins demoting each other at once.
    await _take_sqlite_write_lock(session)
    admins = await session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .with_for_update()
    )
    if len(admins.all()) <= 1:
        raise Conflict("This is the last active administrator; promote another one first.")


async def _take_sqlite_write_lock(session: AsyncSession) -> None:
    # SQLite ignores FOR UPDATE and reads outside a transaction; a write statement
    # (matching no row) takes its database-wide write lock until this commit instead.
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(update(User).where(false()).values(version=User.version))


async def _apply(
    session: AsyncSession,
    actor: Actor,
    user: User,
    changes: dict[str, tuple[Any, Any]],
    hasher: PasswordHasher,
    *,
    action: str,
) -> User:
    for field, (_old, new) in changes.items():
        if field == "password":
            user.hashed_password = await hasher.hash(new)
        else:
            setattr(user, field, new)
    return await _write(session, actor, user, changes, action)


async def _write(
    session: AsyncSession,
    actor: Actor,
    user: User,
    changes: dict[str, tuple[Any, Any]],
    action: str,
    *,
    ends: SessionsEnd | None = None,
) -> User:
    """Audit and commit `changes` (already set on `user`), ending the account's sessions
    when they call for it: every account write passes here, so this is the one rule."""
    ends = ends or _ends_sessions(actor, user, changes)
    if ends is not None:
        changes = {**changes, "tokens_valid_after": (user.tokens_valid_after, _cutoff(user))}
        user.tokens_valid_after = changes["tokens_valid_after"][1]
    described = describe_changes(changes)
    if ends is not None:
        described[SESSIONS_ENDED] = ends.value
    record_event(session, actor, action, user_target(user.id), described)
    return await _commit(session, user)


def _ends_sessions(
    actor: Actor, user: User, changes: dict[str, tuple[Any, Any]]
) -> SessionsEnd | None:
    """A new password (own or reset) or a deactivation ends every session of the account."""
    if "password" in changes:
        own = actor.user_id == user.id
        return SessionsEnd.PASSWORD_CHANGE if own else SessionsEnd.PASSWORD_RESET
    if changes.get("is_active", (None, True))[1] is False:
        return SessionsEnd.DEACTIVATION
    return None


def _cutoff(user: User) -> dt.datetime:
    """Now, rounded up to the next whole second: token `iat` claims are whole seconds, so
    a token issued earlier in the same second must not survive. Never moves backwards
    (a reactivation, or a clock set back, must not revive a token)."""
    cutoff = _next_whole_second(utcnow())
    if user.tokens_valid_after is not None:
        return max(cutoff, user.tokens_valid_after)
    return cutoff


async def _insert(session: AsyncSession, actor: Actor | None, user: User, *, action: str) -> User:
    """Add `user`, audited as `actor`; None: the new account itself (self-registration)."""
    if await find_user_by_email(session, user.email) is not None:
        raise _duplicate_email(user.email)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise _duplicate_email(user.email) from None
    record_event(
        session,
        actor or Actor.api_user(user.id, user.role),
        action,
        user_target(user.id),
        {"email": user.email, "role": user.role, "full_name": user.full_name},
    )
    return await _commit(session, user)


async def _commit(session: AsyncSession, user: User) -> User:
    user_id = user.id  # a rollback expires `user`: reading it afterwards would need I/O
    try:
        await session.commit()
    except StaleDataError:
        await session.rollback()
        raise Conflict(
            f"User {user_id} was changed by someone else at the same time; reload and try again."
        ) from None
    except IntegrityError:
        # Email is the only unique column an edit can collide on.
        await session.rollback()
        raise Conflict("A user with that email already exists.", field="email") from None
    return user


def _duplicate_email(email: str) -> Conflict:
    return Conflict(f"A user with email {email} already exists.", field="email")


def _next_whole_second(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(math.ceil(moment.timestamp()), dt.UTC)


async def count_active_admins(session: AsyncSession) -> int:
    """How many active administrators there are (the console warns when it is one)."""
    result = await session.scalar(
        select(func.count()).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    return int(result or 0)
