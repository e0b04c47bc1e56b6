"""backend.services.users: the account rules every client (API, console, CLI) shares."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from conftest import TEST_PASSWORD, UserFactory
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database, utcnow
from backend.models import AuditEvent, Role, User
from backend.schemas.user import MeUpdate, UserCreate, UserRegister, UserUpdate
from backend.services import users
from backend.services.actor import Actor
from backend.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backend.services.policy import AuthPolicy

CONSOLE = Actor.console("tester")


def as_api(user: User) -> Actor:
    return Actor.api_user(user.id, user.role)


async def events(session: AsyncSession) -> list[AuditEvent]:
    return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def fresh(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id, populate_existing=True)
    assert user is not None
    return user


# --- create and register -----------------------------------------------------------------


async def test_create_user_stores_a_normalised_email_and_a_bcrypt_hash(
    session: AsyncSession, policy: AuthPolicy
) -> None:
    data = UserCreate(email="  Mixed@Example.COM ", password=TEST_PASSWORD, role=Role.SUPPORT)
    user = await users.create_user(session, CONSOLE, data, policy.hasher)
    assert (user.email, user.role, user.version, user.is_active) == (
        "mixed@example.com",
        "support",
        1,
        True,
    )
    assert user.hashed_password.startswith("$2b$04$")
    assert await users.find_user_by_email(session, "MIXED@example.com ") is not None


async def test_duplicate_email_is_a_conflict_and_writes_nothing(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    await make_user(email="dup@example.com")
    before = len(await events(session))
    with pytest.raises(Conflict, match=r"dup@example\.com already exists") as refused:
        await users.create_user(
            session,
            CONSOLE,
            UserCreate(email="DUP@example.com", password=TEST_PASSWORD),
            policy.hasher,
        )
    assert refused.value.field == "email"  # a form shows it beside the email field
    with pytest.raises(Conflict):
        await users.register_user(
            session, UserRegister(email="Dup@Example.com", password=TEST_PASSWORD), policy.hasher
        )
    assert await session.scalar(select(func.count()).select_from(User)) == 1
    assert len(await events(session)) == before


async def test_concurrent_creates_of_one_email_leave_one_account(
    db: Database, policy: AuthPolicy
) -> None:
    # Both pass the look-up; the unique index decides, and the loser gets a Conflict.
    async def create() -> User | Conflict:
        async with db.session() as session:
            data = UserCreate(email="race@example.com", password=TEST_PASSWORD)
            try:
                return await users.create_user(session, CONSOLE, data, policy.hasher)
            except Conflict as error:
                return error

    results = await asyncio.gather(*(create() for _ in range(4)))
    assert sum(isinstance(result, User) for result in results) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert len(await events(session)) == 1


async def test_register_always_creates_the_user_role(
    session: AsyncSession, policy: AuthPolicy
) -> None:
    user = await users.register_user(
        session, UserRegister(email="self@example.com", password=TEST_PASSWORD), policy.hasher
    )
    assert user.role == "user"
    [event] = await events(session)
    assert (event.actor, event.action, event.target) == (
        f"api:user:{user.id}",  # the new account registered itself
        "user.register",
        f"user:{user.id}",
    )
    with pytest.raises(ValidationError):
        UserRegister.model_validate(
            {"email": "x@example.com", "password": TEST_PASSWORD, "role": "admin"}
        )


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.ADMIN])
async def test_support_creates_only_user_accounts(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory, role: Role
) -> None:
    support = await make_user(Role.SUPPORT)
    with pytest.raises(PermissionDenied, match="only accounts with the user role"):
        await users.create_user(
            session,
            as_api(support),
            UserCreate(email="x@example.com", password=TEST_PASSWORD, role=role),
            policy.hasher,
        )


# --- read ----------------------------------------------------------------------------------


async def test_users_see_only_themselves(session: AsyncSession, make_user: UserFactory) -> None:
    user, other = await make_user(), await make_user()
    assert (await users.get_user(session, as_api(user), user.id)).id == user.id
    with pytest.raises(PermissionDenied):
        await users.get_user(session, as_api(user), other.id)
    with pytest.raises(NotFound, match=r"User 999 does not exist\."):
        await users.get_user(session, CONSOLE, 999)


# --- update --------------------------------------------------------------------------------


async def test_update_bumps_the_version_and_audits_old_and_new(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user(full_name="Old")
    updated = await users.update_user(
        session, CONSOLE, user.id, UserUpdate(version=1, full_name="New"), policy.hasher
    )
    assert (updated.full_name, updated.version) == ("New", 2)
    event = (await events(session))[-1]
    assert (event.actor, event.action, event.changes) == (
        "console:tester",
        "user.update",
        {"full_name": ["Old", "New"]},
    )


async def test_update_without_real_changes_writes_nothing(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user(full_name="Same")
    before = len(await events(session))
    same = await users.update_user(
        session, CONSOLE, user.id, UserUpdate(version=1, full_name="Same"), policy.hasher
    )
    assert same.version == 1
    assert len(await events(session)) == before


async def test_unlocking_an_account_that_is_not_locked_writes_nothing(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    before = len(await events(session))
    unlocked = await users.unlock_user(session, CONSOLE, user.id)
    assert not unlocked.was_locked
    same = unlocked.user
    assert (same.version, same.locked_until, same.failed_login_count) == (1, None, 0)
    assert len(await events(session)) == before


async def test_unlock_clears_a_lapsed_lockout_but_says_it_was_not_locked(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    user.locked_until = utcnow() - dt.timedelta(minutes=1)
    await session.commit()
    unlocked = await users.unlock_user(session, CONSOLE, user.id)
    assert not unlocked.was_locked
    assert (await fresh(session, user.id)).locked_until is None
    assert (await events(session))[-1].action == "user.unlock"


async def test_unlock_of_a_locked_account_says_it_was_locked(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    user.locked_until, user.failed_login_count = utcnow() + dt.timedelta(minutes=5), 5
    await session.commit()
    unlocked = await users.unlock_user(session, CONSOLE, user.id)
    assert unlocked.was_locked
    assert (unlocked.user.locked_until, unlocked.user.failed_login_count) == (None, 0)


async def test_stale_version_is_a_conflict_and_writes_nothing(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user(full_name="Original")
    await users.update_user(
        session, CONSOLE, user.id, UserUpdate(version=1, full_name="A"), policy.hasher
    )
    before = len(await events(session))
    with pytest.raises(Conflict, match="now version 2, yours 1"):
        await users.update_user(
            session, CONSOLE, user.id, UserUpdate(version=1, full_name="B"), policy.hasher
        )
    assert (await fresh(session, user.id)).full_name == "A"
    assert len(await events(session)) == before


async def test_two_editors_with_one_version_cannot_both_win(
    db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()

    async def rename(name: str) -> str:
        async with db.session() as session:
            try:
                data = UserUpdate(version=1, full_name=name)
                await users.update_user(session, CONSOLE, user.id, data, policy.hasher)
            except Conflict:
                return "conflict"
            return "saved"

    outcomes = await asyncio.gather(rename("A"), rename("B"))
    assert sorted(outcomes) == ["conflict", "saved"]


async def test_email_change_to_a_taken_address_is_a_conflict(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    await make_user(email="taken@example.com")
    user_id = (await make_user()).id  # the failed commit expires the session's objects
    with pytest.raises(Conflict, match="already exists") as refused:
        await users.update_user(
            session,
            CONSOLE,
            user_id,
            UserUpdate(version=1, email="TAKEN@example.com"),
            policy.hasher,
        )
    assert refused.value.field == "email"
    assert (await fresh(session, user_id)).version == 1


async def test_nobody_changes_their_own_role(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)
    with pytest.raises(PermissionDenied, match=r"Nobody can change their own role\."):
        await users.update_user(
            session, as_api(admin), admin.id, UserUpdate(version=1, role=Role.USER), policy.hasher
        )


@pytest.mark.parametrize(
    "change",
    [{"role": Role.ADMIN}, {"role": Role.USER}, {"email": "new@example.com"}],
    ids=["promote", "demote", "email"],
)
async def test_support_cannot_change_roles_or_emails(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory, change: dict[str, object]
) -> None:
    support, target = await make_user(Role.SUPPORT), await make_user(Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        await users.update_user(
            session,
            as_api(support),
            target.id,
            UserUpdate.model_validate({"version": 1, **change}),
            policy.hasher,
        )
    assert (await fresh(session, target.id)).version == 1


async def test_support_cannot_touch_admins(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    support, admin = as_api(await make_user(Role.SUPPORT)), await make_user(Role.ADMIN)
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: users.update_user(
            session, support, admin.id, UserUpdate(version=1, full_name="x"), policy.hasher
        ),
        lambda: users.set_password(session, support, admin.id, "new password", policy.hasher),
        lambda: users.set_active(session, support, admin.id, False),
        lambda: users.unlock_user(session, support, admin.id),
        lambda: users.revoke_user_tokens(session, support, admin.id),
        lambda: users.delete_user(session, support, admin.id),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="administrator"):
            await attempt()
    assert (await fresh(session, admin.id)).version == 1
    assert {event.action for event in await events(session)} == {"user.create"}


async def test_support_cannot_delete_users(session: AsyncSession, make_user: UserFactory) -> None:
    support, user = await make_user(Role.SUPPORT), await make_user()
    with pytest.raises(PermissionDenied, match=r"Only administrators can delete accounts\."):
        await users.delete_user(session, as_api(support), user.id)
    assert await session.get(User, user.id) is not None


# --- the last active administrator ---------------------------------------------------------


@pytest.mark.parametrize("how", ["demote", "deactivate", "deactivate-by-update", "delete"])
async def test_last_active_admin_cannot_be_removed(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory, how: str
) -> None:
    admin = await make_user(Role.ADMIN)
    other = await make_user(Role.ADMIN)
    await users.set_active(session, CONSOLE, other.id, False)  # inactive admins do not count
    before = len(await events(session))
    attempts: dict[str, Callable[[], Awaitable[object]]] = {
        "demote": lambda: users.update_user(
            session, CONSOLE, admin.id, UserUpdate(version=1, role=Role.SUPPORT), policy.hasher
        ),
        "deactivate": lambda: users.set_active(session, CONSOLE, admin.id, False),
        "deactivate-by-update": lambda: users.update_user(
            session, CONSOLE, admin.id, UserUpdate(version=1, is_active=False), policy.hasher
        ),
        "delete": lambda: users.delete_user(session, CONSOLE, admin.id),
    }
    with pytest.raises(Conflict, match="last active administrator"):
        await attempts[how]()
    kept = await fresh(session, admin.id)
    assert (kept.role, kept.is_active, kept.version) == ("admin", True, 1)
    assert len(await events(session)) == before


async def test_an_admin_can_be_demoted_while_another_remains(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    first, second = await make_user(Role.ADMIN), await make_user(Role.ADMIN)
    await users.update_user(
        session, as_api(first), second.id, UserUpdate(version=1, role=Role.USER), policy.hasher
    )
    assert await users.count_active_admins(session) == 1


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    db: Database, policy: AuthPolicy, make_user: UserFactory
) -> None:
    first, second = await make_user(Role.ADMIN), await make_user(Role.ADMIN)

    async def demote(actor: User, target: User) -> str:
        async with db.session() as session:
            data = UserUpdate(version=1, role=Role.USER)
            try:
                await users.update_user(session, as_api(actor), target.id, data, policy.hasher)
            except Conflict:
                return "conflict"
            return "demoted"

    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(outcomes) == ["conflict", "demoted"]
    async with db.session() as session:
        assert await users.count_active_admins(session) == 1


# --- passwords, activity, lockout, tokens, delete ------------------------------------------


async def test_set_password_validates_and_writes_nothing_on_bad_input(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    for bad, message in (("short", "at least 8 bytes"), ("é" * 37, "at most 72 bytes")):
        with pytest.raises(InvalidInput, match=message):
            await users.set_password(session, CONSOLE, user.id, bad, policy.hasher)
    assert (await fresh(session, user.id)).version == 1
    await users.set_password(session, CONSOLE, user.id, "a new password", policy.hasher)
    assert await policy.hasher.verify(
        "a new password", (await fresh(session, user.id)).hashed_password
    )


async def test_own_password_change_needs_the_current_password(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    user = await make_user()
    actor = as_api(user)
    for current in (None, "wrong password", "x" * 100):
        data = MeUpdate(new_password="brand new password", current_password=current)
        with pytest.raises(InvalidInput, match=r"The current password is wrong\."):
            await users.update_own_profile(session, actor, data, policy.hasher)
    data = MeUpdate(new_password="brand new password", current_password=TEST_PASSWORD)
    changed = await users.update_own_profile(session, actor, data, policy.hasher)
    assert await policy.hasher.verify("brand new password", changed.hashed_password)
    changes = (await events(session))[-1].changes
    assert (changes["password"], changes["sessions_ended"]) == ("changed", "password change")
    assert changed.tokens_valid_after is not None
    assert changes["tokens_valid_after"][1] == changed.tokens_valid_after.isoformat()


async def test_own_profile_needs_a_signed_in_user(
    session: AsyncSession, policy: AuthPolicy
) -> None:
    with pytest.raises(PermissionDenied):
        await users.update_own_profile(session, CONSOLE, MeUpdate(full_name="x"), policy.hasher)


async def test_set_active_is_audited_once_and_idempotent(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    assert (await users.set_active(session, CONSOLE, user.id, False)).changed
    again = await users.set_active(session, CONSOLE, user.id, False)
    assert not again.changed
    assert not again.user.is_active
    deactivations = [e for e in await events(session) if e.action == "user.deactivate"]
    assert len(deactivations) == 1
    cutoff = again.user.tokens_valid_after
    assert cutoff is not None
    assert deactivations[0].changes == {
        "is_active": [True, False],
        "tokens_valid_after": [None, cutoff.isoformat()],
        "sessions_ended": "deactivation",
    }
    reactivated = await users.set_active(session, CONSOLE, user.id, True)
    assert reactivated.changed
    assert reactivated.user.is_active


async def test_revoke_user_tokens_cuts_off_at_the_next_whole_second(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    before = utcnow()
    revoked = await users.revoke_user_tokens(session, CONSOLE, user.id)
    after = utcnow()
    cutoff = revoked.tokens_valid_after
    assert cutoff is not None
    assert cutoff.microsecond == 0
    # The call's own clock reading lies between `before` and `after`; the cut-off is
    # the whole second just past it.
    assert before < cutoff <= after + dt.timedelta(seconds=1)


async def test_delete_removes_the_account_and_audits_it(
    session: AsyncSession, make_user: UserFactory
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    await users.delete_user(session, as_api(admin), user.id)
    assert await session.get(User, user.id) is None
    event = (await events(session))[-1]
    assert (event.actor, event.action, event.target, event.changes) == (
        f"api:user:{admin.id}",
        "user.delete",
        f"user:{user.id}",
        {"email": user.email},
    )
    with pytest.raises(NotFound):
        await users.delete_user(session, as_api(admin), user.id)


async def test_nobody_deletes_themselves(session: AsyncSession, make_user: UserFactory) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)
    with pytest.raises(PermissionDenied, match="your own account"):
        await users.delete_user(session, as_api(admin), admin.id)
