"""Request ids, the redacted access log and the redaction helpers (EdgeMiddleware)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from backend.main import BackendAPI
from backend.middleware import REQUEST_ID_HEADER, get_request_id, redact, redact_query
from backend.middleware.request_log import RequestLog
from backend.server import EmbeddedServer

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
UNSIGNED_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."
HEX_ID = re.compile(r"[0-9a-f]{32}")


def make_app(request_log: RequestLog | None = None) -> FastAPI:
    app = BackendAPI()
    app.request_log = request_log

    @app.get("/id")
    async def current_id() -> dict[str, str | None]:
        return {"request_id": get_request_id()}

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST"])
    async def echo(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="backend.access")
    return caplog


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "backend.access"]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """The messages and every attribute of the access records, as one string."""
    return " ".join(f"{r.getMessage()} {r.__dict__}" for r in access_records(caplog))


# Request ids


@pytest.mark.asyncio
async def test_request_id_is_generated_when_missing() -> None:
    async with client(make_app()) as http:
        response = await http.get("/id")

    request_id = response.headers[REQUEST_ID_HEADER]
    assert HEX_ID.fullmatch(request_id)
    assert response.json() == {"request_id": request_id}
    assert response.headers.get_list(REQUEST_ID_HEADER) == [request_id]


@pytest.mark.asyncio
async def test_sane_request_id_is_propagated() -> None:
    incoming = "Req-42.abc_DEF"
    async with client(make_app()) as http:
        response = await http.get("/id", headers={REQUEST_ID_HEADER: incoming})

    assert response.headers[REQUEST_ID_HEADER] == incoming
    assert response.json() == {"request_id": incoming}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "hostile",
    [
        b"a" * 65,
        b"",
        b"has space",
        b"<script>alert(1)</script>",
        b"../../etc/passwd",
        b"id\tforged=1",
        b"caf\xc3\xa9",
        b"\xff\xfe",
    ],
)
async def test_hostile_request_id_is_replaced(hostile: bytes) -> None:
    async with client(make_app()) as http:
        response = await http.get("/id", headers={REQUEST_ID_HEADER.encode(): hostile})

    request_id = response.headers[REQUEST_ID_HEADER]
    assert HEX_ID.fullmatch(request_id)
    assert response.json() == {"request_id": request_id}


@pytest.mark.asyncio
async def test_each_request_gets_its_own_id() -> None:
    async with client(make_app()) as http:
        ids = {(await http.get("/id")).headers[REQUEST_ID_HEADER] for _ in range(3)}

    assert len(ids) == 3
    assert get_request_id() is None  # nothing leaks out of a request


# Access log


@pytest.mark.asyncio
async def test_one_line_per_request_with_the_essentials(
    access_log: pytest.LogCaptureFixture,
) -> None:
    async with client(make_app()) as http:
        response = await http.get("/echo/x?page=2", headers={REQUEST_ID_HEADER: "trace-1"})

    [record] = access_records(access_log)
    message = record.getMessage()
    assert re.fullmatch(
        r"GET /echo/x\?page=2 200 \d+\.\dms id=trace-1 client=127\.0\.0\.1:\d+", message
    )
    assert response.headers[REQUEST_ID_HEADER] == "trace-1"
    assert record.__dict__["status_code"] == 200
    assert record.__dict__["request_id"] == "trace-1"


@pytest.mark.asyncio
async def test_the_live_request_log_gets_the_same_redacted_entry(
    access_log: pytest.LogCaptureFixture,
) -> None:
    ring = RequestLog()
    async with client(make_app(ring)) as http:
        response = await http.get(f"/echo/x?token={JWT}&page=2")

    [entry] = ring.newest(10)
    [record] = access_records(access_log)
    assert (entry.method, entry.target, entry.status) == ("GET", "/echo/x?token=***&page=2", 200)
    assert entry.request_id == record.__dict__["request_id"] == response.headers[REQUEST_ID_HEADER]
    assert entry.target == record.__dict__["target"]


@pytest.mark.asyncio
async def test_the_live_request_log_is_fed_when_the_logger_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.access")
    ring = RequestLog()
    async with client(make_app(ring)) as http:
        await http.get("/id")

    assert [entry.target for entry in ring.newest(10)] == ["/id"]
    assert access_records(caplog) == []


@pytest.mark.asyncio
async def test_unhandled_error_is_logged_as_500_with_the_id_it_answers(
    access_log: pytest.LogCaptureFixture,
) -> None:
    async with client(make_app()) as http:
        response = await http.get("/boom")

    assert response.status_code == 500
    [record] = access_records(access_log)
    assert record.__dict__["status_code"] == 500
    assert HEX_ID.fullmatch(record.__dict__["request_id"])
    assert response.headers[REQUEST_ID_HEADER] == record.__dict__["request_id"]


@pytest.mark.asyncio
async def test_headers_are_never_logged(access_log: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": f"Bearer {JWT}", "Cookie": "session=cookie-s3cr3t"}
    async with client(make_app()) as http:
        await http.get("/id", headers=headers)
        await http.get("/id", headers={"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"})

    logged = everything_logged(access_log)
    assert len(access_records(access_log)) == 2
    for secret in (JWT, "cookie-s3cr3t", "YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Basic"):
        assert secret not in logged


@pytest.mark.asyncio
async def test_body_is_never_logged(access_log: pytest.LogCaptureFixture) -> None:
    async with client(make_app()) as http:
        await http.post("/echo/login", json={"email": "a@example.com", "password": "hunter2"})

    logged = everything_logged(access_log)
    assert "POST /echo/login 200" in logged
    assert "hunter2" not in logged
    assert "a@example.com" not in logged


@pytest.mark.asyncio
async def test_sensitive_query_values_are_masked(access_log: pytest.LogCaptureFixture) -> None:
    query = "user=ann&password=hunter2&access_token=at-1&client_secret=cs-1&apiKey=k-1&page=3"
    async with client(make_app()) as http:
        await http.get(f"/echo/x?{query}")

    [record] = access_records(access_log)
    assert record.__dict__["target"] == (
        "/echo/x?user=ann&password=***&access_token=***&client_secret=***&apiKey=***&page=3"
    )
    logged = everything_logged(access_log)
    for secret in ("hunter2", "at-1", "cs-1", "k-1"):
        assert secret not in logged


@pytest.mark.asyncio
async def test_jwts_in_path_and_query_are_masked(access_log: pytest.LogCaptureFixture) -> None:
    async with client(make_app()) as http:
        await http.get(f"/echo/verify/{JWT}?next={UNSIGNED_JWT}")

    [record] = access_records(access_log)
    assert record.__dict__["target"] == "/echo/verify/***?next=***"
    logged = everything_logged(access_log)
    assert JWT not in logged
    assert UNSIGNED_JWT not in logged


@pytest.mark.asyncio
async def test_nothing_is_logged_when_the_logger_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="backend.access")
    async with client(make_app()) as http:
        response = await http.get("/id")

    assert response.status_code == 200
    assert HEX_ID.fullmatch(response.headers[REQUEST_ID_HEADER])
    assert access_records(caplog) == []


@pytest.mark.asyncio
async def test_through_the_real_server(access_log: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")  # lifespan messages pass through the middleware
        yield

    app = make_app()
    app.router.lifespan_context = lifespan
    server = EmbeddedServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            response = await http.get(f"/echo/x?token={JWT}")
    finally:
        await server.stop()

    assert events == ["startup"]
    [record] = access_records(access_log)
    assert record.getMessage().startswith("GET /echo/x?token=*** 200 ")
    assert record.__dict__["request_id"] == response.headers[REQUEST_ID_HEADER]
    assert record.__dict__["client_addr"].startswith("127.0.0.1:")


# Redaction helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("GET /users/42", "GET /users/42"),
        ("eyJustAWord and no dots", "eyJustAWord and no dots"),
        (f"Bearer {JWT}", "Bearer ***"),
        (f"/verify/{JWT}/done", "/verify/***/done"),
        (f"{UNSIGNED_JWT} then {JWT}", "*** then ***"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("page=2&sort=name", "page=2&sort=name"),
        ("password=hunter2", "password=***"),
        ("PASSWORD=hunter2", "PASSWORD=***"),
        ("pass%77ord=hunter2", "pass%77ord=***"),
        ("token=a=b=c", "token=***"),
        ("refresh_token=r&code=c&state=s", "refresh_token=***&code=***&state=s"),
        ("new_password=x&password_confirm=y", "new_password=***&password_confirm=***"),
        ("api_key=k&x-api-key=k2&secret=s", "api_key=***&x-api-key=***&secret=***"),
        ("password=&flag", "password=***&flag"),
        (f"next={JWT}", "next=***"),
        (f"a=1&{JWT}", "a=1&***"),
    ],
)
def test_redact_query(query: str, expected: str) -> None:
    assert redact_query(query) == expected
