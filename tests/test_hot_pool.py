"""The token lookup's own asyncpg pool (PostgreSQL): used, batched, healed after a lost
connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from conftest import LoginAs, UserFactory
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database, utcnow
from backend.hot_pool import HotPool
from backend.models import User
from backend.services import tokens, users
from backend.services.actor import Actor
from backend.services.driver_sql import HotConnection, fetch_first
from backend.services.policy import AuthPolicy
from backend.services.tokens import TOKEN_SUBJECT, TOKEN_SUBJECTS

ME = "/api/users/me"


async def test_signed_in_requests_use_the_hot_pool_only_on_asyncpg(
    client: httpx.AsyncClient, db: Database, make_user: UserFactory, login_as: LoginAs
) -> None:
    headers = await login_as(await make_user())
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    if db.dialect == "sqlite":
        assert db.hot is None
        return
    assert db.hot is not None
    async with db.hot.connection() as hot:
        assert await hot.driver.fetchval("SELECT 1") == 1


@pytest.mark.postgres_only
async def test_a_hot_connection_killed_by_the_server_is_never_a_500(
    client: httpx.AsyncClient, db: Database, make_user: UserFactory, login_as: LoginAs
) -> None:
    assert db.hot is not None
    headers = await login_as(await make_user())
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    async with db.hot.connection() as hot:
        pid = hot.driver.get_server_pid()
    async with db.engine.begin() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    statuses = [(await client.get("/api/users/me", headers=headers)).status_code for _ in range(3)]
    assert statuses[0] in (200, 503)  # the outage, if the pool had not noticed it yet
    assert statuses[1:] == [200, 200]  # then a fresh connection


@pytest.fixture
def hot(db: Database) -> HotPool:
    assert db.hot is not None, "the hot pool serves PostgreSQL only: mark the test postgres_only"
    return db.hot


def count_checkouts(hot: HotPool, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many connections the pool hands out from now on (one per statement sent)."""
    checkouts: list[int] = []
    connection = hot.connection

    def counted() -> AbstractAsyncContextManager[HotConnection]:
        checkouts.append(1)
        return connection()

    monkeypatch.setattr(hot, "connection", counted)
    return checkouts


@pytest.mark.postgres_only
async def test_lookups_of_one_loop_turn_share_one_statement_and_match_the_single_lookup(
    hot: HotPool,
    db: Database,
    session: AsyncSession,
    make_user: UserFactory,
    policy: AuthPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = await make_user(), await make_user()
    revoked = tokens.issue_token(second, policy)
    await tokens.revoke_jti(
        session, Actor.console("tester"), revoked.jti, revoked.expires_at, second.id
    )
    lookups = [(first.id, "jti-1"), (second.id, revoked.jti), (first.id, "jti-1"), (999_999, "x")]
    checkouts = count_checkouts(hot, monkeypatch)

    rows = await asyncio.gather(*(hot.fetch_keyed(TOKEN_SUBJECTS, key) for key in lookups))

    assert checkouts == [1]
    async with db.engine.connect() as connection:
        for (user_id, jti), row in zip(lookups, rows, strict=True):
            parameters = {"user_id": user_id, "jti": jti}
            assert row == await fetch_first(connection, TOKEN_SUBJECT, parameters)
    assert [row and row["email"] for row in rows] == [first.email, second.email, first.email, None]
    assert [row and row["revoked_by"] for row in rows] == [None, "console:tester", None, None]


async def test_concurrent_requests_each_get_their_own_verdict(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_user: UserFactory,
    policy: AuthPolicy,
) -> None:
    """Every check holds for each request of a batch: revocation, sessions ended, the
    account's state; on SQLite the same answers, one statement each."""
    active, other, revoked, ended, inactive, locked, deleted = [await make_user() for _ in range(7)]
    token = {user.id: tokens.issue_token(user, policy) for user in (active, other, revoked, ended)}
    token |= {user.id: tokens.issue_token(user, policy) for user in (inactive, locked, deleted)}
    await tokens.revoke_jti(
        session,
        Actor.cli("tester"),
        token[revoked.id].jti,
        token[revoked.id].expires_at,
        revoked.id,
    )
    await users.revoke_user_tokens(session, Actor.cli("tester"), ended.id)
    soon = utcnow() + dt.timedelta(minutes=5)
    await session.execute(update(User).where(User.id == inactive.id).values(is_active=False))
    await session.execute(update(User).where(User.id == locked.id).values(locked_until=soon))
    await session.commit()
    await users.delete_user(session, Actor.cli("tester"), deleted.id)
    order = [active, revoked, other, ended, inactive, locked, deleted, active]

    answers = await asyncio.gather(
        *(client.get(ME, headers={"Authorization": f"Bearer {token[u.id].token}"}) for u in order)
    )

    assert [answer.status_code for answer in answers] == [200, 401, 200, 401, 401, 401, 401, 200]
    assert [answers[i].json()["email"] for i in (0, 2, 7)] == [
        active.email,
        other.email,
        active.email,
    ]
    assert answers[1].json()["detail"].startswith("The token was revoked at ")
    assert {answer.json()["detail"] for answer in answers[3:7]} == {tokens.GENERIC_TOKEN_ERROR}


@pytest.mark.postgres_only
async def test_a_cancelled_lookup_leaves_the_others_of_its_batch_answered(
    hot: HotPool, make_user: UserFactory
) -> None:
    user = await make_user()
    lookups = [
        asyncio.ensure_future(hot.fetch_keyed(TOKEN_SUBJECTS, (user.id, "j"))) for _ in "abc"
    ]
    await asyncio.sleep(0)  # each has asked: the batch is waiting for the end of the turn
    lookups[1].cancel()

    done = await asyncio.gather(*lookups, return_exceptions=True)

    assert isinstance(done[1], asyncio.CancelledError)
    assert [row["email"] for row in (done[0], done[2])] == [user.email, user.email]  # type: ignore[index]


@pytest.mark.postgres_only
async def test_every_lookup_of_a_batch_the_database_cannot_serve_gets_its_own_error(
    hot: HotPool, db: Database
) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = make_url(db.url).set(port=closed_port).render_as_string(hide_password=False)
    unreachable = Database(url)
    assert unreachable.hot is not None
    try:
        lookups = [unreachable.hot.fetch_keyed(TOKEN_SUBJECTS, (1, "j")) for _ in range(3)]
        errors = await asyncio.gather(*lookups, return_exceptions=True)
    finally:
        await unreachable.dispose()

    assert all(type(error) is ConnectionError for error in errors)
    assert len({id(error) for error in errors}) == 3


@pytest.mark.postgres_only
async def test_closing_the_pool_cancels_the_lookups_still_waiting_for_their_turn(
    hot: HotPool, db: Database
) -> None:
    own = Database(db.url)
    assert own.hot is not None
    lookup = asyncio.ensure_future(own.hot.fetch_keyed(TOKEN_SUBJECTS, (1, "j")))
    await asyncio.sleep(0)  # it has asked; the batch goes at the end of this turn

    await own.dispose()

    with pytest.raises(asyncio.CancelledError):
        await lookup
    assert await hot.fetch_keyed(TOKEN_SUBJECTS, (1, "j")) is None  # other pools unaffected
