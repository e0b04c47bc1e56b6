"""The response headers every API answer should carry (EdgeMiddleware sends them).

- ``X-Content-Type-Options: nosniff`` on every answer: a browser never guesses that a
  JSON body is HTML or script.
- ``Cache-Control: no-store`` on every authenticated answer (the request carried an
  ``Authorization`` header, whatever the outcome): they hold personal data, and no
  shared or browser cache may keep them.
- ``Cache-Control: no-store`` and ``Pragma: no-cache`` (for HTTP/1.0 caches) on every
  answer of a token endpoint (the login), as RFC 6749 section 5.1 requires of any
  response that carries a token.

A header of the same name set by a route is replaced, not repeated.
"""

from __future__ import annotations

from collections.abc import Set

from starlette.types import Scope

Header = tuple[bytes, bytes]

NOSNIFF: Header = (b"x-content-type-options", b"nosniff")
NO_STORE: Header = (b"cache-control", b"no-store")
NO_CACHE: Header = (b"pragma", b"no-cache")
_AUTHORIZATION = b"authorization"

EVERY_ANSWER: tuple[Header, ...] = (NOSNIFF,)
AUTHENTICATED_ANSWER: tuple[Header, ...] = (NOSNIFF, NO_STORE)
TOKEN_ANSWER: tuple[Header, ...] = (NOSNIFF, NO_STORE, NO_CACHE)


def security_headers_for(scope: Scope, token_paths: Set[str]) -> tuple[Header, ...]:
    """The headers the answer to this request gets; `token_paths` answer with a token."""
    if scope["path"] in token_paths:
        return TOKEN_ANSWER
    # ASGI servers give header names lower-cased.
    if any(name == _AUTHORIZATION for name, _value in scope["headers"]):
        return AUTHENTICATED_ANSWER
    return EVERY_ANSWER
