"""The live request log: a bounded ring with per-second figures, fed by the middleware."""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path

import httpx
from conftest import TEST_PASSWORD, UserFactory
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.database import Database
from backend.main import create_app
from backend.middleware.request_log import RequestEntry, RequestLog
from backend.models import AuditEvent, Role
from backend.server import EmbeddedServer


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(at: float, duration_ms: float = 1.0, status: int = 200) -> RequestEntry:
    return RequestEntry(at, "GET", "/health", status, duration_ms, "127.0.0.1:5000", "id")


def test_a_full_ring_gives_the_cyclic_collector_nothing_to_scan() -> None:
    # Under load the ring churns thousands of entries a second; were they tracked, each
    # full collection (a pause every frame waits for) would scan them all.
    ring = RequestLog(capacity=1000)
    gc.collect()
    tracked_before = len(gc.get_objects())
    for number in range(1000):
        ring.record(entry(1_000.0 + number / 1000))  # one second: one bucket
    gc.collect()
    assert len(gc.get_objects()) - tracked_before < 50
    assert len(ring) == 1000
    assert ring.newest(1)[0] == entry(1_000.999)


def test_the_ring_keeps_only_the_newest_entries_newest_first() -> None:
    ring = RequestLog(capacity=3)
    for number in range(5):
        ring.record(entry(1000.0 + number, duration_ms=number))
    assert len(ring) == 3
    assert ring.recorded == 5
    assert [e.duration_ms for e in ring.newest(10)] == [4, 3, 2]
    assert [e.duration_ms for e in ring.newest(10, after=4)] == [4]
    assert ring.newest(10, after=5) == []


def test_per_second_counts_and_percentiles() -> None:
    clock = FakeClock(1003.5)
    ring = RequestLog(clock=clock)
    for _ in range(19):
        ring.record(entry(1001.2, duration_ms=2.0))
    ring.record(entry(1001.9, duration_ms=900.0))
    ring.record(entry(1002.1, duration_ms=10.0))
    seconds = ring.per_second(3)
    assert [(s.second, s.count) for s in seconds] == [(1000, 0), (1001, 20), (1002, 1)]
    busy = seconds[1]
    assert 2.0 <= busy.p50_ms < 2.5  # histogram buckets are 25% wide
    assert 2.0 <= busy.p95_ms < 2.5  # the 20th of 20 is the slow one; 95% are fast
    traffic = ring.summary(seconds=3)
    assert traffic.rps == 7.0
    assert 2.0 <= traffic.p50_ms < 2.5
    clock.now = 2000.0
    assert ring.summary().rps == 0.0


JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)


async def test_no_secret_reaches_the_request_log_the_audit_table_or_the_log_file(
    settings: Settings, db: Database, make_user: UserFactory, session: AsyncSession, tmp_path: Path
) -> None:
    admin = await make_user(Role.ADMIN, password="admin-pw-42-secret")
    ring = RequestLog()
    log_file = tmp_path / "server.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    access = logging.getLogger("backend.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    # The console hands its log file to the server as well (uvicorn's own loggers).
    app = create_app(settings, database=db, request_log=ring)
    server = EmbeddedServer(app, "127.0.0.1", 0, log_handler=handler)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            login = await http.post(
                "/api/auth/login", data={"username": admin.email, "password": "admin-pw-42-secret"}
            )
            token = login.json()["access_token"]
            await http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
            await http.get("/api/users", params={"access_token": token, "search": "x"})
            await http.get(f"/api/users?password={TEST_PASSWORD}&api_key=k3y-s3cr3t")
            await http.get(f"/api/echo/{JWT}")
            await http.post("/api/auth/register", json={"email": "b@e.com", "password": "pw-9-x"})
    finally:
        await server.stop()
        access.removeHandler(handler)
        handler.close()
    entries = ring.newest(100)
    assert [e.method for e in entries][::-1] == ["POST", "GET", "GET", "GET", "GET", "POST"]
    assert "access_token=***" in entries[3].target
    events = (await session.scalars(select(AuditEvent))).all()
    stored = {
        "ring": json.dumps([[e.target, e.client, e.request_id] for e in entries]),
        "audit": json.dumps([[e.actor, e.action, e.target, e.changes] for e in events]),
        "log file": log_file.read_text(encoding="utf-8"),
    }
    assert "/api/auth/login" in stored["log file"]
    secrets = (token, JWT, "admin-pw-42-secret", TEST_PASSWORD, "k3y-s3cr3t", "pw-9-x", "Bearer")
    leaks = [(where, s[:10]) for where, text in stored.items() for s in secrets if s in text]
    assert leaks == []
