"""ASGI middleware: request ids, a redacted access log and the security headers.

Add the logging middleware first and the request-id middleware last, so that the
request id wraps everything (Starlette runs the last added middleware outermost)::

    app.add_middleware(RequestLoggingMiddleware)
    app.add_middleware(RequestIdMiddleware)
"""

from backend.middleware.logging import RequestLoggingMiddleware
from backend.middleware.redaction import redact, redact_query
from backend.middleware.request_id import REQUEST_ID_HEADER, RequestIdMiddleware, get_request_id
from backend.middleware.security_headers import SecurityHeadersMiddleware

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdMiddleware",
    "RequestLoggingMiddleware",
    "SecurityHeadersMiddleware",
    "get_request_id",
    "redact",
    "redact_query",
]
