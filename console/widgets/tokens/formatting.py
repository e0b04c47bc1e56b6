"""Turning decoded (attacker-controlled) token parts into text that is safe to show.

A token's header and payload can hold anything JSON can: NaN, 1e400, 4000-digit
integers, right-to-left overrides, zero-width spaces, terminal escapes. These helpers
never raise on any of it and make every invisible character visible.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from textual.content import Content
from textual.highlight import highlight

from backend.services.jwt_display import json_safe, numeric_date_problem, relative_phrase

# Control, format (bidi overrides, zero-width), separator, private-use, surrogate and
# unassigned characters: shown as \uXXXX so that nothing hides or reorders the text.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
_JSON_INDENT = 2


def escape_invisible(text: str, *, keep: str = "") -> str:
    """`text` with every invisible or reordering character (except those in `keep`)
    written as an escape."""
    return "".join(
        _escape(char)
        if char not in keep and unicodedata.category(char) in _INVISIBLE_CATEGORIES
        else char
        for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def pretty_json(value: Any) -> str:
    """Indented JSON for display; never raises on decoded token values."""
    text = json.dumps(json_safe(value), indent=_JSON_INDENT, ensure_ascii=False, allow_nan=False)
    # json.dumps escapes newlines inside strings, so every newline left is indentation.
    return escape_invisible(text, keep="\n")


def highlighted_json(value: Any) -> Content:
    """pretty_json, syntax-highlighted with the app's theme colours."""
    return highlight(pretty_json(value), language="json")


def safe_line(value: object, limit: int = 120) -> str:
    """Any value as one visible line, at most `limit` characters."""
    text = escape_invisible(value if isinstance(value, str) else repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class ClaimTime:
    """A time claim for people: a local date and how far it is from now, or the problem."""

    date: str
    relative: str
    problem: str | None = None


def local_date(timestamp: float, tz: tzinfo | None) -> str:
    """A valid NumericDate as a date in `tz` (None: the machine's zone)."""
    moment = datetime.fromtimestamp(math.floor(timestamp), tz=UTC)
    try:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    except (OverflowError, ValueError):  # year 9999 plus a positive UTC offset
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def claim_time(claim: str, value: Any, now: float, tz: tzinfo | None) -> ClaimTime:
    """Describe the time claim `claim` holding `value`; never raises."""
    problem = numeric_date_problem(value)
    if problem is not None:
        return ClaimTime(date="", relative="", problem=f"invalid NumericDate: {problem}")
    return ClaimTime(date=local_date(value, tz), relative=relative_phrase(claim, value - now))
