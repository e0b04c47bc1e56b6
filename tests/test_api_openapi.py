"""The OpenAPI document lists every status each operation can answer, with its body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_settings
from domain_error_walk import reachable_errors
from fastapi import APIRouter, FastAPI

from backend.api.deps import ActorDep, SessionDep, get_current_user, get_db
from backend.api.errors import status_for
from backend.api.openapi import ERROR_SCHEMA, install_openapi
from backend.api.openapi_headers import ERROR_HEADERS
from backend.api.raises import api_routes, dependency_calls
from backend.main import create_app
from backend.services import users

# Dependencies that reach the database: a route using one can answer 503.
DATABASE_DEPENDENCIES = {get_db, get_current_user}


def _schemas(response: dict[str, Any]) -> list[Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return list(schema.get("oneOf", [schema]))


def undocumented(app: FastAPI) -> list[tuple[str, str, int]]:
    """(method, path, status) of every domain-error answer a route can give but not document."""
    document = app.openapi()
    missing: list[tuple[str, str, int]] = []
    for route in api_routes(app):
        calls = list(dependency_calls(route.dependant))
        errors = {error for call in calls for error in reachable_errors(call)}
        statuses = {status_for(error) for error in errors}
        if DATABASE_DEPENDENCIES & set(calls):
            statuses.add(503)
        for method in sorted(route.methods or ()):
            responses = document["paths"][route.path_format][method.lower()]["responses"]
            for status in sorted(statuses):
                response = responses.get(str(status), {})
                if ERROR_SCHEMA not in _schemas(response):
                    missing.append((method, str(route.path_format), status))
    return missing


@pytest.fixture
def document_app(tmp_path: Path) -> FastAPI:
    """The app, for its document only (no database is ever reached)."""
    return create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path))


def test_every_route_documents_every_domain_error_it_can_raise(document_app: FastAPI) -> None:
    assert undocumented(document_app) == []
    # The walk is not empty-handed: it found the errors of the user routes.
    assert len({path for _method, path, _status in _every_error(document_app)}) >= 8


def _every_error(app: FastAPI) -> list[tuple[str, str, int]]:
    return [
        (method, str(route.path_format), status_for(error))
        for route in api_routes(app)
        for call in dependency_calls(route.dependant)
        for error in reachable_errors(call)
        for method in route.methods or ()
    ]


def test_the_walk_finds_a_route_that_forgot_to_declare_its_errors(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/forgetful/{user_id}")
    async def forgetful(user_id: int, actor: ActorDep, session: SessionDep) -> None:
        await users.get_user(session, actor, user_id)

    app = FastAPI()
    app.include_router(router)
    install_openapi(app)
    # 401 and 503 come with the signed-in dependency; 403 and 404 were never declared.
    assert undocumented(app) == [
        ("GET", "/forgetful/{user_id}", 403),
        ("GET", "/forgetful/{user_id}", 404),
    ]


def _response_headers(document: dict[str, Any]) -> list[tuple[str, str, str, set[str]]]:
    return [
        (method, path, status, set(response.get("headers", {})))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
    ]


def test_headers_clients_rely_on_are_documented_on_every_answer(document_app: FastAPI) -> None:
    document = document_app.openapi()
    assert set(document["components"]["headers"]) >= {"WWW-Authenticate", "Retry-After"}
    answers = _response_headers(document)
    assert all({"X-Request-ID", "X-Content-Type-Options"} <= names for *_, names in answers)
    signed_in = [a for a in answers if a[1].startswith("/api/users")]
    assert signed_in
    assert all("Cache-Control" in names for *_, names in signed_in)
    assert [a[:3] for a in answers if "Pragma" in a[3]] == [("post", "/api/auth/login", "200")]
    assert all("WWW-Authenticate" in names for _m, _p, status, names in answers if status == "401")
    assert all("Retry-After" in names for _m, _p, status, names in answers if status == "423")
    assert set(ERROR_HEADERS.values()) == {("WWW-Authenticate",), ("Retry-After",)}


def test_a_domain_422_and_a_validation_422_share_one_documented_status(
    document_app: FastAPI,
) -> None:
    responses = document_app.openapi()["paths"]["/api/users"]["get"]["responses"]
    assert _schemas(responses["422"]) == [
        {"$ref": "#/components/schemas/HTTPValidationError"},
        ERROR_SCHEMA,
    ]


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/auth/login", "multipart/form-data", b"x"),
        ("/api/auth/register", "application/json", b"\xff"),
    ],
)
async def test_a_body_that_cannot_be_parsed_is_a_documented_400(
    client: httpx.AsyncClient, app: FastAPI, path: str, content_type: str, body: bytes
) -> None:
    response = await client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    documented = app.openapi()["paths"][path]["post"]["responses"]
    assert _schemas(documented["400"]) == [ERROR_SCHEMA]


def test_user_operations_link_to_each_other(document_app: FastAPI) -> None:
    paths = document_app.openapi()["paths"]
    links = paths["/api/users"]["post"]["responses"]["201"]["links"]
    assert set(links) == {"GetUser", "UpdateUser", "RevokeTokens", "UnlockUser", "DeleteUser"}
    user = paths["/api/users/{user_id}"]
    assert links["GetUser"]["operationId"] == user["get"]["operationId"]
    assert links["UpdateUser"]["requestBody"] == {"version": "$response.body#/version"}
