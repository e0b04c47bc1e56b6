"""The audit log and the Dashboard at a million rows on PostgreSQL.

Creates a scratch database, migrates it, writes 1,000,000 audit events (COPY, each a
valid link of the hash chain) and seeds 1,000,000 users (backend.services.seeding), then:

1. times the Audit screen's queries through `audit.list_events` (first page, a deep
   page, filtered by action, by actor, by time, and free text) against the same SQL
   sent raw through asyncpg (captured at the driver), interleaved, and prints the
   medians and their ratio (the target: within 2x);
2. times `audit verify` over the whole chain;
3. runs the console headless on that database: the Dashboard's event-loop CPU per
   second in steady state against the same console showing the Migrations screen (no timers)
   (the target: under 5 ms per second), and the longest event-loop stall;
4. points wrk at the embedded server's /health while the console shows the Migrations screen
   (not watching) and the Dashboard (watching), rounds interleaved: requests per
   second of each, the drop (target: under 10%), the longest stall meanwhile (target:
   50 ms) and the ring's length (never above its 10,000).

    uv run python bench/bench_audit.py [--events 1000000] [--users 1000000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from bench_users_screen import SECRET_KEY, LoopWatch, asyncpg_dsn, median_ms
from bench_users_screen import scratch_database as users_database

from backend.config import load_settings
from backend.database import Database
from backend.middleware.request_log import DEFAULT_CAPACITY
from backend.services.audit import AuditFilter, AuditRecord, list_events
from backend.services.audit_chain import link_hash, verify_chain
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.startup import ServerAddress

ACTIONS = ("user.update", "auth.login", "auth.login", "auth.login_failed", "token.issue")
ACTORS = ("console:alice", "cli:bob", "api:user:17", "api:user:4242", "auth")
COLUMNS = ("at", "actor", "action", "target", "changes", "chain_seq", "chain_hash")
BATCH = 100_000


def event_rows(
    start: int, count: int, first_at: dt.datetime, previous: str
) -> tuple[list[Any], str]:
    """`count` events from link `start` on, a second apart, each hashed onto the last."""
    rows = []
    for seq in range(start, start + count):
        at = first_at + dt.timedelta(seconds=seq)
        actor, action = ACTORS[seq % len(ACTORS)], ACTIONS[seq % 7 % len(ACTIONS)]
        target = f"user:{seq % 100_000}"
        changes = {"full_name": [f"name {seq}", f"name {seq + 1}"]}
        previous = link_hash(previous, seq, at, actor, action, target, changes)
        rows.append((at, actor, action, target, json.dumps(changes), seq, previous))
    return rows, previous


async def write_events(url: str, count: int) -> None:
    raw = await asyncpg.connect(asyncpg_dsn(url))
    try:
        first_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=count + 3600)
        head = await raw.fetchrow("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1")
        last, previous = head["head_seq"] + count, head["head_hash"]  # after the seeding's event
        for start in range(head["head_seq"] + 1, last + 1, BATCH):
            rows, previous = await asyncio.to_thread(
                event_rows, start, min(BATCH, last - start + 1), first_at, previous
            )
            await raw.copy_records_to_table("audit_events", records=rows, columns=COLUMNS)
        await raw.execute(
            "UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1", last, previous
        )
        await raw.execute("VACUUM ANALYZE audit_events")
    finally:
        await raw.close()


@asynccontextmanager
async def scratch_database(events: int, users: int) -> AsyncIterator[str]:
    """The Users bench's scratch database (migrated, seeded), with the events added."""
    async with users_database(users, None) as url:
        started = time.perf_counter()
        await write_events(url, events)
        print(f"{events:,} chained events written in {time.perf_counter() - started:.0f} s")
        yield url


