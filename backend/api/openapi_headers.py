"""The response headers the OpenAPI document describes, declared once as components.

The security headers are the ones EdgeMiddleware sends (issue 16):
`nosniff` on every answer, `no-store` on every authenticated answer and on the token
answer, which also gets `Pragma: no-cache`. They are read from the middleware's own
tables, so the document cannot drift from what is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.middleware import security_headers
from backend.middleware.request_id import REQUEST_ID_HEADER
from backend.services.errors import DomainError, Locked, NotAuthenticated


def _named(headers: Iterable[security_headers.Header]) -> dict[str, str]:
    return {name.decode().title(): value.decode() for name, value in headers}


EVERY_ANSWER = _named(security_headers.EVERY_ANSWER)
# Beyond every answer's.
AUTHENTICATED_ANSWER = _named(security_headers.AUTHENTICATED_ANSWER).keys() - EVERY_ANSWER.keys()
TOKEN_ANSWER = _named(security_headers.TOKEN_ANSWER).keys() - EVERY_ANSWER.keys()
_VALUES = _named(security_headers.TOKEN_ANSWER)

_WHY = {
    "X-Content-Type-Options": "Browsers must not guess another content type.",
    "Cache-Control": "No cache may keep this answer: it is about a signed-in user or a token.",
    "Pragma": "The same for HTTP/1.0 caches.",
}


def _fixed(name: str, value: str) -> dict[str, Any]:
    # nosniff goes on every answer; no-store only where the request carried a token.
    return {
        "description": _WHY[name],
        "required": name in EVERY_ANSWER,
        "schema": {"type": "string", "enum": [value]},
    }


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
    **{name: _fixed(name, value) for name, value in _VALUES.items()},
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
        names += sorted(TOKEN_ANSWER)
    elif signed_in:
        names += sorted(AUTHENTICATED_ANSWER)
    return _refs(names)
