"""backend.services.driver_sql: the same rows and the same errors as SQLAlchemy Core gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import UserFactory
from sqlalchemy import String, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from backend.api.errors import is_connection_error
from backend.database import Database, UTCDateTime
from backend.models import User
from backend.services import driver_sql

# A search term is rendered into the SQL (literal_execute), as the user listings do;
# the moment travels as a parameter.
BY_NAME_SINCE = (
    select(User.id, User.email, User.full_name, User.is_active, User.created_at)
    .where(
        User.full_name.like(bindparam("pattern", type_=String(), literal_execute=True), escape="\\")
    )
    .where(User.created_at > bindparam("since", type_=UTCDateTime()))
    .order_by(User.id)
)
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


async def core_rows(db: Database, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(BY_NAME_SINCE, parameters)]


async def fetched_rows(db: Database, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as connection:
        rows = await driver_sql.fetch_rows(connection, BY_NAME_SINCE, parameters)
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("pattern", ["%O'Brien%", "%100\\%%", "%", "%nobody%"])
async def test_rows_are_those_core_execution_gives(
    db: Database, make_user: UserFactory, pattern: str
) -> None:
    await make_user(full_name="Siobhan O'Brien")
    await make_user(full_name="100% Sure")
    await make_user(full_name="Plain Name")
    parameters = {"pattern": pattern, "since": LONG_AGO}
    expected = await core_rows(db, parameters)
    assert await fetched_rows(db, parameters) == expected
    if pattern != "%nobody%":
        assert expected  # the comparison is over real rows
    created = expected[0][4] if expected else None
    assert created is None or created.tzinfo is not None  # aware UTC on both drivers


async def test_the_first_row_by_column_name(db: Database, make_user: UserFactory) -> None:
    user = await make_user(email="first@example.com", full_name="First Person")
    async with db.engine.connect() as connection:
        found = await driver_sql.fetch_first(
            connection, BY_NAME_SINCE, {"pattern": "First%", "since": LONG_AGO}
        )
        nothing = await driver_sql.fetch_first(
            connection, BY_NAME_SINCE, {"pattern": "Nobody%", "since": LONG_AGO}
        )
    assert found is not None
    assert (found["id"], found["email"], found["is_active"]) == (user.id, user.email, True)
    assert nothing is None


async def test_a_lost_connection_fails_as_it_does_through_sqlalchemy(
    postgresql_url: str,
) -> None:
    database = Database(postgresql_url)
    try:
        async with database.engine.connect() as connection:
            backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with database.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            with pytest.raises(DBAPIError) as caught:
                await driver_sql.fetch_rows(
                    connection, BY_NAME_SINCE, {"pattern": "%", "since": LONG_AGO}
                )
        assert is_connection_error(caught.value)  # the API answers 503, not 500
    finally:
        await database.dispose()
