"""The token lookup's own asyncpg pool (PostgreSQL): used, healed after a lost connection."""

from __future__ import annotations

import httpx
from conftest import LoginAs, UserFactory
from sqlalchemy import text

from backend.database import Database


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


async def test_a_hot_connection_killed_by_the_server_is_never_a_500(
    client: httpx.AsyncClient, db: Database, make_user: UserFactory, login_as: LoginAs
) -> None:
    if db.hot is None:
        return  # SQLite: no hot pool
    headers = await login_as(await make_user())
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    async with db.hot.connection() as hot:
        pid = hot.driver.get_server_pid()
    async with db.engine.begin() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    statuses = [(await client.get("/api/users/me", headers=headers)).status_code for _ in range(3)]
    assert statuses[0] in (200, 503)  # the outage, if the pool had not noticed it yet
    assert statuses[1:] == [200, 200]  # then a fresh connection
