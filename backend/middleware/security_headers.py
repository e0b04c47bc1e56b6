"""The response headers every API answer should carry, in one pure ASGI middleware.

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

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[bytes, bytes]

NOSNIFF: Header = (b"x-content-type-options", b"nosniff")
NO_STORE: Header = (b"cache-control", b"no-store")
NO_CACHE: Header = (b"pragma", b"no-cache")
_AUTHORIZATION = b"authorization"

EVERY_ANSWER: tuple[Header, ...] = (NOSNIFF,)
AUTHENTICATED_ANSWER: tuple[Header, ...] = (NOSNIFF, NO_STORE)
TOKEN_ANSWER: tuple[Header, ...] = (NOSNIFF, NO_STORE, NO_CACHE)
_NAMES = {
    headers: frozenset(name for name, _value in headers)
    for headers in (EVERY_ANSWER, AUTHENTICATED_ANSWER, TOKEN_ANSWER)
}


class SecurityHeadersMiddleware:
    """Adds the headers above; `token_paths` are the paths whose answers carry a token."""

    def __init__(self, app: ASGIApp, *, token_paths: Collection[str]) -> None:
        self.app = app
        self.token_paths = frozenset(token_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._headers_for(scope)
        names = _NAMES[added]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in names]
                message["headers"] = [*kept, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers_for(self, scope: Scope) -> tuple[Header, ...]:
        if scope["path"] in self.token_paths:
            return TOKEN_ANSWER
        # ASGI servers give header names lower-cased.
        if any(name == _AUTHORIZATION for name, _value in scope["headers"]):
            return AUTHENTICATED_ANSWER
        return EVERY_ANSWER
