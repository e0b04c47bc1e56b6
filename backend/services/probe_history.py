"""The route probe's request history: a JSON-lines file in the data dir, mode 0600.

An entry holds what is needed to replay the request and recognise it (method, path,
parameters, body, status, time, the auth *mode*), never a token or a password:
fields whose names say secret (password, token, secret...) are kept as "***".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend.services.probe_client import ProbeRequest

HISTORY_FILENAME = "probe-history.jsonl"
REDACTED = "***"
SECRET_NAME = re.compile(
    r"pass(word)?|secret|token|authorization|api[-_]?key|cookie", re.IGNORECASE
)
# The newest entries kept: past TRIM_ABOVE_BYTES the file is rewritten with these only.
MAX_ENTRIES = 1000
TRIM_ABOVE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: str  # ISO 8601, UTC
    method: str
    path: str  # the route's template
    path_params: dict[str, str] = field(default_factory=dict)
    query: list[list[str]] = field(default_factory=list)
    headers: list[list[str]] = field(default_factory=list)
    json_body: str | None = None
    form: list[list[str]] | None = None
    auth: str = "no auth"
    status: int | None = None  # None: no answer came back
    outcome: str = ""  # "200 OK" or why nothing came back
    elapsed_ms: float | None = None

    @property
    def concrete_path(self) -> str:
        return self.request().concrete_path

    def request(self) -> ProbeRequest:
        """The request to send again (redacted values stay redacted)."""
        return ProbeRequest(
            method=self.method,
            path=self.path,
            path_params=dict(self.path_params),
            query=tuple((k, v) for k, v in self.query),
            headers=tuple((k, v) for k, v in self.headers),
            json_body=self.json_body,
            form=None if self.form is None else tuple((k, v) for k, v in self.form),
        )

    def matches(self, text: str) -> bool:
        haystack = f"{self.method} {self.concrete_path} {self.auth} {self.outcome}".lower()
        return all(word in haystack for word in text.lower().split())


def entry_for(
    request: ProbeRequest,
    auth_label: str,
    *,
    status: int | None,
    outcome: str,
    elapsed_ms: float | None,
    at: dt.datetime | None = None,
) -> HistoryEntry:
    """A history entry for `request`, secrets redacted."""
    return HistoryEntry(
        at=(at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        method=request.method,
        path=request.path,
        path_params=dict(request.path_params),
        query=[[k, _redact_value(k, v)] for k, v in request.query],
        headers=[[k, _redact_value(k, v)] for k, v in request.headers],
        json_body=_redact_json(request.json_body),
        form=None if request.form is None else [[k, _redact_value(k, v)] for k, v in request.form],
        auth=auth_label,
        status=status,
        outcome=outcome,
        elapsed_ms=None if elapsed_ms is None else round(elapsed_ms, 1),
    )


def _redact_value(name: str, value: str) -> str:
    return REDACTED if SECRET_NAME.search(name) and value else value


def _redact_json(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        # Not JSON: kept only if nothing in it looks like a secret's name.
        return REDACTED if SECRET_NAME.search(text) else text
    return json.dumps(_redact(value), indent=2, ensure_ascii=False)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: REDACTED if SECRET_NAME.search(str(k)) and v not in (None, "") else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


class ProbeHistory:
    """The history file of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / HISTORY_FILENAME
        # Appends may come from worker threads: one at a time (a trim rewrites the file).
        self._lock = threading.Lock()

    def append(self, entry: HistoryEntry) -> None:
        """Add `entry` (the file is created 0600; an existing one is made 0600)."""
        with self._lock:
            self._append(entry)

    def _append(self, entry: HistoryEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, line.encode("utf-8"))
            too_big = os.fstat(fd).st_size > TRIM_ABOVE_BYTES
        finally:
            os.close(fd)
        if too_big:
            self._trim()

    def _trim(self) -> None:
        """Keep the newest MAX_ENTRIES lines (written aside, then moved into place)."""
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        draft = self.path.with_name(f".{self.path.name}.trim")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines[-MAX_ENTRIES:])
        os.replace(draft, self.path)

    def entries(self, search: str = "", limit: int = 200) -> list[HistoryEntry]:
        """Newest first, those matching every word of `search`; unreadable lines skipped."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        found: list[HistoryEntry] = []
        for line in reversed(lines[-MAX_ENTRIES:]):
            entry = _parse(line)
            if entry is not None and entry.matches(search):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found


def _parse(line: str) -> HistoryEntry | None:
    try:
        raw = json.loads(line)
        return HistoryEntry(**raw) if isinstance(raw, dict) else None
    except (ValueError, TypeError):
        return None


def has_redacted(request: ProbeRequest) -> bool:
    """Whether a recorded request lost a secret to redaction (it cannot be replayed as is)."""
    values = [value for _, value in (*request.query, *request.headers, *(request.form or ()))]
    return REDACTED in values or (request.json_body is not None and REDACTED in request.json_body)
