"""How the console writes dates, counts and positions: one place, so every screen agrees."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

NEVER = "never"


def absolute_time(moment: dt.datetime | None, zone: dt.tzinfo | None) -> str:
    """`2026-01-05 14:03` in `zone` (None: the machine's zone), or "never"."""
    if moment is None:
        return NEVER
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def absolute_date(moment: dt.datetime | None, zone: dt.tzinfo | None) -> str:
    """`2026-01-05` in `zone`, or "never"."""
    if moment is None:
        return NEVER
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def relative_time(moment: dt.datetime | None, now: dt.datetime) -> str:
    """A short distance from now: "just now", "5 min ago", "3 h ago", "12 d ago", "in 4 min"."""
    if moment is None:
        return NEVER
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((365 * 86400, "y"), (30 * 86400, "mo"), (86400, "d"), (3600, "h")):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            break
    else:
        amount = f"{int(seconds // 60)} min"
    return f"in {amount}" if future else f"{amount} ago"


def count(value: int) -> str:
    """1234567 -> "1,234,567"."""
    return f"{value:,}"


class TotalKind(StrEnum):
    EXACT = "exact"
    ABOUT = "about"  # an estimate (PostgreSQL's planner)
    AT_LEAST = "at_least"  # counting stopped at a cap


def position(
    first: int, shown: int, total: int | None, kind: TotalKind, *, first_at_least: bool = False
) -> str:
    """ "rows 1,201-1,250 of about 1,000,000" (`first` is 0-based; None: still counting).

    `first_at_least`: counting the rows before stopped at `first`: "rows 10,001+ of …".
    """
    if shown == 0:
        return "no rows"
    last = first + shown
    if first_at_least:
        span = f"rows {count(first + 1)}+"
    else:
        span = f"rows {count(first + 1)}-{count(last)}"
    if total is None:
        return f"{span} of …"
    total = max(total, last)
    if kind is TotalKind.ABOUT:
        return f"{span} of about {count(total)}"
    if kind is TotalKind.AT_LEAST:
        return f"{span} of {count(total)}+"
    return f"{span} of {count(total)}"


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def truncate_middle(text: str, width: int) -> str:
    """`text` cut in the middle to `width` cells: URLs keep their scheme and their end."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]
