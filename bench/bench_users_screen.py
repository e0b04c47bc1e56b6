"""The Users screen at a million users on PostgreSQL: service layer against raw asyncpg.

Creates a scratch database, migrates it, seeds it (backend.services.seeding), then:

1. times the first page, a deep page (half-way through the email order) and a
   trigram search through `user_search.page_user_rows`, against the very same SQL
   sent raw through asyncpg (captured at the driver), interleaved, and prints the
   medians and their ratio (the target: within 2x);
2. runs the console headless on that database, pages through it, searches and
   opens the detail panel, and prints the longest event-loop stalls (target: none
   over 100 ms), the time from the key to the next page's first frame and to the
   detail panel filled, the garbage collections meanwhile, and the process's peak
   memory (target: 200 MB).

The scratch database is dropped at the end.

    uv run python bench/bench_users_screen.py [--count 1000000] [--rounds 400]
    uv run python bench/bench_users_screen.py --database-url URL   # reuse a seeded database
    uv run python bench/bench_users_screen.py --database-url URL --console-only
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
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy.engine import make_url
from textual.message import Message

from backend.config import load_settings
from backend.database import Database
from backend.services import audit_key, migrations
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users
from backend.services.user_search import UserQuery, UserSort, encode_cursor, page_user_rows
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.users import DETAIL_DEBOUNCE_SECONDS, UsersScreen

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
        # The audit chain's key: never one generated in the user's own data dir.
        audit_key.use_settings(load_settings(secret_key=SECRET_KEY))
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

    def capture(record: Any) -> None:
        captured.append((record.query, tuple(record.args)))

    async with database.session() as session:

        async def service() -> None:
            await page_user_rows(session, ACTOR, case.query, limit=50, after=case.after)

        # Caught at the driver: the service sends the page query straight through it.
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        driver.add_query_logger(capture)
        await service()
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
        driver.remove_query_logger(capture)
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


class Stall(NamedTuple):
    wall_ms: float  # how late the loop came back
    cpu_ms: float  # the loop thread's CPU time meanwhile: less when other processes ran
    phase: str


class LoopWatch:
    """How late the event loop came back to a 5 ms sleeper, every time (the stalls)."""

    def __init__(self) -> None:
        # Plain tuples of atoms, which the cyclic collector stops tracking (a NamedTuple
        # stays tracked): 200 records a second would otherwise lengthen the very
        # collection pauses this watch measures.
        self._records: list[tuple[float, float, str]] = []
        self.phase = "start-up"
        self._task: asyncio.Task[None] | None = None

    @property
    def stalls(self) -> list[Stall]:
        return [Stall._make(record) for record in self._records]

    async def _watch(self) -> None:
        while True:
            started, cpu_started = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.005)
            wall_ms = (time.perf_counter() - started) * 1000 - 5
            cpu_ms = (time.thread_time() - cpu_started) * 1000
            self._records.append((wall_ms, cpu_ms, self.phase))

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


@dataclass
class ConsoleRun:
    stalls: list[Stall]
    page_ms: list[float]  # from the key to the next page drawn
    detail_ms: list[float]  # from the key to the detail panel filled (after its debounce)
    page_cpu_ms: list[float]  # the process's CPU time for both (steadier on a busy machine)
    gc_pauses_ms: list[tuple[int, float]]

    def report(self) -> None:
        worst = sorted(self.stalls, key=lambda stall: stall.wall_ms, reverse=True)[:5]
        print(f"  longest event-loop stall: {worst[0].wall_ms:.0f} ms ({worst[0].phase})")
        listed = ", ".join(f"{stall.wall_ms:.0f} ({stall.cpu_ms:.0f})" for stall in worst)
        print(f"  worst five stalls, ms (the loop's CPU ms meanwhile): {listed}")
        by_phase = {stall.phase: 0.0 for stall in self.stalls}
        for stall in self.stalls:
            by_phase[stall.phase] = max(by_phase[stall.phase], stall.wall_ms)
        print("  longest by phase: " + ", ".join(f"{p} {ms:.0f}" for p, ms in by_phase.items()))
        busiest = max(stall.cpu_ms for stall in self.stalls)
        print(f"  longest stall in CPU time: {busiest:.0f} ms")
        print(
            f"  per page (key to page shown): median {statistics.median(self.page_ms):.0f} ms,"
            f" max {max(self.page_ms):.0f} ms over {len(self.page_ms)} pages"
        )
        print(
            f"  key to detail panel filled ({DETAIL_DEBOUNCE_SECONDS * 1000:.0f} ms debounce"
            f" included): median {statistics.median(self.detail_ms):.0f} ms,"
            f" max {max(self.detail_ms):.0f} ms"
        )
        print(
            f"  CPU per page: median {statistics.median(self.page_cpu_ms):.0f} ms,"
            f" max {max(self.page_cpu_ms):.0f} ms"
        )
        for generation in range(3):
            pauses = [ms for gen, ms in self.gc_pauses_ms if gen == generation]
            longest = max(pauses, default=0.0)
            print(f"  gc generation {generation}: {len(pauses)} runs, longest {longest:.1f} ms")


class GcWatch:
    """The duration of every collection the cyclic garbage collector runs."""

    def __init__(self) -> None:
        self.pauses_ms: list[tuple[int, float]] = []  # (generation, ms)
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            elapsed = (time.perf_counter() - self._started) * 1000
            self.pauses_ms.append((info["generation"], elapsed))


async def drive_console(url: str, pages: int) -> ConsoleRun:
    """Page through the Users screen headless, timing the loop's stalls and each page."""
    settings = load_settings(database_url=url, secret_key=SECRET_KEY, data_dir="/tmp/bc-bench")
    context = ConsoleContext.from_settings(settings)
    app = BackendConsoleApp(context, server=None, first_area="users")
    watch, collections = LoopWatch(), GcWatch()
    page_ms: list[float] = []
    detail_ms: list[float] = []
    page_cpu_ms: list[float] = []
    page_arrived = asyncio.Event()

    def on_message(message: Message) -> None:
        if isinstance(message, UsersScreen.PageLoaded):
            page_arrived.set()

    async with app.run_test(size=(120, 40), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        watch.start()
        gc.callbacks.append(collections)
        await pilot.pause()
        watch.phase = "paging"
        for _ in range(pages):
            started, cpu_started = time.perf_counter(), time.process_time()
            page_arrived.clear()
            # Pilot's press returns only once the app is idle, which the detail panel's
            # debounce delays: the page is timed from the key to its first frame.
            press = asyncio.create_task(pilot.press("right_square_bracket"))
            await page_arrived.wait()
            drawn = asyncio.Event()
            app.screen.call_after_refresh(drawn.set)
            await drawn.wait()
            page_ms.append((time.perf_counter() - started) * 1000)
            await press
            await app.workers.wait_for_complete()  # the detail panel, after its debounce
            await pilot.pause()
            detail_ms.append((time.perf_counter() - started) * 1000)
            page_cpu_ms.append((time.process_time() - cpu_started) * 1000)
        watch.phase = "search"
        await pilot.press("slash", *SEARCH_TERM, "enter", "enter")
        await app.workers.wait_for_complete()
        watch.phase = "cursor"
        for _ in range(20):
            await pilot.press("down")
        await app.workers.wait_for_complete()
        await pilot.pause()
        gc.callbacks.remove(collections)
        watch.stop()
        position = str(app.screen.query_one("#users-position").render())
        print(f"  after paging and searching the screen shows: {position}")
    return ConsoleRun(watch.stalls, page_ms, detail_ms, page_cpu_ms, collections.pauses_ms)


async def compare_queries(url: str, count: int, rounds: int) -> None:
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
            f"{case.name:34} {timing.service_ms:8.3f}ms {timing.raw_ms:8.3f}ms {timing.ratio:6.2f}x"
        )
    await raw.close()
    await database.dispose()


async def main(arguments: argparse.Namespace) -> None:
    async with scratch_database(arguments.count, arguments.database_url) as url:
        if not arguments.console_only:
            await compare_queries(url, arguments.count, arguments.rounds)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\nconsole, headless, on this database (load average {load}):")
        gc.collect()  # start the console without the seeding's and timings' garbage
        run = await drive_console(url, arguments.pages)
        run.report()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory of this process (bench + console): {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="reuse a seeded database")
    parser.add_argument(
        "--console-only", action="store_true", help="skip the service-vs-raw query timings"
    )
    asyncio.run(main(parser.parse_args()))
