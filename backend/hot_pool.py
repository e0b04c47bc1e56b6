"""asyncpg's own pool beside the engine's, for the one statement every signed-in request runs.

Checking a connection out of SQLAlchemy's pool and back in costs about 100 µs of CPU
per request (the AsyncConnection and Connection objects, greenlet hops, the shielded
close): more than the token lookup itself (bench/bench_api.py). asyncpg's pool hands a
connection out and takes it back for a few µs when release does not reset it, and
nothing run here changes a session's state (no SET, no transaction left open, no
LISTEN), so there is nothing to reset.

Imported only for a PostgreSQL database (asyncpg is not loaded for SQLite). The pool
opens at its first use, in the loop that serves requests, and Database.dispose
closes it. A lost or refused connection comes out as ConnectionError, which the edges
answer like any database outage (503).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from backend.services.driver_sql import HotConnection

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


async def _keep_as_is(_connection: Any) -> None:
    """Release without asyncpg's reset: see the module's docstring."""


class HotPool:
    """A small asyncpg pool with the engine's connection arguments and size."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect = engine.dialect
        _args, self._connect_kwargs = engine.dialect.create_connect_args(engine.url)
        self._size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 10
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None

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
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None:
            pool.terminate()  # nothing to finish: every use is one read, already answered
