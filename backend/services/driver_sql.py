"""Hot read paths: a statement compiled once, sent straight through asyncpg's connection.

On small indexed reads SQLAlchemy's per-execution work (cache key, compiled-cache
lookup, result set-up, the async adapter's greenlet hops) costs more CPU than the
query itself: a third of an authenticated request (bench/bench_api.py) and about 40%
of a Users page (bench/bench_users_screen.py). On asyncpg these helpers compile a
statement once and hand its SQL to the pooled driver connection; on other drivers
they run it through SQLAlchemy Core. The rows hold the same Python values either way
for the columns this is used with: asyncpg returns timestamptz as aware UTC
datetimes, which UTCDateTime leaves as they are there.

A KeyedSelect answers many lookups of the same shape in one statement: the hot pool
(backend/hot_pool.py) gathers the lookups of one event-loop turn into one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

# A SELECT of any columns.
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class HotConnection:
    """A connection from the hot pool (backend/hot_pool.py) and its statements' dialect."""

    driver: Any  # asyncpg's connection (the pool's proxy of one)
    dialect: Dialect


@dataclass(frozen=True, slots=True, eq=False)
class KeyedSelect:
    """A SELECT that answers many lookups at once.

    `statement` takes one array parameter per name in `keys` (lookup i's values at
    index i) and returns at most one row per lookup, its 1-based index in the column
    named `position`.
    """

    statement: AnySelect
    keys: tuple[str, ...]


class KeyedReader(Protocol):
    """What runs KeyedSelects: the hot pool, which batches the lookups of one loop turn."""

    async def fetch_keyed(
        self, query: KeyedSelect, key: tuple[Any, ...]
    ) -> dict[str, Any] | None: ...


@lru_cache(maxsize=1024)
def _compiled(statement: AnySelect, dialect: Dialect) -> SQLCompiler:
    # Select hashes by identity: the statements passed here are built once and kept.
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # a SELECT always compiles to one
    return compiled


@lru_cache(maxsize=1024)
def _fixed_sql(statement: AnySelect, dialect: Dialect) -> tuple[str, tuple[str, ...]] | None:
    """The SQL and its parameters' order, when nothing is rendered per execution."""
    compiled = _compiled(statement, dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    return compiled.string, tuple(compiled.positiontup or ())


@lru_cache(maxsize=1024)
def _column_names(statement: AnySelect) -> tuple[str, ...]:
    return tuple(statement.selected_columns.keys())


def _sql_and_values(
    statement: AnySelect, dialect: Dialect, parameters: Mapping[str, Any]
) -> tuple[str, Sequence[Any]]:
    if (fixed := _fixed_sql(statement, dialect)) is not None:
        sql, names = fixed
        return sql, [parameters[name] for name in names]
    # The expanded state renders literal_execute parameters (search terms) into the
    # SQL, exactly as Core execution does, and orders the others for $1, $2, ...
    state = _compiled(statement, dialect).construct_expanded_state(parameters)
    return state.statement, state.positional_parameters or ()


async def fetch_rows(
    connection: AsyncConnection | HotConnection,
    statement: AnySelect,
    parameters: Mapping[str, Any],
) -> Sequence[Sequence[Any]]:
    """Every row of `statement`, each a sequence of the selected columns' values."""
    if isinstance(connection, HotConnection):
        # The hot pool's own asyncpg connection: its errors are the pool's to translate.
        sql, values = _sql_and_values(statement, connection.dialect, parameters)
        hot_records: Sequence[Sequence[Any]] = await connection.driver.fetch(sql, *values)
        return hot_records
    if connection.dialect.driver != "asyncpg":
        return await _through_core(connection, statement, parameters)
    sql, values = _sql_and_values(statement, connection.dialect, parameters)
    driver = await _driver_connection(connection)
    try:
        records: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
    except Exception:
        # The driver's own error: SQLAlchemy meets the same statement and translates
        # what happens as for every other query (a lost connection becomes a
        # DBAPIError the edges answer with 503, and the pool forgets the connection).
        return await _through_core(connection, statement, parameters)
    return records


async def _driver_connection(connection: AsyncConnection) -> Any:
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        # Checked out and valid: reading it needs no I/O, so no hop into a greenlet
        # (get_raw_connection's, about 5% of a Users page).
        raw = sync.connection
    else:
        raw = await connection.get_raw_connection()  # reconnects, or raises the reason
    assert raw.driver_connection is not None  # a checked-out connection always has one
    return raw.driver_connection


async def _through_core(
    connection: AsyncConnection, statement: AnySelect, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    rows: Sequence[Sequence[Any]] = (await connection.execute(statement, dict(parameters))).all()
    return rows


async def fetch_first(
    connection: AsyncConnection | HotConnection,
    statement: AnySelect,
    parameters: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The first row of `statement` by column name, or None."""
    rows = await fetch_rows(connection, statement, parameters)
    if not rows:
        return None
    return dict(zip(_column_names(statement), rows[0], strict=True))


async def fetch_keyed(
    connection: AsyncConnection | HotConnection,
    query: KeyedSelect,
    lookups: Sequence[tuple[Any, ...]],
) -> list[dict[str, Any] | None]:
    """Each lookup's row by column name (without `position`), or None, in one statement."""
    arrays = {name: [lookup[index] for lookup in lookups] for index, name in enumerate(query.keys)}
    names = _column_names(query.statement)
    position = names.index("position")
    found: list[dict[str, Any] | None] = [None] * len(lookups)
    for row in await fetch_rows(connection, query.statement, arrays):
        found[row[position] - 1] = {
            name: value for name, value in zip(names, row, strict=True) if name != "position"
        }
    return found
