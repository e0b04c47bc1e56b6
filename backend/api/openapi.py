"""The OpenAPI document tells every status an operation can answer, each with its body.

Routes and dependencies declare the domain errors they may raise with `@raises(...)`
(backend/api/raises.py; once per dependency: "signed in" brings 401 to every route
that needs it).
`install_openapi` turns those declarations into responses when the document is first
built: the status from backend/api/errors.py, the `{"detail": str}` body, the headers
each error kind carries, the headers every answer carries, and the links between the
user operations (for clients and for schemathesis' stateful tests).

A domain `InvalidInput` (a bad cursor, a wrong current password) shares the 422 of
request validation: its body is `oneOf` FastAPI's validation error (detail is a list)
and ErrorBody (detail is a sentence), so a client reads `detail` either way.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import RouteContext
from pydantic import BaseModel

from backend.api.deps import get_current_user
from backend.api.errors import status_for
from backend.api.openapi_headers import (
    HEADER_COMPONENTS,
    headers_for_error,
    headers_for_operation,
)
from backend.api.openapi_links import add_links
from backend.api.raises import api_routes, declared_errors, dependency_calls
from backend.services.errors import DomainError, InvalidInput

_SCHEMAS = "#/components/schemas/"
ERROR_SCHEMA = {"$ref": f"{_SCHEMAS}ErrorBody"}
VALIDATION_SCHEMA = {"$ref": f"{_SCHEMAS}HTTPValidationError"}
LOGIN_PATH = "/api/auth/login"


class ErrorBody(BaseModel):
    """The body of every error the API answers on purpose: one sentence."""

    detail: str


def is_signed_in(route: RouteContext) -> bool:
    """True when the route needs a bearer token (its answers are authenticated ones)."""
    return get_current_user in set(dependency_calls(route.dependant))


def _error_response(errors: list[type[DomainError]]) -> dict[str, Any]:
    descriptions = " ".join(sorted({(error.__doc__ or error.__name__).strip() for error in errors}))
    headers: dict[str, Any] = {}
    for error in errors:
        headers.update(headers_for_error(error))
    response: dict[str, Any] = {
        "description": descriptions,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    if headers:
        response["headers"] = headers
    return response


def _document_errors(operation: dict[str, Any], errors: set[type[DomainError]]) -> None:
    responses: dict[str, Any] = operation["responses"]
    by_status: dict[int, list[type[DomainError]]] = {}
    for error in sorted(errors, key=lambda error: error.__name__):
        by_status.setdefault(status_for(error), []).append(error)
    for status, kinds in sorted(by_status.items()):
        response = _error_response(kinds)
        validation = responses.get(str(status))
        if validation is not None and InvalidInput in kinds:
            # Request validation answers 422 too: either body may come back.
            response["description"] = f"{validation['description']}, or: {response['description']}"
            response["content"]["application/json"]["schema"] = {
                "oneOf": [VALIDATION_SCHEMA, ERROR_SCHEMA]
            }
        responses[str(status)] = response


def _document_body_errors(operation: dict[str, Any]) -> None:
    """A body that cannot be parsed (JSON that is not UTF-8, a form without its boundary)
    is answered 400 by FastAPI, before any validation."""
    if "requestBody" in operation:
        operation["responses"]["400"] = {
            "description": "The body cannot be parsed.",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }


def _document_headers(operation: dict[str, Any], route: RouteContext) -> None:
    signed_in = is_signed_in(route)
    for status, response in operation["responses"].items():
        headers = headers_for_operation(
            signed_in=signed_in, token_answer=route.path == LOGIN_PATH and status == "200"
        )
        response["headers"] = {**response.get("headers", {}), **headers}
    operation["responses"] = dict(sorted(operation["responses"].items()))


def _complete(document: dict[str, Any], app: FastAPI) -> None:
    for route in api_routes(app):
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _document_errors(operation, declared_errors(route))
            _document_body_errors(operation)
            _document_headers(operation, route)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["ErrorBody"] = ErrorBody.model_json_schema()
    components["headers"] = HEADER_COMPONENTS
    add_links(document)


def install_openapi(app: FastAPI) -> None:
    """Complete the app's document from the declarations, once per document FastAPI
    builds (it builds a new one, on first use, after routes are added)."""
    build = app.openapi
    completed: dict[str, Any] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal completed
        document = build()
        if document is not completed:
            _complete(document, app)
            completed = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
