"""asyncpg's own pool beside the engine's, for the one lookup every signed-in request runs.

Checking a connection out of SQLAlchemy's pool and back in costs about 100 µs of CPU
per request (the AsyncConnection and Connection objects, greenlet hops, the shielded
close): more than the token lookup itself (bench/bench_api.py). asyncpg's pool hands a
connection out and takes it back for a few µs when release does not reset it, and
nothing run here changes a session's state (no SET, no transaction left open, no
LISTEN), so there is nothing to reset.

The lookups are batched: the requests that ask in the same event-loop turn share one
statement (a KeyedSelect), sent at the end of that turn. Under load one round trip
then answers several requests, which saves the per-statement work on both sides (the
pool's checkout and release, the driver's send and parse, the server's execution): in
bench/bench_api.py (32 connections) one statement answered about 16 requests and the
CPU per request fell from about 0.33 to 0.24 ms. Nothing is cached: each request's
row is read after the request arrived, with every check as before.

Imported only for a PostgreSQL database (asyncpg is not loaded for SQLite). The pool
opens at its first use, in the loop that serves requests, and Database.dispose
closes it. A lost or refused connection comes out as ConnectionError, which the edges
answer like any database outage (503).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from backend.services.driver_sql import HotConnection, KeyedSelect, fetch_keyed

# Errors that mean "the database cannot be reached" (or the server ended the session:
# a terminated backend, a shutdown), not "the statement is wrong".
_CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)


_Waiter = tuple[tuple[Any, ...], "asyncio.Future[dict[str, Any] | None]"]


async def _keep_as_is(_connection: Any) -> None:
    """Release without asyncpg's reset: see the module's docstring."""


def _own_copy(error: Exception) -> Exception:
    """A ConnectionError of its own for each waiting request (each raises and answers it);
    anything else is a bug, passed on as it is."""
    return ConnectionError(*error.args) if isinstance(error, ConnectionError) else error


class HotPool:
    """A small asyncpg pool with the engine's connection arguments and size."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect = engine.dialect
        _args, self._connect_kwargs = engine.dialect.create_connect_args(engine.url)
        self._size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 10
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        self._waiting: dict[KeyedSelect, list[_Waiter]] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def fetch_keyed(self, query: KeyedSelect, key: tuple[Any, ...]) -> dict[str, Any] | None:
        """The row `query` finds for `key`, or None; ConnectionError when the database
        cannot serve it. Sent with the other lookups of this loop turn, in one statement."""
        loop = asyncio.get_running_loop()
        found: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        waiting = self._waiting.get(query)
        if waiting is None:
            waiting = self._waiting[query] = []
            # In a context of its own: the batch belongs to no one request.
            loop.call_soon(self._send, query, context=contextvars.Context())
        waiting.append((key, found))
        return await found

    def _send(self, query: KeyedSelect) -> None:
        batch = self._waiting.pop(query, None)
        if batch is None:
            return  # the pool was closed meanwhile
        task = asyncio.get_running_loop().create_task(self._answer(query, batch))
        self._sending.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._sending.discard)

    async def _answer(self, query: KeyedSelect, batch: list[_Waiter]) -> None:
        # A request that went away (cancelled) needs no answer.
        batch = [(key, found) for key, found in batch if not found.done()]
        if not batch:
            return
        try:
            async with self.connection() as hot:
                rows = await fetch_keyed(hot, query, [key for key, _found in batch])
        except asyncio.CancelledError:
            for _key, found in batch:
                found.cancel()
            raise
        except Exception as error:
            for _key, found in batch:
                if not found.done():
                    found.set_exception(_own_copy(error))
            return
        for (_key, found), row in zip(batch, rows, strict=True):
            if not found.done():
                found.set_result(row)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[HotConnection]:
        """A connection for one read; ConnectionError when the database cannot serve it."""
        try:
            pool = self._pool or await self._open()
            driver = await pool.acquire()
        except _CONNECTION_ERRORS as error:
            raise ConnectionError(type(error).__name__) from error
        try:
            yield HotConnection(driver, self._dialect)
        except _CONNECTION_ERRORS as error:
            # Never handed out again (release does not reset): the pool opens a new one.
            # A connection the server closed is detached from the pool already.
            with suppress(asyncpg.InterfaceError):
                driver.terminate()
            raise ConnectionError(type(error).__name__) from error
        finally:
            await pool.release(driver)

    async def _open(self) -> asyncpg.Pool:
        self._opening = self._opening or asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    min_size=0, max_size=self._size, reset=_keep_as_is, **self._connect_kwargs
                )
        return self._pool

    async def close(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for batch in waiting.values():
            for _key, found in batch:
                found.cancel()
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None:
            pool.terminate()  # nothing to finish: every use is one read, already answered
