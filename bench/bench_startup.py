"""How long `backend-console` takes to show its first screen with the embedded API answering.

Launches the console on a pseudo-terminal (80x24), watches its output for the Users
screen's first page and polls GET /health until the embedded server answers, then
presses q and times the exit. The embedded SQLite default lives in a scratch data dir
(its first start also migrates it). Python's bytecode cache goes to a scratch folder
(PYTHONPYCACHEPREFIX) and one warm-up launch fills it, as an installed tool has it.

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
from dataclasses import dataclass
from pathlib import Path

from backend.config import load_settings
from backend.database import Database
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.passwords import PasswordHasher
from backend.services.seeding import seed_users

SECRET_KEY = "bench-secret-key-0123456789-0123456789-abcdef"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "backend-console"
FIRST_PAGE_MARKERS = (b"rows 1-", b"no rows")
TIMEOUT_SECONDS = 30


@dataclass
class Launch:
    painted: float  # the status bar is on screen
    first_page: float  # the Users screen shows its first page
    api: float  # GET /health answers 200
    quit: float  # from q to the process's exit
    exit_code: int

    @property
    def ready(self) -> float:
        return max(self.first_page, self.api)


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
    return Launch(painted, first_page, api, quit_time, exit_code)


def environment(data_dir: Path, cache_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "DATABASE_URL"}
    }
    env.update(
        SECRET_KEY=SECRET_KEY,
        DATA_DIR=str(data_dir),
        PYTHONPYCACHEPREFIX=str(cache_dir),
        TERM="xterm-256color",
        COLUMNS="80",
        LINES="24",
    )
    return env


async def seed(data_dir: Path, users: int) -> None:
    settings = load_settings(secret_key=SECRET_KEY, data_dir=data_dir)
    database = Database(settings.resolved_database_url)
    await migrations.upgrade(database.engine)
    await seed_users(database, users, actor=Actor.cli("bench"), hasher=PasswordHasher(4))
    await database.dispose()


def report(label: str, launches: list[Launch]) -> None:
    def median(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.0f} ms"

    print(f"\n{label} (median of {len(launches)}):")
    print(f"  status bar painted        {median([run.painted for run in launches])}")
    print(f"  first page of users shown {median([run.first_page for run in launches])}")
    print(f"  embedded API answering    {median([run.api for run in launches])}")
    print(f"  both (the target: 1 s)    {median([run.ready for run in launches])}")
    print(f"  q to exit                 {median([run.quit for run in launches])}")
    print(f"  exit codes                {sorted({run.exit_code for run in launches})}")


def main(runs: int, users: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bc-bench-startup-"))
    cache_dir = scratch / "pycache"
    try:
        first_start_dir = scratch / "first-start"
        data_dir = scratch / "data"
        asyncio.run(seed(data_dir, users))
        commands = {
            "backend-console (the CLI entry point)": [str(ENTRY_POINT)],
            "run_console() alone (no CLI)": [
                sys.executable,
                "-c",
                "from backend.config import get_settings; from console.app import run_console; "
                "run_console(get_settings(), host=None, port=None, no_server=False, "
                "read_only=False)",
            ],
        }
        warm_up = [*commands["backend-console (the CLI entry point)"], "--port", str(free_port())]
        port = int(warm_up[-1])
        launch(warm_up, environment(first_start_dir, cache_dir), port)
        print(f"warm-up launch done (bytecode cached in {cache_dir}); {users:,} users seeded")
        fresh = scratch / "fresh"
        port = free_port()
        first = launch([str(ENTRY_POINT), "--port", str(port)], environment(fresh, cache_dir), port)
        report("first start: creates and migrates the embedded SQLite database", [first])
        for label, command in commands.items():
            launches = []
            for _ in range(runs):
                port = free_port()
                env = {**environment(data_dir, cache_dir), "API_PORT": str(port)}
                launches.append(launch(command, env, port))
            report(label, launches)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=1000)
    arguments = parser.parse_args()
    main(arguments.runs, arguments.users)
