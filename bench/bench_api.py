"""Throughput of authenticated GET /api/users/me on one `serve` worker with PostgreSQL.

Runs wrk (32 connections) against `backend-console serve --workers 1` and, in the
same run, against a bare FastAPI route with no database, and prints both figures and
their ratio. Needs wrk (`apt-get install wrk`) and the local PostgreSQL server.

    uv run python bench/bench_api.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from backend.config import load_settings
from backend.database import Database
from backend.models import Role
from backend.schemas.user import UserCreate
from backend.services import auth, migrations, users
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
    policy = AuthPolicy.from_settings(settings)
    database = Database(url)
    await migrations.upgrade(database.engine)
    async with database.session() as session:
        data = UserCreate(email="bench@example.com", password=PASSWORD, role=Role.USER)
        await users.create_user(session, Actor.cli("bench"), data, policy.hasher)
        issued = await auth.login(session, policy, "bench@example.com", PASSWORD)
    await database.dispose()
    return issued.token


@contextmanager
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, int]:
    """(requests per second, non-2xx/3xx responses + socket errors)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return rps, errors


def report(label: str, rps: float, errors: int) -> None:
    print(f"{label:<50} {rps:8.0f} req/s, {errors} errors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    url = asyncio.run(create_database())
    try:
        token = asyncio.run(prepare(url))
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
        api_port, bare_port = free_port(), free_port()
        serve = [
            str(BIN_DIR / "backend-console"),
            "serve",
            "--port",
            str(api_port),
            "--workers",
            "1",
        ]
        with running(serve, env, f"http://127.0.0.1:{api_port}/health"):
            me = f"http://127.0.0.1:{api_port}/api/users/me"
            wrk(me, 2, args.connections, {"Authorization": f"Bearer {token}"})  # warm-up
            api_rps, api_errors = wrk(
                me, args.seconds, args.connections, {"Authorization": f"Bearer {token}"}
            )
        bare = [
            str(BIN_DIR / "uvicorn"),
            "bare_app:app",
            "--app-dir",
            str(BENCH_DIR),
            "--port",
            str(bare_port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with running(bare, env, f"http://127.0.0.1:{bare_port}/bare"):
            bare_url = f"http://127.0.0.1:{bare_port}/bare"
            wrk(bare_url, 2, args.connections, {})
            bare_rps, bare_errors = wrk(bare_url, args.seconds, args.connections, {})
    finally:
        asyncio.run(drop_database(url))
    report("GET /api/users/me (serve, 1 worker, PostgreSQL)", api_rps, api_errors)
    report("GET /bare (FastAPI, no database)", bare_rps, bare_errors)
    print(f"ratio /me : bare = {api_rps / bare_rps:.2f}")


if __name__ == "__main__":
    main()
