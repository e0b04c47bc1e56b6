"""Access log: one line per HTTP request on logger ``backend.access``, secrets redacted."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.middleware.redaction import redact, redact_query
from backend.middleware.request_id import get_request_id

logger = logging.getLogger("backend.access")


class RequestLoggingMiddleware:
    """Pure ASGI middleware logging method, path, status, duration, request id and client.

    Headers and bodies are never logged; the path and query string go through
    ``redact``/``redact_query``. Costs next to nothing while ``backend.access``
    is not enabled for INFO.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
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
            _log_request(scope, status, duration_ms, request_id or get_request_id())


def _log_request(scope: Scope, status: int, duration_ms: float, request_id: str | None) -> None:
    method: str = scope["method"]
    target = redact(scope["path"])
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target = f"{target}?{redact_query(query)}"
    request_id = request_id or "-"
    client = _client(scope.get("client"))
    # The same fields as attributes, for handlers that show or store them structured.
    fields = {
        "method": method,
        "target": target,
        "status_code": status,
        "duration_ms": round(duration_ms, 2),
        "request_id": request_id,
        "client_addr": client,
    }
    logger.info(
        "%s %s %d %.1fms id=%s client=%s",
        method,
        target,
        status,
        duration_ms,
        request_id,
        client,
        extra=fields,
    )


def _client(client: tuple[str, int] | None) -> str:
    if client is None:
        return "-"
    host, port = client
    return f"{host}:{port}"
