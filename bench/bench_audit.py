"""The audit log and the Dashboard at a million rows on PostgreSQL.

Creates a scratch database, migrates it, writes 1,000,000 audit events (COPY, each a
valid link of the keyed hash chain) and seeds 1,000,000 users (backend.services.seeding),
then:

1. times the Audit screen's queries through `audit.list_events` (first page, a deep
   page, filtered by action, by actor, by time, and free text, which PostgreSQL's
   trigram index serves: its plan is printed) against the same SQL sent raw through
   asyncpg (captured at the driver), interleaved, and prints the medians and their
   ratio (the target: within 2x);
2. times `audit verify` over the whole chain;
3. runs the console headless on that database: the Dashboard's event-loop CPU per
   second in steady state, its 30 s accounts refresh included, against the same console
   settled on the Migrations screen (no timers) (the target: under 5 ms per second);
   the longest event-loop stall while the Dashboard shows (target: 50 ms), during its
   first refresh (the whole chain verified) and, apart, when a screen is switched to;
4. points wrk at the embedded server's /health while the console shows the Migrations screen
   (not watching) and the Dashboard (watching), rounds interleaved: requests per
   second of each, the drop (target: under 10%), the longest stall meanwhile (target:
   50 ms; the switch between the screens apart) and the ring's length (never above
   its 10,000).

    uv run python bench/bench_audit.py [--events 1000000] [--users 1000000] [--rounds 200]
    uv run python bench/bench_audit.py --database-url URL   # reuse a database seeded before
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from bench_users_screen import SECRET_KEY, LoopWatch, asyncpg_dsn, median_ms
from bench_users_screen import scratch_database as users_database

from backend.config import load_settings
from backend.database import Database
from backend.middleware.request_log import DEFAULT_CAPACITY
from backend.services import audit_key
from backend.services.audit import AuditFilter, AuditRecord, list_events
from backend.services.audit_chain import link_hash, verify_chain
from backend.services.audit_key import ChainKey, active_key
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.dashboard import ACCOUNTS_SECONDS, AUDIT_SECONDS, BACKEND_SECONDS
from console.startup import ServerAddress, collector_paused

ACTIONS = ("user.update", "auth.login", "auth.login", "auth.login_failed", "token.issue")
ACTORS = ("console:alice", "cli:bob", "api:user:17", "api:user:4242", "api:anonymous")
COLUMNS = ("at", "actor", "action", "target", "changes", "chain_seq", "chain_hash", "chain_key_id")
BATCH = 100_000
SETTLE_SECONDS = 2.0


def jti_of(seq: int) -> str:
    """The token id a bench event of link `seq` names (as token.issue events do)."""
    return hashlib.sha256(str(seq).encode()).hexdigest()[:32]


def token_issue_link(near: int) -> int:
    """The first link from `near` on whose event is a token.issue (see event_rows)."""
    return next(
        seq for seq in range(near, near + 7) if ACTIONS[seq % 7 % len(ACTIONS)] == "token.issue"
    )


def event_rows(
    start: int, count: int, first_at: dt.datetime, previous: str, key: ChainKey
) -> tuple[list[Any], str]:
    """`count` events from link `start` on, a second apart, each signed onto the last."""
    rows = []
    for seq in range(start, start + count):
        at = first_at + dt.timedelta(seconds=seq)
        actor, action = ACTORS[seq % len(ACTORS)], ACTIONS[seq % 7 % len(ACTIONS)]
        target = f"user:{seq % 100_000}"
        changes: dict[str, Any] = {"full_name": [f"name {seq}", f"name {seq + 1}"]}
        if action == "token.issue":
            changes = {"jti": jti_of(seq)}
        previous = link_hash(previous, seq, at, actor, action, target, changes, key=key)
        rows.append((at, actor, action, target, json.dumps(changes), seq, previous, key.key_id))
    return rows, previous


async def write_events(url: str, count: int) -> None:
    raw = await asyncpg.connect(asyncpg_dsn(url))
    try:
        first_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=count + 3600)
        head = await raw.fetchrow("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1")
        last, previous = head["head_seq"] + count, head["head_hash"]  # after the seeding's event
        for start in range(head["head_seq"] + 1, last + 1, BATCH):
            rows, previous = await asyncio.to_thread(
                event_rows, start, min(BATCH, last - start + 1), first_at, previous, active_key()
            )
            await raw.copy_records_to_table("audit_events", records=rows, columns=COLUMNS)
        await raw.execute(
            "UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1", last, previous
        )
        await raw.execute("VACUUM ANALYZE audit_events")
    finally:
        await raw.close()


@asynccontextmanager
async def scratch_database(events: int, users: int, reuse: str | None) -> AsyncIterator[str]:
    """The Users bench's scratch database (migrated, seeded), with the events added; or
    `reuse` as it is (signed with this bench's SECRET_KEY)."""
    if reuse:
        yield reuse
        return
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
    *,
    explain: bool = False,
) -> tuple[float, float]:
    """Median ms of list_events and of the same statement sent raw, interleaved (and,
    with `explain`, the statement's plan printed)."""
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
        if explain:
            plan = [row[0] for row in await raw.fetch(f"EXPLAIN {statement}", *parameters)]
            nodes = [plan[0], *(line for line in plan if "->" in line)]
            shown = (re.sub(r"^\s*->\s*|\s+\(cost=.*$", "", node) for node in nodes)
            print("    plan: " + " > ".join(shown))

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
    # Free text through the trigram index: a token id is found among few candidates;
    # "name 4242" shares its trigrams with ~200,000 events (every event here is named
    # "name <number>"), each read again to check: a few rounds are enough for it.
    jti = jti_of(token_issue_link(events // 2))
    text_cases = {
        "free text, a token id": (AuditFilter(text=jti), None, rounds),
        "free text, common trigrams": (AuditFilter(text="name 4242"), None, 5),
    }
    print("\nAudit listing, 50 per page: service / raw asyncpg (median ms, ratio; target 2x)")
    try:
        for name, (filters, before), case_rounds in [
            *((name, case, rounds) for name, case in cases.items()),
            *((name, (filters, before), n) for name, (filters, before, n) in text_cases.items()),
        ]:
            explain = name in text_cases
            service, direct = await compare(
                database, raw, filters, before, case_rounds, explain=explain
            )
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


@asynccontextmanager
async def running(app: BackendConsoleApp) -> AsyncIterator[Any]:
    """The console headless as run_console runs it: no collection during its start-up
    (it freezes what start-up built, then collects again)."""
    with collector_paused():
        async with app.run_test(size=(120, 40)) as pilot:
            yield pilot


async def loop_cpu_per_second(pilot: Any, seconds: float) -> float:
    started, cpu = time.perf_counter(), time.thread_time()
    await pilot.pause(seconds)
    return (time.thread_time() - cpu) / (time.perf_counter() - started) * 1000


async def switch_to(pilot: Any, watch: LoopWatch, key: str, phase: str) -> None:
    """Show another screen and let it settle: a screen's first mount is not its steady cost."""
    watch.phase = "screen switch"
    await pilot.press(key)
    await pilot.pause(SETTLE_SECONDS)
    watch.phase = phase


def longest_stall(watch: LoopWatch, phase: str) -> float:
    return max((stall.wall_ms for stall in watch.stalls if stall.phase == phase), default=0.0)


async def workers_done(app: BackendConsoleApp) -> None:
    """Every worker finished (one its timer started again meanwhile is cancelled: fine)."""
    await asyncio.gather(*(worker.wait() for worker in app.workers), return_exceptions=True)


async def refresh_cpu_ms(app: BackendConsoleApp, start: Callable[[], object]) -> float:
    """The event loop's CPU for one refresh started alone: its worker, its message, the
    redraw (and the idle loop for the tenth of a second left for them)."""
    await workers_done(app)
    cpu = time.thread_time()
    start()
    await workers_done(app)
    await asyncio.sleep(0.1)
    return (time.thread_time() - cpu) * 1000


async def dashboard_cost(url: str, seconds: float, rounds: int) -> None:
    app, _context = console(url, None)
    watch = LoopWatch()
    async with running(app) as pilot:
        watch.phase = "first refresh"
        watch.start()
        started = time.perf_counter()
        await app.workers.wait_for_complete()  # the first refresh verifies the whole chain
        first_refresh = time.perf_counter() - started
        screen: Any = app.screen
        watch.phase = "watching"
        refreshes = {
            "accounts": screen.refresh_accounts,
            "backend": screen.refresh_backend,
            "audit": screen.refresh_audit,
        }
        for start in refreshes.values():
            start()
        await pilot.pause(seconds / 2)
        watch.stop()  # it wakes the loop 200 times a second: more CPU than what is measured
        cpu = {name: statistics.median([await refresh_cpu_ms(app, start) for _ in range(5)])
               for name, start in refreshes.items()}  # fmt: skip
        # Whole windows of the accounts' period, in turns with the help screen over the
        # Dashboard (its refreshes wait while it is hidden): each Dashboard window holds
        # one refresh of each kind, on its timers.
        windows: dict[str, list[float]] = {"idle": [], "watching": []}
        for _ in range(rounds):
            for phase, key in (("idle", "question_mark"), ("watching", "escape")):
                await switch_to(pilot, watch, key, phase)
                windows[phase].append(await loop_cpu_per_second(pilot, seconds))
    idle, watching = (statistics.median(windows[phase]) for phase in ("idle", "watching"))
    periods = {"accounts": ACCOUNTS_SECONDS, "backend": BACKEND_SECONDS, "audit": AUDIT_SECONDS}
    from_refreshes = sum(cpu[name] / period for name, period in periods.items())
    print(
        f"\nDashboard at 1M users, 1M events (target: under 5 ms of event-loop CPU a second)\n"
        f"  one refresh's CPU: {', '.join(f'{n} {ms:.1f} ms' for n, ms in cpu.items())}; "
        f"every {ACCOUNTS_SECONDS:.0f}/{BACKEND_SECONDS:.0f}/{AUDIT_SECONDS:.0f} s: "
        f"{from_refreshes:.2f} ms/s\n"
        f"  {seconds:.0f} s windows x {rounds}, in turns: {watching:.1f} ms/s watching, "
        f"{idle:.1f} ms/s with the help screen over it (medians): {watching - idle:.1f} ms/s "
        f"for the Dashboard; each window: {_listed(windows['watching'])} and "
        f"{_listed(windows['idle'])}\n"
        f"  longest stall while watching {longest_stall(watch, 'watching'):.0f} ms (target 50; "
        f"every refresh at once); during the first refresh ({first_refresh:.1f} s, the whole "
        f"chain verified) {longest_stall(watch, 'first refresh'):.0f} ms"
    )


def _listed(figures: list[float]) -> str:
    return "/".join(f"{figure:.1f}" for figure in figures)


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
    async with running(app) as pilot:
        while context.api_url is None:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        watch.start()
        for _ in range(rounds):
            for case, key in (("not watching", "m"), ("watching", "d")):
                await switch_to(pilot, watch, key, case)
                rps = await asyncio.to_thread(run_wrk, context.api_url, seconds)
                figures[case].append(rps)
                assert context.request_log is not None
                longest_ring = max(longest_ring, len(context.request_log))
        watch.stop()
    alone, watched = (statistics.median(figures[case]) for case in ("not watching", "watching"))
    print(
        f"\nLive log under wrk (/health, 16 connections, {seconds} s x {rounds} rounds each):\n"
        f"  {alone:,.0f} req/s on the Migrations screen, {watched:,.0f} req/s on the Dashboard: "
        f"{(1 - watched / alone) * 100:+.1f}% drop (target under 10%)\n"
        f"  longest stall while watching {longest_stall(watch, 'watching'):.0f} ms (target 50; "
        f"{longest_stall(watch, 'screen switch'):.0f} ms on a screen switch); "
        f"ring at most {longest_ring:,} of {DEFAULT_CAPACITY:,}"
    )


async def main(
    events: int, users: int, rounds: int, seconds: float, wrk_seconds: int, reuse: str | None
) -> None:
    audit_key.use_settings(load_settings(secret_key=SECRET_KEY))  # the events' key
    async with scratch_database(events, users, reuse) as url:
        await queries(url, events, rounds)
        await dashboard_cost(url, seconds, rounds=2)
        await live_log_under_load(url, wrk_seconds, rounds=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--seconds", type=float, default=ACCOUNTS_SECONDS, help="each Dashboard window"
    )
    parser.add_argument("--wrk-seconds", type=int, default=8)
    parser.add_argument("--database-url", help="reuse a database seeded by this bench before")
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.events,
            arguments.users,
            arguments.rounds,
            arguments.seconds,
            arguments.wrk_seconds,
            arguments.database_url,
        )
    )
