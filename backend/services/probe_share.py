"""A probe request as a shell command: curl or HTTPie, credentials masked unless asked."""

from __future__ import annotations

import json
import shlex

from backend.services.probe_client import ProbeRequest
from backend.services.probe_headers import is_secret_header, mask_header_value


def as_curl(
    request: ProbeRequest, base_url: str, token: str | None, *, reveal: bool = False
) -> str:
    """A curl command line that sends the same request."""
    parts = ["curl", "-sS", "-X", request.method, request.url(base_url)]
    for name, value in _headers(request, token, reveal):
        parts += ["-H", f"{name}: {value}"]
    if request.json_body is not None:
        parts += ["--data-raw", request.json_body]
    for name, value in request.form or ():
        parts += ["--data-urlencode", f"{name}={value}"]
    return shlex.join(parts)


def as_httpie(
    request: ProbeRequest, base_url: str, token: str | None, *, reveal: bool = False
) -> str:
    """An HTTPie (`http`) command line that sends the same request."""
    parts = ["http", "--ignore-stdin"]
    if request.form is not None:
        parts.append("--form")
    parts += [request.method, f"{base_url.rstrip('/')}{request.concrete_path}"]
    parts += [f"{name}=={value}" for name, value in request.query]
    parts += [f"{name}:{value}" for name, value in _headers(request, token, reveal)]
    if request.json_body is not None:
        parts += ["--raw", _compact(request.json_body)]
    parts += [f"{name}={value}" for name, value in request.form or ()]
    return shlex.join(parts)


def _headers(request: ProbeRequest, token: str | None, reveal: bool) -> list[tuple[str, str]]:
    """The headers sent, credentials masked unless `reveal` (a typed Authorization too)."""
    headers = request.send_headers(token)
    if reveal:
        return list(headers.items())
    return [
        (name, mask_header_value(value) if is_secret_header(name) else value)
        for name, value in headers.items()
    ]


def _compact(text: str) -> str:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return text
