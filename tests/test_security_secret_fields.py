"""Finding 5 of issue 16: no error answer (nor the server log) holds a secret field's value.

The secret fields come from the app's own OpenAPI document (backend/api/secret_fields.py),
so a secret field added later is walked too; the walk submits a bad value for each over
real HTTP (uvicorn) and looks for it in the answer and in everything the server logged.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import pytest
from conftest import TEST_PASSWORD, UserFactory
from fastapi import FastAPI

from backend.api.secret_fields import SchemaWalker, SecretField, redact_errors, secret_fields
from backend.models import Role
from backend.server import EmbeddedServer

# What the document marks today; the walk below must find at least these.
KNOWN_SECRETS = {
    ("POST", "/api/auth/register", ("body", "password")),
    ("POST", "/api/auth/login", ("body", "password")),
    ("POST", "/api/auth/login", ("body", "client_secret")),
    ("POST", "/api/users", ("body", "password")),
    ("PATCH", "/api/users/{user_id}", ("body", "password")),
    ("PATCH", "/api/users/me", ("body", "new_password")),
    ("PATCH", "/api/users/me", ("body", "current_password")),
}
# A field named like this that the schema does not mark secret is a forgotten marking.
SECRET_LOOKING = re.compile(r"password|secret|token", re.IGNORECASE)


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """Everything the server and the app log at any level, as the console's server.log."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    root, access = logging.getLogger(), logging.getLogger("backend.access")
    levels = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    access.setLevel(logging.INFO)
    try:
        yield text
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        access.setLevel(levels[1])


@pytest.fixture
async def http(app: FastAPI, server_log: io.StringIO) -> AsyncIterator[httpx.AsyncClient]:
    server = EmbeddedServer(app, "127.0.0.1", 0, log_handler=logging.StreamHandler(server_log))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as client:
            yield client
    finally:
        await server.stop()


def _request_property_names(openapi: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(method, path, property name) of every property of every request body, nested."""
    walker = SchemaWalker(openapi)

    def names(schema: Mapping[str, Any], depth: int = 0) -> Iterator[str]:
        schema = walker.resolve(schema)
        for name, child in schema.get("properties", {}).items():
            yield name
            if depth < 5:
                yield from names(child, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(key, ()):
                yield from names(branch, depth + 1)

    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                for name in names(media["schema"]):
                    yield method.upper(), path, name


def test_the_schema_walk_finds_every_secret_field(app: FastAPI) -> None:
    openapi = app.openapi()
    found = {(field.method, field.path, field.loc) for field in secret_fields(openapi)}
    assert found >= KNOWN_SECRETS
    looking = {
        (method, path, ("body", name))
        for method, path, name in _request_property_names(openapi)
        if SECRET_LOOKING.search(name)
    }
    assert looking <= found, "a field named like a secret is not marked secret in its schema"


def _bad_value(openapi: Mapping[str, Any], field: SecretField) -> str:
    """A value the field refuses where it can (too long, too short), unique to find it by."""
    operation = openapi["paths"][field.path][field.method.lower()]
    body = operation["requestBody"]["content"][field.content_type]["schema"]
    walker = SchemaWalker(openapi)
    schema = walker.at(body, field.loc[1:]) or {}
    limits = [walker.resolve(b).get("maxLength") for b in [schema, *schema.get("anyOf", ())]]
    too_long = max((limit for limit in limits if isinstance(limit, int)), default=None)
    if too_long is not None:
        return secrets.token_hex(too_long)[: too_long + 1]
    return f"S{secrets.token_hex(3)}"  # 7 characters: shorter than any password may be


def _nested(loc: tuple[str, ...], value: str) -> dict[str, Any]:
    body: dict[str, Any] = {loc[-1]: value}
    for key in reversed(loc[:-1]):
        body = {key: body}
    return body


async def test_no_error_answer_or_log_line_holds_a_secret_value(
    app: FastAPI,
    http: httpx.AsyncClient,
    make_user: UserFactory,
    server_log: io.StringIO,
) -> None:
    admin = await make_user(Role.ADMIN)
    login = await http.post(
        "/api/auth/login", data={"username": admin.email, "password": TEST_PASSWORD}
    )
    staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    openapi = app.openapi()
    answers: list[str] = []
    values: list[str] = []
    for field in secret_fields(openapi):
        value = _bad_value(openapi, field)
        values.append(value)
        # Only the secret field, so every required sibling is missing (whose error carries
        # the parent object), and one unknown member where the schema forbids those.
        body = _nested(field.loc[1:], value)
        path = field.path.replace("{user_id}", str(admin.id))
        if field.content_type == "application/json":
            body["not_a_field"] = 1
            response = await http.request(field.method, path, json=body, headers=staff)
        else:
            response = await http.request(field.method, path, data=body, headers=staff)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"], field
        answers.append(response.text)
    logged = server_log.getvalue()
    assert "422" in logged  # the access log saw the answers
    for value, answer in zip(values, answers, strict=True):
        assert value not in answer
        assert value not in logged


def test_the_rest_of_the_validation_detail_stays(app: FastAPI) -> None:
    openapi = app.openapi()
    operation = openapi["paths"]["/api/users/me"]["patch"]
    errors = [
        {
            "type": "string_too_long",
            "loc": ("body", "current_password"),
            "msg": "String should have at most 1024 characters",
            "input": "s3cret" * 200,
            "ctx": {"max_length": 1024},
        },
        {
            "type": "value_error",
            "loc": ("body",),
            "msg": "Value error, email cannot be null; leave it out to keep it.",
            "input": {"email": None, "new_password": "s3cret", "full_name": "Ann"},
        },
        {"type": "int_type", "loc": ("body", "full_name"), "msg": "bad", "input": 5},
    ]
    assert redact_errors(openapi, operation, errors) == [
        {
            "type": "string_too_long",
            "loc": ("body", "current_password"),
            "msg": "String should have at most 1024 characters",
        },
        {
            "type": "value_error",
            "loc": ("body",),
            "msg": "Value error, email cannot be null; leave it out to keep it.",
            "input": {"email": None, "full_name": "Ann"},
        },
        {"type": "int_type", "loc": ("body", "full_name"), "msg": "bad", "input": 5},
    ]
