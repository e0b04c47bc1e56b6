"""GET /health, the OpenAPI login wiring, and 503 when the database cannot be reached."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_PASSWORD, make_settings

from backend.database import Database
from backend.main import create_app
from backend.services import migrations
from backend.services.jwt_codec import encode_token
from backend.services.policy import AuthPolicy

# Nothing listens on port 1: connections are refused at once.
UNREACHABLE_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/unreachable"
UNAVAILABLE = "The database is unavailable; try again shortly."


async def test_health_reports_the_database_and_its_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "revision": migrations.head_revision(),
    }


async def test_health_needs_no_token_and_has_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["X-Request-ID"]


async def test_swagger_authorize_uses_the_login_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/auth/login"
    assert (await client.get("/docs")).status_code == 200


async def test_every_documented_route_is_served(client: httpx.AsyncClient) -> None:
    # DESIGN.md's HTTP API table, as (method, path) pairs.
    documented = {
        ("get", "/health"),
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/logout"),
        ("get", "/api/users/me"),
        ("patch", "/api/users/me"),
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("get", "/api/users/{user_id}"),
        ("patch", "/api/users/{user_id}"),
        ("delete", "/api/users/{user_id}"),
        ("post", "/api/users/{user_id}/revoke-tokens"),
    }
    paths = (await client.get("/openapi.json")).json()["paths"]
    served = {(method, path) for path, operations in paths.items() for method in operations}
    assert documented <= served


@pytest.fixture
async def unreachable_client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app whose database does not answer."""
    database = Database(UNREACHABLE_URL)
    app = create_app(make_settings(UNREACHABLE_URL, data_dir), database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await database.dispose()


async def test_health_is_503_when_the_database_is_down(
    unreachable_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "revision": None,
        "detail": UNAVAILABLE,
    }


def _valid_token(data_dir: Path) -> str:
    policy = AuthPolicy.from_settings(make_settings(UNREACHABLE_URL, data_dir))
    now = int(time.time())
    claims = {"sub": "1", "role": "admin", "iat": now, "exp": now + 60, "jti": "j"}
    return encode_token(claims, policy.signing_key, policy.algorithm)


async def test_every_database_route_is_503_when_the_database_is_down(
    unreachable_client: httpx.AsyncClient, data_dir: Path
) -> None:
    headers = {"Authorization": f"Bearer {_valid_token(data_dir)}"}
    requests = [
        ("GET", "/api/users/me", {}),
        ("GET", "/api/users", {}),
        ("POST", "/api/auth/logout", {}),
        ("DELETE", "/api/users/2", {}),
        ("POST", "/api/auth/login", {"data": {"username": "a@b.io", "password": TEST_PASSWORD}}),
        ("POST", "/api/auth/register", {"json": {"email": "a@b.io", "password": TEST_PASSWORD}}),
    ]
    for method, url, body in requests:
        response = await unreachable_client.request(method, url, headers=headers, **body)  # type: ignore[arg-type]
        assert (method, url, response.status_code) == (method, url, 503)
        assert response.json() == {"detail": UNAVAILABLE}


async def test_missing_token_is_still_401_when_the_database_is_down(
    unreachable_client: httpx.AsyncClient,
) -> None:
    assert (await unreachable_client.get("/api/users/me")).status_code == 401
