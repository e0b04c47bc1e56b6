"""The routes catalog: OpenAPI documents read as plain dicts."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_settings

from backend.main import create_app
from backend.services.routes_catalog import RouteInfo, describe_routes

BEARER: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]


def route(routes: list[RouteInfo], method: str, path: str) -> RouteInfo:
    return next(r for r in routes if (r.method, r.path) == (method, path))


def test_operation_security_decides_whether_a_token_is_needed() -> None:
    routes = describe_routes(
        {
            "paths": {
                "/open": {"get": {"summary": "Open"}},
                "/closed": {"get": {"summary": "Closed", "security": BEARER}},
                "/optional": {"get": {"security": [{}, {"OAuth2PasswordBearer": []}]}},
            }
        }
    )
    assert route(routes, "GET", "/open").requires_auth is False
    closed = route(routes, "GET", "/closed")
    assert (closed.requires_auth, closed.auth_schemes) == (True, ("OAuth2PasswordBearer",))
    # An empty requirement object means anonymous access is allowed too.
    assert route(routes, "GET", "/optional").requires_auth is False


def test_document_security_applies_unless_an_operation_opts_out() -> None:
    routes = describe_routes(
        {
            "security": BEARER,
            "paths": {
                "/inherits": {"get": {}},
                "/public": {"post": {"security": []}},
            },
        }
    )
    assert route(routes, "GET", "/inherits").requires_auth is True
    assert route(routes, "POST", "/public").requires_auth is False


def test_routes_are_sorted_by_path_then_method_with_summaries_and_tags() -> None:
    routes = describe_routes(
        {
            "paths": {
                "/b": {
                    "delete": {"description": "Remove it.\nMore detail.", "deprecated": True},
                    "get": {"summary": " Read ", "tags": ["things"], "operationId": "read_b"},
                    "parameters": [{"name": "id", "in": "path"}],
                },
                "/a": {"post": {"summary": "Make"}},
            }
        }
    )
    assert [(r.method, r.path) for r in routes] == [("POST", "/a"), ("GET", "/b"), ("DELETE", "/b")]
    read, remove = routes[1], routes[2]
    assert (read.summary, read.tags, read.operation_id) == ("Read", ("things",), "read_b")
    assert (remove.summary, remove.deprecated) == ("Remove it.", True)


def test_malformed_parts_are_skipped() -> None:
    assert describe_routes({}) == []
    assert describe_routes({"paths": ["not", "a", "mapping"]}) == []
    routes = describe_routes(
        {
            "paths": {
                "/odd": {
                    "get": "not an operation",
                    "put": {"tags": "not-a-list", "security": "nope", "operationId": 3},
                },
                "/also-odd": None,
            }
        }
    )
    assert routes == [
        RouteInfo("PUT", "/odd", "", (), False, (), None, False),
    ]


def test_the_real_api_is_described_and_serialises(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    routes = describe_routes(create_app(settings).openapi())
    assert route(routes, "POST", "/api/auth/login").requires_auth is False
    assert route(routes, "GET", "/health").requires_auth is False
    assert route(routes, "GET", "/api/users").requires_auth is True
    assert route(routes, "PATCH", "/api/users/{user_id}").requires_auth is True
    json.dumps([r.to_dict() for r in routes], allow_nan=False)
