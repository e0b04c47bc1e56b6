"""The audit log: every write records who, what, which target and which fields; no secret."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import httpx
from conftest import TEST_PASSWORD, LoginAs, UserFactory
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEvent, Role, User
from backend.schemas.user import MeUpdate, UserRegister, UserUpdate
from backend.services import auth, tokens, users
from backend.services.actor import Actor
from backend.services.audit import AuditFilter, describe_changes, list_events, record_event
from backend.services.errors import NotAuthenticated
from backend.services.policy import AuthPolicy

CONSOLE = Actor.console("tester")


async def all_events(session: AsyncSession) -> list[AuditEvent]:
    return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def current_hash(session: AsyncSession, user_id: int) -> str:
    user = await session.get(User, user_id, populate_existing=True)
    assert user is not None
    return user.hashed_password


class SecretLog:
    """Every password, hash and token the scenario below handled."""

    def __init__(self) -> None:
        self.values: set[str] = {TEST_PASSWORD}

    async def note_hash(self, session: AsyncSession, user_id: int) -> None:
        self.values.add(await current_hash(session, user_id))


async def _write_through_every_service(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory, secrets: SecretLog
) -> tuple[int, int]:
    """Run every kind of audited write once; returns (admin id, user id)."""
    admin = await make_user(Role.ADMIN)
    admin_id = admin.id
    secrets.values.update({"registered pw", "updated pw", "own new pw", "reset pw"})
    user = await users.register_user(
        session, UserRegister(email="ann@example.com", password="registered pw"), policy.hasher
    )
    user_id = user.id
    await secrets.note_hash(session, user_id)
    update = UserUpdate(version=1, full_name="Ann", password="updated pw")
    await users.update_user(session, CONSOLE, user_id, update, policy.hasher)
    await secrets.note_hash(session, user_id)
    me = MeUpdate(current_password="updated pw", new_password="own new pw")
    await users.update_own_profile(session, Actor.api_user(user_id, Role.USER), me, policy.hasher)
    await secrets.note_hash(session, user_id)
    await users.set_password(session, CONSOLE, user_id, "reset pw", policy.hasher)
    await secrets.note_hash(session, user_id)
    await users.set_active(session, CONSOLE, user_id, False)
    await users.set_active(session, CONSOLE, user_id, True)
    issued = await auth.login(session, policy, "ann@example.com", "reset pw")
    for _ in range(policy.max_failures):
        # The failures (and the lockout) are what this part records.
        with contextlib.suppress(NotAuthenticated):
            await auth.login(session, policy, "ann@example.com", "wrong pw!")
    await users.unlock_user(session, CONSOLE, user_id)
    minted = await tokens.mint_token(session, CONSOLE, "ann@example.com", policy)
    current = await tokens.authenticate_token(session, policy, issued.token)
    await tokens.logout(session, current)
    await tokens.revoke_token(session, CONSOLE, policy, minted.token)
    await users.revoke_user_tokens(session, CONSOLE, user_id)
    secrets.values.update({issued.token, minted.token, "wrong pw!"})
    await users.delete_user(session, Actor.api_user(admin_id, Role.ADMIN), user_id)
    return admin_id, user_id


# What an event that ends the account's sessions adds: the new cut-off and the reason.
ENDS = ["sessions_ended", "tokens_valid_after"]


async def test_every_write_records_who_what_target_and_changed_fields(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    admin_id, user_id = await _write_through_every_service(session, policy, make_user, SecretLog())
    target = f"user:{user_id}"
    recorded = [
        (event.actor, event.action, event.target, sorted(event.changes))
        for event in await all_events(session)
    ]
    assert recorded == [
        ("cli:fixture", "user.create", f"user:{admin_id}", ["email", "full_name", "role"]),
        (f"api:user:{user_id}", "user.register", target, ["email", "full_name", "role"]),
        ("console:tester", "user.update", target, ["full_name", "password", *ENDS]),
        (f"api:user:{user_id}", "user.update_self", target, ["password", *ENDS]),
        ("console:tester", "user.reset_password", target, ["password", *ENDS]),
        ("console:tester", "user.deactivate", target, ["is_active", *ENDS]),
        ("console:tester", "user.activate", target, ["is_active"]),
        (f"api:user:{user_id}", "auth.login", target, []),
        *[("api:anonymous", "auth.login_failed", target, ["failed_login_count"])] * 4,
        ("api:anonymous", "auth.lockout", target, ["failed_login_count", "locked_until"]),
        ("console:tester", "user.unlock", target, ["failed_login_count", "locked_until"]),
        ("console:tester", "token.issue", target, ["expires_at", "jti"]),
        (f"api:user:{user_id}", "token.revoke", target, ["jti"]),
        ("console:tester", "token.revoke", target, ["jti"]),
        ("console:tester", "user.revoke_tokens", target, ENDS),
        (f"api:user:{admin_id}", "user.delete", target, ["email"]),
    ]


async def test_no_audit_event_holds_a_password_hash_or_token(
    session: AsyncSession, policy: AuthPolicy, make_user: UserFactory
) -> None:
    secrets = SecretLog()
    await _write_through_every_service(session, policy, make_user, secrets)
    assert len(secrets.values) >= 10
    stored = [
        json.dumps([event.actor, event.action, event.target, event.changes])
        for event in await all_events(session)
    ]
    assert len(stored) == 19  # every event of the scenario, as listed in the test above
    leaks = [secret[:12] for secret in secrets.values for row in stored if secret in row]
    assert leaks == []


async def test_api_writes_are_attributed_to_the_signed_in_user(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.post(
        "/api/users",
        headers=await login_as(admin),
        json={"email": "new@example.com", "password": "api password", "role": "support"},
    )
    assert response.status_code == 201
    event = (await all_events(session))[-1]
    assert (event.actor, event.action, event.target, event.changes) == (
        f"api:user:{admin.id}",
        "user.create",
        f"user:{response.json()['id']}",
        {"email": "new@example.com", "role": "support", "full_name": ""},
    )
    assert "api password" not in json.dumps(event.changes)


def test_describe_changes_hides_secret_values_and_serialises_dates() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    described = describe_changes(
        {
            "password": ("old", "new"),
            "hashed_password": ("$2b$old", "$2b$new"),
            "token": ("", "eyJ..."),
            "locked_until": (None, moment),
            "full_name": ("A", "B"),
        }
    )
    assert described == {
        "password": "changed",
        "hashed_password": "changed",
        "token": "changed",
        "locked_until": [None, "2026-01-02T03:04:05+00:00"],
        "full_name": ["A", "B"],
    }


async def test_list_events_filters_and_pages_newest_first(session: AsyncSession) -> None:
    for number in range(5):
        record_event(session, CONSOLE, "thing.touch", f"thing:{number % 2}", {"n": number})
    record_event(session, Actor.anonymous(), "auth.login_failed", "user:1")
    await session.commit()
    newest = await list_events(session, limit=2)
    assert [event.action for event in newest] == ["auth.login_failed", "thing.touch"]
    older = await list_events(session, limit=10, before_id=newest[-1].id)
    assert [event.changes["n"] for event in older] == [3, 2, 1, 0]
    by_target = await list_events(session, AuditFilter(target="thing:1"))
    assert [event.changes["n"] for event in by_target] == [3, 1]
    by_actor = await list_events(session, AuditFilter(actor="api:anonymous"))
    assert [event.action for event in by_actor] == ["auth.login_failed"]
    by_action = await list_events(session, AuditFilter(action="thing.touch"), limit=0)
    assert len(by_action) == 1  # a limit below 1 still returns one page of one


async def test_list_events_filters_by_time_and_free_text_and_pages_up(
    session: AsyncSession,
) -> None:
    recorded = [
        record_event(session, CONSOLE, "user.update", "user:1", {"full_name": ["A", "Ann_50%"]}),
        record_event(session, Actor.anonymous(), "auth.login_failed", "user:2", {"n": 1}),
        record_event(session, CONSOLE, "token.issue", "user:2", {"jti": [None, "abc"]}),
    ]
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    for minutes, event in enumerate(recorded):
        event.at = start + dt.timedelta(minutes=minutes)
    await session.commit()
    events = await list_events(session)
    middle = events[1]
    assert [e.action for e in await list_events(session, AuditFilter(text="ANN_50%"))] == [
        "user.update"
    ]
    assert await list_events(session, AuditFilter(text="nn_5_%")) == []  # _ and % are literal
    assert [e.target for e in await list_events(session, AuditFilter(text="user:2"))] == [
        "user:2",
        "user:2",
    ]
    since = await list_events(session, AuditFilter(since=middle.at))
    assert [e.id for e in since] == [events[0].id, middle.id]
    until = await list_events(session, AuditFilter(until=middle.at))
    assert [e.id for e in until] == [events[2].id]
    above = await list_events(session, limit=1, after_id=events[2].id)
    assert [e.id for e in above] == [middle.id]


async def test_export_writes_the_filtered_events_as_csv_and_is_audited(
    session: AsyncSession,
) -> None:
    import csv
    import io

    from backend.services.audit_export import export_events_csv

    for number in range(5):
        record_event(session, CONSOLE, "thing.touch", "user:1", {"n": number})
    record_event(session, CONSOLE, "user.update", "user:2", {"full_name": ["=cmd()", "B"]})
    await session.commit()
    out = io.StringIO()
    progress: list[int] = []
    written = await export_events_csv(
        session,
        CONSOLE,
        AuditFilter(action="thing.touch"),
        out,
        on_progress=progress.append,
        page_size=2,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert written == 5
    assert progress == [2, 4, 5]
    assert rows[0] == ["id", "at", "actor", "action", "target", "changes", "chain_seq"]
    assert [json.loads(row[5])["n"] for row in rows[1:]] == [4, 3, 2, 1, 0]
    newest = (await list_events(session, limit=1))[0]
    assert (newest.action, newest.changes) == (
        "audit.export",
        {"count": 5, "filters": {"action": "thing.touch"}},
    )
