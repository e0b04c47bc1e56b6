"""Throughput of authenticated GET /api/users/me on one `serve` worker with PostgreSQL.

Runs wrk (32 connections) against `backend-console serve --workers 1` and, in the
same run, against a bare FastAPI route with no database, and prints both figures and
their ratio. Needs wrk (`apt-get install wrk`) and the local PostgreSQL server. Also
prints what EdgeMiddleware (request id and security headers; the log line is off
here) adds per request, timed in-process (a figure far below the run-to-run noise of
the ratio cannot be seen in it).

    uv run python bench/bench_api.py [--seconds 10] [--connections 32] [--runs 5]
    uv run python bench/bench_api.py --profile   # also: where /me spends its time
    uv run python bench/bench_api.py --runs 0 --profile --profile-requests 20000

Each run measures both servers one after the other; the ratio printed is the median
of the runs' ratios (the machine may be shared: compare within one run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from backend.config import load_settings
from backend.database import Database
from backend.models import Role
from backend.schemas.user import UserCreate
from backend.services import audit_key, auth, migrations, users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy

SERVER_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = "bench-secret-key-0123456789-0123456789-abcdef"
PASSWORD = "bench password 123"
BENCH_DIR = Path(__file__).resolve().parent
BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database() -> str:
    name = f"bc_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    await connection.close()


async def prepare(url: str) -> str:
    """Migrate, create one user, log in; returns a bearer token."""
    settings = load_settings(
        database_url=url, secret_key=SECRET_KEY, data_dir=Path(tempfile.mkdtemp())
    )
    # The audit chain's key: never one generated in the user's own data dir.
    audit_key.use_settings(settings)
    policy = AuthPolicy.from_settings(settings)
    database = Database(url)
    await migrations.upgrade(database.engine)
    async with database.session() as session:
        data = UserCreate(email="bench@example.com", password=PASSWORD, role=Role.USER)
        await users.create_user(session, Actor.cli("bench"), data, policy.hasher)
        issued = await auth.login(session, policy, "bench@example.com", PASSWORD)
    await database.dispose()
    return issued.token


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(
    command: list[str], env: dict[str, str], health_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    # The access log goes to stderr: a pipe nobody reads would fill up and stall the server.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(health_url, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"server did not start: {command}")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def wrk_command(url: str, seconds: int, connections: int, headers: dict[str, str]) -> list[str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return command


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, int]:
    """(requests per second, non-2xx/3xx responses + socket errors)."""
    command = wrk_command(url, seconds, connections, headers)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return rps, errors


def measure(
    command: list[str], env: dict[str, str], url: str, headers: dict[str, str], args: Any
) -> tuple[float, int, float]:
    """Start a server, warm it up, load it: (req/s, errors, server CPU ms per request)."""
    with running(command, env, url) as server:
        wrk(url, 2, args.connections, headers)
        cpu_before = cpu_seconds(server.pid)
        rps, errors = wrk(url, args.seconds, args.connections, headers)
        cpu = cpu_seconds(server.pid) - cpu_before
    return rps, errors, cpu * 1000 / max(1.0, rps * args.seconds)


def edge_cost(calls: int = 200_000) -> float:
    """Microseconds EdgeMiddleware adds to an authenticated request (no log line)."""
    from backend.middleware import EdgeMiddleware

    async def endpoint(_scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def ignore(_message: Any) -> None:
        return None

    scope = {"type": "http", "path": "/api/users/me", "headers": [(b"authorization", b"x")]}
    wrapped = EdgeMiddleware(endpoint, token_paths={"/api/auth/login"})

    async def timed(app: Any) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await app(scope, None, ignore)
        return time.perf_counter() - started

    async def both() -> float:
        return await timed(wrapped) - await timed(endpoint)

    return asyncio.run(both()) * 1e6 / calls


def report(label: str, rps: float, errors: int, cpu_ms: float) -> None:
    print(f"{label:<57} {rps:8.0f} req/s  {cpu_ms:6.3f} ms CPU/request  {errors} errors")


def _arguments() -> Any:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="then profile /me under pyinstrument"
    )
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=20_000,
        help="how many /me requests the profile covers (default 20000)",
    )
    return parser.parse_args()


def _profile(env: dict[str, str], headers: dict[str, str], args: Any) -> str:
    """Where the server spends its time on a fixed number of /me requests: pyinstrument's
    text report, so that two profiles (before and after a change) compare in seconds."""
    port = free_port()
    path = Path(tempfile.mkdtemp()) / "profile.txt"
    me = "/api/users/me"
    command = [sys.executable, str(BENCH_DIR / "profiled_serve.py"), str(port), str(path)]
    command += [str(args.profile_requests), me]
    url = f"http://127.0.0.1:{port}"
    with running(command, env, f"{url}/health") as server:
        # wrk runs for its whole duration: it is stopped once the server has stopped itself.
        load = subprocess.Popen(
            wrk_command(f"{url}{me}", 600, args.connections, headers), stdout=subprocess.DEVNULL
        )
        try:
            server.wait(timeout=600)
        finally:
            load.terminate()
            load.wait()
    return f"profile of {args.profile_requests} requests of GET {me}\n{path.read_text()}"


def main() -> None:
    args = _arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    url = asyncio.run(create_database())
    ratios: list[float] = []
    try:
        headers = {"Authorization": f"Bearer {asyncio.run(prepare(url))}"}
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
        api_port, bare_port = free_port(), free_port()
        serve = [str(BIN_DIR / "backend-console"), "serve", "--port", str(api_port)]
        serve += ["--workers", "1"]
        me = f"http://127.0.0.1:{api_port}/api/users/me"
        bare = [str(BIN_DIR / "uvicorn"), "bare_app:app", "--app-dir", str(BENCH_DIR)]
        bare += ["--port", str(bare_port), "--no-access-log", "--log-level", "warning"]
        for run in range(1, args.runs + 1):
            api = measure(serve, env, me, headers, args)
            baseline = measure(bare, env, f"http://127.0.0.1:{bare_port}/bare", {}, args)
            report(f"run {run}: GET /api/users/me (serve, 1 worker, PostgreSQL)", *api)
            report(f"run {run}: GET /bare (FastAPI, no database)", *baseline)
            ratios.append(api[0] / baseline[0])
        profile = _profile(env, headers, args) if args.profile else ""
    finally:
        asyncio.run(drop_database(url))
    if ratios:
        listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        median = statistics.median(ratios)
        print(f"ratio /me : bare = {median:.2f} (median throughput; runs: {listed})")
    print(f"edge middleware (id, security headers): {edge_cost():.2f} µs per request (in-process)")
    print(profile)


if __name__ == "__main__":
    main()
