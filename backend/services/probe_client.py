"""Sending one probe request with httpx: over real HTTP, or in-process through ASGI.

Bodies are kept up to a limit (the rest is read, counted and dropped), so a 10 MB
answer costs its first part in memory. Failures to get an answer at all are one
ProbeFailed sentence each: connection refused, DNS failure, TLS error, timeout.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from backend.services.errors import DomainError

# What a response body keeps in memory; the rest is counted, not kept.
BODY_KEEP_BYTES = 1024 * 1024
IN_PROCESS_BASE_URL = "http://in-process"


class ProbeFailed(DomainError):
    """No answer came back; `kind` says why: refused, dns, tls, timeout or network."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Where requests go: a base URL, or an ASGI app called in-process (no server)."""

    base_url: str
    app: Any = None  # an ASGI application; services never import the web framework

    @classmethod
    def in_process(cls, app: Any) -> ProbeTarget:
        return cls(IN_PROCESS_BASE_URL, app)

    @property
    def label(self) -> str:
        return "in-process" if self.app is not None else self.base_url

    def client(self, timeout_seconds: float) -> httpx.AsyncClient:
        timeout = httpx.Timeout(timeout_seconds)
        if self.app is not None:
            transport = httpx.ASGITransport(app=self.app)
            return httpx.AsyncClient(transport=transport, base_url=self.base_url, timeout=timeout)
        # trust_env=False: a developer's HTTP(S)_PROXY must not reroute calls to localhost.
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, trust_env=False)


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """One request, as built by the form or the CLI (no credentials in it)."""

    method: str
    path: str  # the route's template, e.g. /api/users/{user_id}
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    json_body: str | None = None  # the JSON text, sent as typed
    form: tuple[tuple[str, str], ...] | None = None

    @property
    def concrete_path(self) -> str:
        """The path with its parameters filled in (each quoted as one segment)."""
        path = self.path
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path

    def url(self, base_url: str) -> str:
        """The full URL, query string included."""
        query = httpx.QueryParams(list(self.query))
        suffix = f"?{query}" if self.query else ""
        return f"{base_url.rstrip('/')}{self.concrete_path}{suffix}"

    def send_headers(self, token: str | None) -> dict[str, str]:
        headers = dict(self.headers)
        if self.json_body is not None:
            headers.setdefault("Content-Type", "application/json")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers


@dataclass(frozen=True, slots=True)
class ProbeResponse:
    status: int
    reason: str
    elapsed_ms: float
    headers: tuple[tuple[str, str], ...]
    body: bytes  # the first BODY_KEEP_BYTES at most
    size: int  # the whole body's size in bytes

    @property
    def complete(self) -> bool:
        return len(self.body) == self.size

    @property
    def left_out(self) -> int:
        return self.size - len(self.body)

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def send(
    target: ProbeTarget,
    request: ProbeRequest,
    token: str | None,
    *,
    timeout_seconds: float,
    keep_bytes: int = BODY_KEEP_BYTES,
) -> ProbeResponse:
    """Send `request` to `target` and read its answer. Raises ProbeFailed."""
    async with target.client(timeout_seconds) as client:
        return await send_with(client, target, request, token, keep_bytes=keep_bytes)


async def send_with(
    client: httpx.AsyncClient,
    target: ProbeTarget,
    request: ProbeRequest,
    token: str | None,
    *,
    keep_bytes: int = BODY_KEEP_BYTES,
) -> ProbeResponse:
    """As send(), on a client that stays open between requests."""
    started = time.perf_counter()
    try:
        async with client.stream(
            request.method,
            request.url(""),
            headers=request.send_headers(token),
            content=request.json_body.encode("utf-8") if request.json_body is not None else None,
            data=dict(request.form) if request.form is not None else None,
        ) as response:
            kept, size = await _read_capped(response, keep_bytes)
    except httpx.TimeoutException:
        seconds = _timeout_of(client)
        raise ProbeFailed(
            f"No answer from {target.label} within {seconds:g} s (timeout).", "timeout"
        ) from None
    except httpx.TransportError as error:
        raise describe_failure(target, error) from None
    return ProbeResponse(
        status=response.status_code,
        reason=response.reason_phrase,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        headers=tuple(response.headers.multi_items()),
        body=kept,
        size=size,
    )


async def _read_capped(response: httpx.Response, keep_bytes: int) -> tuple[bytes, int]:
    kept = bytearray()
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        room = keep_bytes - len(kept)
        if room > 0:
            kept += chunk[:room]
    return bytes(kept), size


def _timeout_of(client: httpx.AsyncClient) -> float:
    return client.timeout.read or client.timeout.connect or 0.0


def describe_failure(target: ProbeTarget, error: BaseException) -> ProbeFailed:
    """The one sentence for a transport failure, from the OS error beneath httpx's."""
    causes = list(_causes(error))
    host = urlsplit(target.base_url).hostname or target.base_url
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return ProbeFailed(f"Connection refused: nothing listens at {target.label}.", "refused")
    if any(isinstance(c, socket.gaierror) for c in causes):
        return ProbeFailed(f"DNS failure: the host name {host} could not be resolved.", "dns")
    tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        reason = getattr(tls, "reason", None) or type(tls).__name__
        return ProbeFailed(f"TLS error talking to {target.label}: {reason}.", "tls")
    reason = str(error).strip().rstrip(".") or type(error).__name__
    return ProbeFailed(f"Network error talking to {target.label}: {reason}.", "network")


def _causes(error: BaseException | None) -> Any:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__
