"""The Users screen at a million users on PostgreSQL: service layer against raw asyncpg.

Creates a scratch database, migrates it, seeds it (backend.services.seeding), then:

1. times the first page, a deep page (half-way through the email order) and a
   trigram search through `user_search.page_user_rows`, against the very same SQL
   sent raw through asyncpg (captured from SQLAlchemy), interleaved, and prints the
   medians and their ratio (the target: within 2x);
2. runs the console headless on that database, pages through it, searches and
   opens the detail panel, and prints the longest event-loop stall (target: 100 ms)
   and the process's peak memory (target: 200 MB).

The scratch database is dropped at the end.

    uv run python bench/bench_users_screen.py [--count 1000000] [--rounds 400]
    uv run python bench/bench_users_screen.py --database-url URL   # reuse a seeded database
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from backend.config import load_settings
from backend.database import Database
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users
from backend.services.user_search import UserQuery, UserSort, encode_cursor, page_user_rows
from console.app import BackendConsoleApp
from console.context import ConsoleContext

SERVER_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = "bench-secret-key-0123456789-0123456789-abcdef"
ACTOR = Actor.console("bench")
SEARCH_TERM = "garcia"


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def scratch_database(count: int, reuse: str | None) -> AsyncIterator[str]:
    """A migrated, seeded database: `reuse` as it is, or a new one dropped afterwards."""
    if reuse:
        yield reuse
        return
    name = f"bc_bench_users_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        await migrations.upgrade(database.engine)
        started = time.perf_counter()
        print(f"seeding {count:,} users into {name} …", flush=True)
        await seed_users(database, count, actor=Actor.cli("bench"), hasher=PasswordHasher(4))
        await database.dispose()
        raw = await asyncpg.connect(asyncpg_dsn(url))
        await raw.execute("VACUUM ANALYZE users")
        await raw.close()
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Case:
    name: str
    query: UserQuery
    after: str | None = None


@dataclass
class Timing:
    service_ms: float
    raw_ms: float

    @property
    def ratio(self) -> float:
        return self.service_ms / self.raw_ms


async def deep_cursor(raw: asyncpg.Connection, count: int) -> str:
    row = await raw.fetchrow(
        "SELECT email, id FROM users ORDER BY email OFFSET $1 LIMIT 1", count // 2
    )
    return encode_cursor(UserSort.EMAIL, row["email"], row["id"])


async def median_ms(call: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def compare(database: Database, raw: asyncpg.Connection, case: Case, rounds: int) -> Timing:
    """Median service-layer time and median raw time for the same statement, interleaved."""
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, tuple(parameters)))

    async with database.session() as session:

        async def service() -> None:
            await page_user_rows(session, ACTOR, case.query, limit=50, after=case.after)

        event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
        await service()
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
        statement, parameters = captured[-1]

        async def direct() -> None:
            await raw.fetch(statement, *parameters)

        for _ in range(30):  # warm both paths: prepared statements, caches
            await service()
            await direct()
        service_samples: list[float] = []
        raw_samples: list[float] = []
        for _ in range(rounds // 10):
            service_samples += await median_ms(service, 10)
            raw_samples += await median_ms(direct, 10)
    return Timing(statistics.median(service_samples), statistics.median(raw_samples))


class LoopWatch:
    """The longest time the event loop took to come back to a 5 ms sleeper."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late = (time.perf_counter() - started) * 1000 - 5
            self.longest_ms = max(self.longest_ms, late)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def drive_console(url: str, pages: int) -> float:
    """Page through the Users screen headless; the longest loop stall in ms."""
    settings = load_settings(database_url=url, secret_key=SECRET_KEY, data_dir="/tmp/bc-bench")
    context = ConsoleContext.from_settings(settings)
    app = BackendConsoleApp(context, server=None)
    watch = LoopWatch()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        watch.start()
        for _ in range(pages):
            await pilot.press("right_square_bracket")
            await app.workers.wait_for_complete()
        await pilot.press("slash", *SEARCH_TERM, "enter", "enter")
        await app.workers.wait_for_complete()
        for _ in range(20):
            await pilot.press("down")
        await app.workers.wait_for_complete()
        await pilot.pause()
        watch.stop()
        position = str(app.screen.query_one("#users-position").render())
        print(f"  after paging and searching the screen shows: {position}")
    return watch.longest_ms


async def main(count: int, rounds: int, pages: int, reuse: str | None) -> None:
    async with scratch_database(count, reuse) as url:
        database = Database(url)
        raw = await asyncpg.connect(asyncpg_dsn(url))
        cases = [
            Case("first page (email order)", UserQuery()),
            Case("deep page (half-way)", UserQuery(), after=await deep_cursor(raw, count)),
            Case(f"search {SEARCH_TERM!r} (trigram)", UserQuery(search=SEARCH_TERM)),
            Case("search 'ma' (email prefix)", UserQuery(search="ma")),
            Case("last login, newest first", UserQuery(sort=UserSort.LAST_LOGIN, descending=True)),
        ]
        print(f"\n{'case':34} {'service':>10} {'raw':>10} {'ratio':>7}")
        for case in cases:
            timing = await compare(database, raw, case, rounds)
            print(
                f"{case.name:34} {timing.service_ms:8.3f}ms {timing.raw_ms:8.3f}ms"
                f" {timing.ratio:6.2f}x"
            )
        await raw.close()
        await database.dispose()
        print("\nconsole, headless, on this database:")
        gc.collect()  # start the console without the seeding's and timings' garbage
        longest = await drive_console(url, pages)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  longest event-loop stall while loading: {longest:.0f} ms")
        print(f"  peak memory of this process (bench + console): {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="reuse a seeded database")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.rounds, arguments.pages, arguments.database_url))
