"""Access log: one line per HTTP request on logger ``backend.access``, secrets redacted.

The same redacted fields feed the console's live request log when one is given.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.middleware.redaction import redact, redact_query
from backend.middleware.request_id import get_request_id
from backend.middleware.request_log import RequestEntry, RequestLog

logger = logging.getLogger("backend.access")


class RequestLoggingMiddleware:
    """Pure ASGI middleware logging method, path, status, duration, request id and client.

    Headers and bodies are never logged; the path and query string go through
    ``redact``/``redact_query``. Each request also goes to ``request_log`` when given.
    Costs next to nothing while ``backend.access`` is not enabled for INFO and there
    is no request log.
    """

    def __init__(self, app: ASGIApp, request_log: RequestLog | None = None) -> None:
        self.app = app
        self.request_log = request_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.request_log is None and not logger.isEnabledFor(logging.INFO)
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before responding
        request_id: str | None = None

        async def send_observed(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                # Read here, inside the app's call, so the id is found whichever
                # of the two middlewares wraps the other.
                request_id = get_request_id()
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            entry = _entry(scope, status, duration_ms, request_id or get_request_id())
            if self.request_log is not None:
                self.request_log.record(entry)
            if logger.isEnabledFor(logging.INFO):
                _log_request(entry)


def _entry(scope: Scope, status: int, duration_ms: float, request_id: str | None) -> RequestEntry:
    target = redact(scope["path"])
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target = f"{target}?{redact_query(query)}"
    return RequestEntry(
        at=time.time(),
        method=scope["method"],
        target=target,
        status=status,
        duration_ms=duration_ms,
        client=_client(scope.get("client")),
        request_id=request_id or "-",
    )


def _log_request(entry: RequestEntry) -> None:
    # The same fields as attributes, for handlers that show or store them structured.
    fields = {
        "method": entry.method,
        "target": entry.target,
        "status_code": entry.status,
        "duration_ms": round(entry.duration_ms, 2),
        "request_id": entry.request_id,
        "client_addr": entry.client,
    }
    logger.info(
        "%s %s %d %.1fms id=%s client=%s",
        entry.method,
        entry.target,
        entry.status,
        entry.duration_ms,
        entry.request_id,
        entry.client,
        extra=fields,
    )


def _client(client: tuple[str, int] | None) -> str:
    if client is None:
        return "-"
    host, port = client
    return f"{host}:{port}"
