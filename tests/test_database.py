"""The database layer under cancellation: a cancelled query must not leave work behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import warnings
from pathlib import Path

import pytest
from conftest import SLOW_QUERIES, assert_nothing_left_running
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from backend.database import Database


async def test_a_query_cancelled_again_while_its_connection_closes_leaves_no_task_behind(
    db: Database,
) -> None:
    tasks_before = asyncio.all_tasks()
    running = asyncio.Event()

    async def slow_query() -> None:
        async with db.engine.connect() as connection:
            running.set()
            await connection.execute(text(SLOW_QUERIES[db.dialect]))

    query = asyncio.create_task(slow_query())
    await running.wait()
    await asyncio.sleep(0.05)  # the statement is under way
    query.cancel()  # the query gives up; its connection starts closing
    await asyncio.sleep(0.05)
    query.cancel()  # and is cancelled again meanwhile, as an app's shutdown may do
    with contextlib.suppress(asyncio.CancelledError):
        async with asyncio.timeout(15):
            await query
    # With aiosqlite 0.22 a connection closing under a second cancel left a task that
    # never ended, and the process with it.
    await assert_nothing_left_running(tasks_before)
    async with db.engine.connect() as connection:  # and the pool still serves
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1


async def test_a_connection_never_returned_is_still_closed_by_the_garbage_collector(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The clean-up runs outside the event loop, where nothing can be awaited: the
    # connection's thread must still be stopped there, without an error of our own.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'lost.db'}")
    threads_before = set(threading.enumerate())
    connection = await database.engine.connect()
    await connection.execute(text("SELECT 1"))
    lost_threads = set(threading.enumerate()) - threads_before
    assert lost_threads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # SQLAlchemy's own "not checked in"
        del connection
        gc.collect()
    for thread in lost_threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert not [record for record in caplog.records if record.exc_info is not None]
    await database.dispose()
