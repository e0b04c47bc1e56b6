"""EdgeMiddleware: what every HTTP answer gets, in one pure ASGI layer.

- A request id (request_id.py): the client's sane ``X-Request-ID`` or a new one, set
  for ``get_request_id()`` while the request is handled and sent back.
- The security headers (security_headers.py).
- One redacted access-log line (logging.py), and the same entry in the console's live
  request log when there is one, once the answer is sent.

One layer rather than one middleware each: every layer costs a call, a closure and
an extra hop on every message sent, on every request (bench/bench_api.py). It goes
outside Starlette's own outermost middleware (backend.main.BackendAPI), so that an
unhandled error's 500 carries the headers and the id too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.middleware import security_headers
from backend.middleware.logging import access_entry, log_access, logger
from backend.middleware.request_id import CURRENT_REQUEST_ID, HEADER_NAME, request_id_for
from backend.middleware.request_log import RequestLog

Header = security_headers.Header

# The names each set of security headers replaces, with the request id's.
_REPLACED = {
    headers: frozenset(name for name, _value in headers) | {HEADER_NAME}
    for headers in (
        security_headers.EVERY_ANSWER,
        security_headers.AUTHENTICATED_ANSWER,
        security_headers.TOKEN_ANSWER,
    )
}


class EdgeMiddleware:
    """Request id, security headers and access log; `token_paths` answer with a token.

    `request_log` receives every request (the console's live log). The log line is
    skipped while ``backend.access`` is not enabled for INFO.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token_paths: Collection[str] = (),
        request_log: RequestLog | None = None,
    ) -> None:
        self.app = app
        self.token_paths = frozenset(token_paths)
        self.request_log = request_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_for(scope)
        added = security_headers.security_headers_for(scope, self.token_paths)
        replaced = _REPLACED[added]
        id_header = (HEADER_NAME, request_id.encode("ascii"))
        status = 500  # what the server answers when the app fails before responding

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *_kept(message.get("headers", ()), replaced),
                    *added,
                    id_header,
                ]
            await send(message)

        token = CURRENT_REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_at_edge)
        finally:
            CURRENT_REQUEST_ID.reset(token)
            self._record(scope, status, (time.perf_counter() - started) * 1000, request_id)

    def _record(self, scope: Scope, status: int, duration_ms: float, request_id: str) -> None:
        logged = logger.isEnabledFor(logging.INFO)
        if self.request_log is None and not logged:
            return
        entry = access_entry(scope, status, duration_ms, request_id)
        if self.request_log is not None:
            self.request_log.record(entry)
        if logged:
            log_access(entry)


def _kept(headers: Iterable[Header], replaced: frozenset[bytes]) -> Iterable[Header]:
    return (header for header in headers if header[0].lower() not in replaced)