async def compare(
    database: Database,
    raw: asyncpg.Connection,
    filters: AuditFilter,
    before: int | None,
    rounds: int,
) -> tuple[float, float]:
    """Median ms of list_events and of the same statement sent raw, interleaved."""
    captured: list[tuple[str, tuple[Any, ...]]] = []
    async with database.session() as session:

        async def service() -> list[AuditRecord]:
            return await list_events(session, filters, limit=50, before_id=before)

        # Caught at the driver: the listing sends its statement straight through it.
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        driver.add_query_logger(lambda record: captured.append((record.query, record.args)))
        await service()
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
        statement, parameters = next(entry for entry in reversed(captured) if "SELECT" in entry[0])

        async def direct() -> None:
            await raw.fetch(statement, *parameters)

        group = min(10, rounds)
        for _ in range(group):  # warm both paths: prepared statements, caches
            await service()
            await direct()
        service_ms: list[float] = []
        raw_ms: list[float] = []
        for _ in range(max(rounds // group, 1)):
            service_ms += await median_ms(service, group)
            raw_ms += await median_ms(direct, group)
    return statistics.median(service_ms), statistics.median(raw_ms)


async def queries(url: str, events: int, rounds: int) -> None:
    database = Database(url)
    raw = await asyncpg.connect(asyncpg_dsn(url))
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cases = {
        "first page": (AuditFilter(), None),
        "deep page (90% down)": (AuditFilter(), events // 10),
        "by action (token.issue)": (AuditFilter(action="token.issue"), None),
        "by actor, deep": (AuditFilter(actor="console:alice"), events // 2),
        "by user": (AuditFilter(target="user:4242"), None),
        "since a day ago, by action": (AuditFilter(action="auth.login", since=day_ago), None),
    }
    # A scan of the whole table (no index serves it): a few rounds are enough.
    slow_cases = {"free text (no index)": (AuditFilter(text="name 4242"), None)}
    print("\nAudit listing, 50 per page: service / raw asyncpg (median ms, ratio; target 2x)")
    try:
        for name, (filters, before), case_rounds in [
            *((name, case, rounds) for name, case in cases.items()),
            *((name, case, 3) for name, case in slow_cases.items()),
        ]:
            service, direct = await compare(database, raw, filters, before, case_rounds)
            print(f"  {name:<28} {service:7.2f} / {direct:7.2f}   {service / direct:4.2f}x")
        async with database.session() as session:
            started = time.perf_counter()
            report = await verify_chain(session)
            elapsed = time.perf_counter() - started
        print(f"  verify, whole chain: {report.checked:,} links in {elapsed:.1f} s, ok={report.ok}")
    finally:
        await raw.close()
        await database.dispose()


def console(url: str, server: ServerAddress | None) -> tuple[BackendConsoleApp, ConsoleContext]:
    settings = load_settings(database_url=url, secret_key=SECRET_KEY, data_dir="/tmp/bc-bench")
    context = ConsoleContext.from_settings(settings)
    return BackendConsoleApp(context, server=server, first_area="dashboard"), context


async def loop_cpu_per_second(pilot: Any, seconds: float) -> float:
    started, cpu = time.perf_counter(), time.thread_time()
    await pilot.pause(seconds)
    return (time.thread_time() - cpu) / (time.perf_counter() - started) * 1000


async def dashboard_cost(url: str, seconds: float) -> None:
    app, _context = console(url, None)
    watch = LoopWatch()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()  # the first refresh verifies the whole chain
        watch.start()
        screen = app.screen
        await pilot.press("m")  # the Migrations screen runs no timers: the console's idle cost
        idle = await loop_cpu_per_second(pilot, seconds)
        await pilot.press("d")
        screen.refresh_accounts()  # type: ignore[attr-defined]  # its 30 s timer, once
        watching = await loop_cpu_per_second(pilot, seconds)
        watch.stop()
    worst = max((stall.wall_ms for stall in watch.stalls), default=0.0)
    print(
        f"\nDashboard at 1M users, 1M events: event-loop CPU {watching:.1f} ms/s watching, "
        f"{idle:.1f} ms/s on the Migrations screen: {watching - idle:.1f} ms/s for the Dashboard "
        f"(target 5); longest stall {worst:.0f} ms"
    )


def run_wrk(url: str, seconds: int) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", f"{url}/health"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("Requests/sec"))
    return float(line.split()[1])


async def live_log_under_load(url: str, seconds: int, rounds: int) -> None:
    if shutil.which("wrk") is None:
        print("\nwrk is not installed (apt-get install wrk): live log under load skipped")
        return
    app, context = console(url, ServerAddress("127.0.0.1", 0))
    watch = LoopWatch()
    figures: dict[str, list[float]] = {"not watching": [], "watching": []}
    longest_ring = 0
    async with app.run_test(size=(120, 40)) as pilot:
        while context.api_url is None:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        watch.start()
        for _ in range(rounds):
            for case, key in (("not watching", "m"), ("watching", "d")):
                await pilot.press(key)
                watch.phase = case
                rps = await asyncio.to_thread(run_wrk, context.api_url, seconds)
                figures[case].append(rps)
                assert context.request_log is not None
                longest_ring = max(longest_ring, len(context.request_log))
        watch.stop()
    alone, watched = (statistics.median(figures[case]) for case in ("not watching", "watching"))
    stalls = [stall.wall_ms for stall in watch.stalls if stall.phase == "watching"]
    print(
        f"\nLive log under wrk (/health, 16 connections, {seconds} s x {rounds} rounds each):\n"
        f"  {alone:,.0f} req/s on the Migrations screen, {watched:,.0f} req/s on the Dashboard: "
        f"{(1 - watched / alone) * 100:+.1f}% drop (target under 10%)\n"
        f"  longest stall while watching {max(stalls, default=0):.0f} ms (target 50); "
        f"ring at most {longest_ring:,} of {DEFAULT_CAPACITY:,}"
    )


async def main(events: int, users: int, rounds: int, seconds: float, wrk_seconds: int) -> None:
    async with scratch_database(events, users) as url:
        await queries(url, events, rounds)
        await dashboard_cost(url, seconds)
        await live_log_under_load(url, wrk_seconds, rounds=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0, help="each Dashboard window")
    parser.add_argument("--wrk-seconds", type=int, default=8)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.events,
            arguments.users,
            arguments.rounds,
            arguments.seconds,
            arguments.wrk_seconds,
        )
    )
