"""How long `backend-console` takes to show its first screen with the embedded API answering.

Launches the console on a pseudo-terminal (80x24), watches its output for the
Dashboard's first figures (the accounts panel's logins) and polls GET /health until
the embedded server answers, then
presses q and times the exit. The embedded SQLite default lives in a scratch data dir
(its first start also migrates it). The CPU time the console's processes used by then
is printed too: on a busy machine it moves less than the wall-clock figures.

The floor is bench/skeleton_console.py, a bare Textual app serving FastAPI on uvicorn
and nothing else, launched the same way: every case prints its ratio to it, which
carries over between machines better than seconds do. The cases take turns, one
launch each per round, so a machine that slows down for a while slows them all alike.

Python's bytecode matters as much as the code. With PYTHONDONTWRITEBYTECODE=1 (as on
this machine) Python never caches bytecode, so every launch would compile what it
imports (2.4 s instead of 1.0 s); the `backend-console` executable therefore keeps its
bytecode in the environment's own cache folder (console/launcher.py). Each case says
which bytecode it has:

- cached: a scratch PYTHONPYCACHEPREFIX, filled by one warm-up launch, as a machine
  that may write bytecode has it from the second launch on;
- as installed here: PYTHONDONTWRITEBYTECODE=1, as on this machine: the executable's
  own cache, filled by the warm-up launch.

    uv run python bench/bench_startup.py [--runs 5] [--users 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.config import load_settings
from backend.database import Database
from backend.services import audit_key, migrations
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users

SECRET_KEY = "bench-secret-key-0123456789-0123456789-abcdef"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "backend-console"
RUN_CONSOLE_ALONE = [
    sys.executable,
    "-c",
    "from backend.config import get_settings; from console.app import run_console; "
    "run_console(get_settings(), host=None, port=None, no_server=False, read_only=False)",
]
SKELETON = [sys.executable, str(PROJECT_ROOT / "bench" / "skeleton_console.py")]
# The libraries the console needs before it is up that the skeleton does without: the
# ORM on asyncio with the SQLite driver, settings and email validation (the API's
# EmailStr). bcrypt hashing and the CLI (Typer) load later, so they are not part of it.
# The skeleton with these imported first is the floor for this stack; what the console
# takes beyond it is the project's own.
STACK_IMPORTS = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "pydantic_settings",
    "email_validator",
)
SKELETON_WITH_STACK = [
    sys.executable,
    "-c",
    f"import runpy, {', '.join(STACK_IMPORTS)}; "
    f"runpy.run_path({str(SKELETON[1])!r}, run_name='__main__')",
]
FIRST_PAGE_MARKERS = (b"logins,",)  # the Dashboard's accounts panel has its figures
TIMEOUT_SECONDS = 30
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Launch:
    painted: float  # the status bar is on screen
    first_page: float  # the Dashboard shows its first figures
    api: float  # GET /health answers 200
    cpu: float  # CPU time the process (and its children) had used when both were up
    quit: float  # from q to the process's exit
    exit_code: int

    @property
    def ready(self) -> float:
        return max(self.first_page, self.api)


@dataclass(frozen=True)
class Case:
    label: str
    command: list[str]
    environment: Callable[[Path], dict[str, str]]  # the data dir -> the environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=0.2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of `root_pid` and every live process below it (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == root_pid:
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(spent for pid, spent in times.items() if descends(pid))


def launch(command: list[str], env: dict[str, str], port: int) -> Launch:
    controller, terminal = pty.openpty()
    os.set_blocking(controller, False)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=PROJECT_ROOT, env=env
    )
    os.close(terminal)
    output = b""
    painted = first_page = api = None
    while time.perf_counter() - started < TIMEOUT_SECONDS:
        ready, _, _ = select.select([controller], [], [], 0.005)
        if ready:
            try:
                output += os.read(controller, 1 << 16)
            except OSError:
                break
        now = time.perf_counter() - started
        if painted is None and b"backend-console" in output:
            painted = now
        if first_page is None and any(marker in output for marker in FIRST_PAGE_MARKERS):
            first_page = now
        if api is None and painted is not None and health_answers(port):
            api = time.perf_counter() - started
        if painted is not None and first_page is not None and api is not None:
            break
    if painted is None or first_page is None or api is None:
        process.kill()
        raise SystemExit(f"the console did not come up: {output[-400:]!r}")
    cpu = cpu_seconds(process.pid)
    pressed = time.perf_counter()
    os.write(controller, b"q")
    while process.poll() is None and time.perf_counter() - pressed < TIMEOUT_SECONDS:
        ready, _, _ = select.select([controller], [], [], 0.01)
        if ready:
            try:
                os.read(controller, 1 << 16)
            except OSError:
                break
    exit_code = process.wait(timeout=TIMEOUT_SECONDS)
    quit_time = time.perf_counter() - pressed
    os.close(controller)
    return Launch(painted, first_page, api, cpu, quit_time, exit_code)


def environment(data_dir: Path, cache_dir: Path | None) -> dict[str, str]:
    """The console's environment; bytecode cached in `cache_dir`, or never when None."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "DATABASE_URL"}
    }
    env.update(
        SECRET_KEY=SECRET_KEY,
        DATA_DIR=str(data_dir),
        TERM="xterm-256color",
        COLUMNS="80",
        LINES="24",
    )
    if cache_dir is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    return env


