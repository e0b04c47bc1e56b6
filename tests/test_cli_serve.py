"""`backend-console serve`: the headless API, started for real and stopped with a signal."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from test_cli import (
    ENTRY_POINT,
    Cli,
    default_cli,
    free_port,
    fresh_cli,
    migrate,
    postgresql_cli,
)

from backend.services import migrations

STARTUP_SECONDS = 60


@contextmanager
def serving(cli: Cli, *args: str) -> Iterator[str]:
    """Run the CLI with `args` (ending with `serve ...`) on a free port until /health
    answers; yield the base URL; stop with SIGINT."""
    port = free_port()
    process = subprocess.Popen(
        [str(ENTRY_POINT), *args, "--port", str(port)],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base_url)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def wait_until_healthy(process: subprocess.Popen[str], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.communicate()[1]}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not answer /health in time")


def test_serve_migrates_the_embedded_database_on_first_start(tmp_path: Path) -> None:
    with serving(default_cli(tmp_path), "serve") as base_url:
        health = httpx.get(f"{base_url}/health", trust_env=False).json()
        docs = httpx.get(f"{base_url}/openapi.json", trust_env=False)
    assert health == {"status": "ok", "database": "ok", "revision": migrations.head_revision()}
    assert docs.status_code == 200


async def test_serve_runs_workers_on_the_database_url_given(
    tmp_path: Path, postgresql_url: str
) -> None:
    async with postgresql_cli(tmp_path, postgresql_url) as cli:
        await migrate(cli.database_url)
        # Workers are separate processes: --database-url must reach them too.
        without_env = cli.with_env(DATABASE_URL=None)
        args = ("--database-url", cli.database_url, "serve", "--workers", "2")
        with serving(without_env, *args) as base_url:
            async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
                replies = [await client.get("/health") for _ in range(4)]
        assert {reply.json()["revision"] for reply in replies} == {migrations.head_revision()}


def test_serve_refuses_a_database_that_is_not_at_head(tmp_path: Path) -> None:
    fresh_cli(tmp_path)("serve").assert_error("has no schema yet", "db upgrade")


def test_serve_reports_a_taken_port_in_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        cli = default_cli(tmp_path)
        cli("serve", "--host", "127.0.0.1", "--port", port).assert_error(
            f"Port {port} on 127.0.0.1 is already in use"
        )


def test_serve_in_production_needs_a_real_secret_key(tmp_path: Path) -> None:
    cli = default_cli(tmp_path).with_env(ENVIRONMENT="production", SECRET_KEY="short")
    cli("serve").assert_error("SECRET_KEY", "32 characters")
