"""Domain errors -> HTTP status codes, translated once for every route."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from backend.api.secret_fields import redact_errors
from backend.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    Locked,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Unavailable,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    InvalidInput: 422,
    NotAuthenticated: 401,
    Locked: 423,
    Unavailable: 503,
}
DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."


def status_for(error: type[DomainError]) -> int:
    """The HTTP status a domain error (class) is answered with."""
    for error_type, status in STATUS_BY_ERROR.items():
        if issubclass(error, error_type):
            return status
    return 400


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    headers: dict[str, str] = {}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, Locked):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return JSONResponse(
        {"detail": error.message}, status_code=status_for(type(error)), headers=headers
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 answer, without the value of any secret field (secret_fields.py)."""
    assert isinstance(error, RequestValidationError)
    errors = redact_errors(request.app.openapi(), _operation(request), error.errors())
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _operation(request: Request) -> dict[str, Any] | None:
    """The OpenAPI operation of the route that answers `request`, if it has one."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)
    operations = request.app.openapi().get("paths", {}).get(path, {})
    operation: dict[str, Any] | None = operations.get(request.method.lower())
    return operation


def is_connection_error(error: BaseException) -> bool:
    """True for errors that mean "cannot reach the database", not "bad query"."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError | ConnectionError | TimeoutError)


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    if is_connection_error(error):
        logger.warning("Database unavailable: %s", type(error).__name__)
        return JSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503)
    # The message may carry SQL parameters; log the type only, never echo it.
    logger.error("Unhandled %s", type(error).__name__)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Database and socket errors are answered here; anything else reaches the server
    # error middleware, which still answers with this JSON (and logs the traceback).
    for error_type in (DBAPIError, OSError, Exception):
        app.add_exception_handler(error_type, _unexpected_error)