async def seed(data_dir: Path, users: int) -> None:
    settings = load_settings(secret_key=SECRET_KEY, data_dir=data_dir)
    # The audit chain's key: never one generated in the user's own data dir.
    audit_key.use_settings(settings)
    database = Database(settings.resolved_database_url)
    await migrations.upgrade(database.engine)
    await seed_users(database, users, actor=Actor.cli("bench"), hasher=PasswordHasher(4))
    await database.dispose()


def report(label: str, launches: list[Launch], floor: float | None = None) -> float:
    """Print the medians; return the median time to both (first page and API)."""

    def median(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.0f} ms"

    ready = statistics.median([run.ready for run in launches])

    print(f"\n{label} (median of {len(launches)}):")
    print(f"  status bar painted        {median([run.painted for run in launches])}")
    print(f"  first figures shown       {median([run.first_page for run in launches])}")
    print(f"  embedded API answering    {median([run.api for run in launches])}")
    print(f"  both (the target: 1 s)    {median([run.ready for run in launches])}")
    if floor is not None:
        print(f"  ... against the skeleton  {ready / floor:6.2f}x")
    print(f"  CPU used by then          {median([run.cpu for run in launches])}")
    print(f"  q to exit                 {median([run.quit for run in launches])}")
    print(f"  exit codes                {sorted({run.exit_code for run in launches})}")
    return ready


def launch_case(case: Case, data_dir: Path) -> Launch:
    port = free_port()
    env = {**case.environment(data_dir), "API_PORT": str(port)}
    return launch(case.command, env, port)


def launch_in_turns(chosen: list[Case], data_dir: Path, runs: int) -> list[list[Launch]]:
    """Each case launched `runs` times, one launch of every case per round."""
    for case in chosen:
        launch_case(case, data_dir)  # compiles (or checks) its bytecode
    rounds = [[launch_case(case, data_dir) for case in chosen] for _ in range(runs)]
    return [list(launches) for launches in zip(*rounds, strict=True)]


def cases(cache_dir: Path) -> list[Case]:
    uv = shutil.which("uv")
    chosen = [
        Case(
            "backend-console (the entry point), bytecode cached",
            [str(ENTRY_POINT)],
            lambda data: environment(data, cache_dir),
        ),
        Case(
            "run_console() alone (no CLI), bytecode cached",
            RUN_CONSOLE_ALONE,
            lambda data: environment(data, cache_dir),
        ),
        Case(
            "backend-console as installed here (PYTHONDONTWRITEBYTECODE=1, its own cache)",
            [str(ENTRY_POINT)],
            lambda data: environment(data, None),
        ),
    ]
    if uv is not None:
        uv_run = Case(
            "uv run backend-console, bytecode cached",
            [uv, "run", "backend-console"],
            lambda data: environment(data, cache_dir),
        )
        chosen.insert(1, uv_run)
    else:
        print("uv is not on PATH: the `uv run backend-console` case is left out")
    return chosen


def main(runs: int, users: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bc-bench-startup-"))
    cache_dir = scratch / "pycache"
    try:
        data_dir = scratch / "data"
        asyncio.run(seed(data_dir, users))
        port = free_port()
        launch(
            [str(ENTRY_POINT), "--port", str(port)],
            environment(scratch / "warm-up", cache_dir),
            port,
        )
        print(f"warm-up launch done (bytecode cached in {cache_dir}); {users:,} users seeded")
        port = free_port()
        first_env = environment(scratch / "fresh", cache_dir)
        first = launch([str(ENTRY_POINT), "--port", str(port)], first_env, port)
        skeleton = Case(
            "the floor: bare Textual app + FastAPI on uvicorn (bench/skeleton_console.py)",
            SKELETON,
            lambda data: environment(data, cache_dir),
        )
        stack = Case(
            "the skeleton with the stack's libraries imported first (STACK_IMPORTS)",
            SKELETON_WITH_STACK,
            lambda data: environment(data, cache_dir),
        )
        chosen = [skeleton, stack, *cases(cache_dir)]
        results = launch_in_turns(chosen, data_dir, runs)
        floor = report(skeleton.label, results[0])
        report(stack.label, results[1], floor)
        report("first start: creates and migrates the embedded SQLite database", [first], floor)
        for case, launches in zip(chosen[2:], results[2:], strict=True):
            report(case.label, launches, floor)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=1000)
    arguments = parser.parse_args()
    main(arguments.runs, arguments.users)
