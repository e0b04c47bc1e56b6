"""Request ids: accept a sane incoming ``X-Request-ID`` or make one, and echo it back."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_NAME = REQUEST_ID_HEADER.lower().encode("ascii")
# Anything else (too long, spaces, markup, control characters) could forge log lines.
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """The id of the HTTP request being handled, or None outside of one."""
    return _request_id.get()


class RequestIdMiddleware:
    """Pure ASGI middleware giving every HTTP request an id.

    The id is the client's ``X-Request-ID`` when it is a sane token (at most 64
    characters of ``[A-Za-z0-9._-]``), else a fresh uuid4 hex. It is available
    through ``get_request_id()`` while the request is handled and is sent back
    in the ``X-Request-ID`` response header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        header = (_HEADER_NAME, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                message["headers"] = [h for h in headers if h[0].lower() != _HEADER_NAME]
                message["headers"].append(header)
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    """The client's request id if it is safe to reuse, else None."""
    for name, value in scope["headers"]:
        if name == _HEADER_NAME:
            return value.decode("ascii") if _SANE_ID.fullmatch(value) else None
    return None
