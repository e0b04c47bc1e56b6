"""ASGI middleware: request ids, a redacted access log and the security headers, all in
EdgeMiddleware (one layer, outside everything else: backend.main.BackendAPI)."""

from backend.middleware.edge import EdgeMiddleware
from backend.middleware.redaction import redact, redact_query
from backend.middleware.request_id import REQUEST_ID_HEADER, get_request_id

__all__ = [
    "REQUEST_ID_HEADER",
    "EdgeMiddleware",
    "get_request_id",
    "redact",
    "redact_query",
]
