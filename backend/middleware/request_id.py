"""Request ids: accept a sane incoming ``X-Request-ID`` or make one, and echo it back.

The id is the client's ``X-Request-ID`` when it is a sane token (at most 64
characters of ``[A-Za-z0-9._-]``), else a fresh random 32-digit hex. It is available
through ``get_request_id()`` while the request is handled and is sent back in the
``X-Request-ID`` response header (EdgeMiddleware does both).
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
HEADER_NAME = REQUEST_ID_HEADER.lower().encode("ascii")
# Anything else (too long, spaces, markup, control characters) could forge log lines.
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")

CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """The id of the HTTP request being handled, or None outside of one."""
    return CURRENT_REQUEST_ID.get()


def request_id_for(scope: Scope) -> str:
    """The client's request id if it is safe to reuse, else a new one."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == HEADER_NAME:
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    # As random as uuid4().hex, without building a UUID on every request.
    return secrets.token_hex(16)
