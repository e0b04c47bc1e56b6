"""The API served by a real uvicorn server on a free port, spoken to over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from conftest import TEST_PASSWORD, UserFactory
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEvent, Role, User
from backend.server import EmbeddedServer
from backend.services import migrations


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the app served by uvicorn on 127.0.0.1, on a port the OS picks."""
    server = EmbeddedServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as client:
            yield client
    finally:
        await server.stop()


async def login(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await http.post("/api/auth/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_account_lifecycle_over_real_http(
    http: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin = await make_user(Role.ADMIN)
    health = await http.get("/health")
    assert health.json()["revision"] == migrations.head_revision()
    registered = await http.post(
        "/api/auth/register", json={"email": "ann@example.com", "password": TEST_PASSWORD}
    )
    assert registered.status_code == 201
    ann_id = registered.json()["id"]
    ann = await login(http, "ann@example.com", TEST_PASSWORD)
    assert (await http.get("/api/users/me", headers=ann)).json()["id"] == ann_id

    staff = await login(http, admin.email, TEST_PASSWORD)
    listed = await http.get("/api/users", headers=staff, params={"search": "ann"})
    assert [item["id"] for item in listed.json()["items"]] == [ann_id]
    edited = await http.patch(
        f"/api/users/{ann_id}", headers=staff, json={"version": 1, "full_name": "Ann"}
    )
    assert edited.json()["full_name"] == "Ann"
    revoked = await http.post(f"/api/users/{ann_id}/revoke-tokens", headers=staff)
    assert revoked.status_code == 200
    assert (await http.get("/api/users/me", headers=ann)).status_code == 401
    assert (await http.delete(f"/api/users/{ann_id}", headers=staff)).status_code == 204
    assert (await http.post("/api/auth/logout", headers=staff)).status_code == 204
    assert (await http.get("/api/users", headers=staff)).status_code == 401


async def test_errors_over_real_http_are_json_with_status(
    http: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user()
    wrong = await http.post(
        "/api/auth/login", data={"username": user.email, "password": "wrong password"}
    )
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Incorrect email or password."})
    assert wrong.headers["content-type"] == "application/json"
    missing = await http.get("/api/nothing-here")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})


@dataclass
class Secrets:
    """Every password, hash and token the flow below handles."""

    values: set[str] = field(default_factory=set)

    def add(self, *values: str) -> None:
        self.values.update(values)

    async def add_hashes(self, session: AsyncSession) -> None:
        session.expire_all()
        self.values.update((await session.scalars(select(User.hashed_password))).all())


def _record_texts(record: logging.LogRecord) -> list[str]:
    """The message, the raw arguments and every extra attribute of a record."""
    return [record.getMessage(), repr(record.args), repr(vars(record)), record.exc_text or ""]


async def _run_every_secret_bearing_request(
    http: httpx.AsyncClient, admin_email: str, session: AsyncSession, secrets: Secrets
) -> None:
    passwords = ["first password", "second password", "created password", "reset password"]
    secrets.add(*passwords)
    user = await http.post(
        "/api/auth/register", json={"email": "bob@example.com", "password": passwords[0]}
    )
    bob = await login(http, "bob@example.com", passwords[0])
    await secrets.add_hashes(session)
    changed = await http.patch(
        "/api/users/me",
        headers=bob,
        json={"current_password": passwords[0], "new_password": passwords[1]},
    )
    assert changed.status_code == 200
    await http.post(
        "/api/auth/login", data={"username": "bob@example.com", "password": passwords[0]}
    )
    staff = await login(http, admin_email, TEST_PASSWORD)
    created = await http.post(
        "/api/users", headers=staff, json={"email": "c@example.com", "password": passwords[2]}
    )
    await secrets.add_hashes(session)
    reset = await http.patch(
        f"/api/users/{created.json()['id']}",
        headers=staff,
        json={"version": 1, "password": passwords[3]},
    )
    assert reset.status_code == 200
    bob_again = await login(http, "bob@example.com", passwords[1])
    # A token in the query string too (some clients do that): logged only redacted.
    query = {"t": "1", "access_token": bob_again["Authorization"].removeprefix("Bearer ")}
    await http.get("/api/users/me", headers={**bob_again, "X-Token": "x"}, params=query)
    await http.post("/api/auth/logout", headers=bob_again)
    await http.post(f"/api/users/{user.json()['id']}/revoke-tokens", headers=staff)
    await http.get("/api/users/me", headers=bob)  # a revoked token: a 401 path
    await secrets.add_hashes(session)
    secrets.add(*(h["Authorization"].removeprefix("Bearer ") for h in (bob, staff, bob_again)))


async def test_no_password_hash_or_token_reaches_any_log(
    app: FastAPI,
    make_user: UserFactory,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await make_user(Role.ADMIN)
    admin_email = admin.email
    # The test's own client logs each URL it sends; the server's logs are what is checked.
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.DEBUG)  # (also the capture's own level: set last)
    for name in list(logging.root.manager.loggerDict):
        if name != "httpx":
            caplog.set_level(logging.DEBUG, logger=name)
    server = EmbeddedServer(app, "127.0.0.1", 0, log_handler=caplog.handler)
    await server.start()
    secrets = Secrets({TEST_PASSWORD})
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as http:
            await _run_every_secret_bearing_request(http, admin_email, session, secrets)
    finally:
        await server.stop()
    loggers = {record.name for record in caplog.records}
    # The capture really saw the access log and the database layer; uvicorn's own access
    # line (the raw query string) is not written.
    assert "backend.access" in loggers
    assert "uvicorn.access" not in loggers
    assert any(name.startswith("sqlalchemy") for name in loggers)
    assert len(secrets.values) >= 10
    leaks = [
        (record.name, secret[:12])
        for record in caplog.records
        for text in _record_texts(record)
        for secret in secrets.values
        if secret in text
    ]
    assert leaks == []
    audit = [repr(row.changes) for row in (await session.scalars(select(AuditEvent))).all()]
    assert not [s for s in secrets.values for text in audit if s in text]
