"""The response headers the OpenAPI document describes, declared once as components.

The security headers are the ones the security-headers middleware sends (issue 16):
`nosniff` on every answer, `no-store` on every authenticated answer and on the token
answer, which also gets `Pragma: no-cache`. The middleware and this table must agree;
the values are here as plain dicts so that it can take them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.middleware.request_id import REQUEST_ID_HEADER
from backend.services.errors import DomainError, Locked, NotAuthenticated

EVERY_ANSWER = {"X-Content-Type-Options": "nosniff"}
AUTHENTICATED_ANSWER = {"Cache-Control": "no-store"}
TOKEN_ANSWER = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_WHY = {
    "X-Content-Type-Options": "Browsers must not guess another content type.",
    "Cache-Control": "No cache may keep this answer: it is about a signed-in user or a token.",
    "Pragma": "The same for HTTP/1.0 caches.",
}


def _fixed(name: str, value: str) -> dict[str, Any]:
    return {"description": _WHY[name], "schema": {"type": "string", "enum": [value]}}


HEADER_COMPONENTS: dict[str, dict[str, Any]] = {
    REQUEST_ID_HEADER: {
        "description": "The request's id (the client's own when sane), as in the access log.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
    },
    "WWW-Authenticate": {
        "description": "How to authenticate: a bearer token from POST /api/auth/login.",
        "required": True,
        "schema": {"type": "string", "enum": ["Bearer"]},
    },
    "Retry-After": {
        "description": "Seconds until the account's lockout ends.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    **{name: _fixed(name, value) for name, value in (EVERY_ANSWER | TOKEN_ANSWER).items()},
}
ERROR_HEADERS: dict[type[DomainError], tuple[str, ...]] = {
    NotAuthenticated: ("WWW-Authenticate",),
    Locked: ("Retry-After",),
}


def _refs(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def headers_for_error(error: type[DomainError]) -> dict[str, Any]:
    """The headers an answer for this domain error carries (beyond every answer's)."""
    names = [
        name for kind, names in ERROR_HEADERS.items() if issubclass(error, kind) for name in names
    ]
    return _refs(names)


def headers_for_operation(*, signed_in: bool, token_answer: bool) -> dict[str, Any]:
    """The headers every response of an operation carries."""
    names = [REQUEST_ID_HEADER, *EVERY_ANSWER]
    if token_answer:
        names += TOKEN_ANSWER
    elif signed_in:
        names += AUTHENTICATED_ANSWER
    return _refs(names)
