"""Access log: one line per HTTP request on logger ``backend.access``, secrets redacted.

Headers and bodies are never logged; the path and query string go through
``redact``/``redact_query``. The same redacted fields feed the console's live request
log when there is one (EdgeMiddleware does both).
"""

from __future__ import annotations

import logging
import time

from starlette.types import Scope

from backend.middleware.redaction import redact, redact_query
from backend.middleware.request_log import RequestEntry

logger = logging.getLogger("backend.access")


def access_entry(scope: Scope, status: int, duration_ms: float, request_id: str) -> RequestEntry:
    """The redacted fields of one answered request."""
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
        request_id=request_id,
    )


def log_access(entry: RequestEntry) -> None:
    """Write the access-log line of `entry` (INFO on ``backend.access``)."""
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
