"""Moments as operators type them: an ISO date or time, or a span ago such as 2h or 3d."""

from __future__ import annotations

import datetime as dt
import re

_SPAN_AGO = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EXAMPLES = "a date (2026-12-01), a time (2026-12-01T10:00) or a span ago (30m, 2h, 3d, 1w)"


def parse_moment(text: str, now: dt.datetime) -> dt.datetime:
    """The moment `text` names (UTC unless it says otherwise).

    Raises ValueError with a sentence saying what is accepted.
    """
    cleaned = text.strip().lower()
    span = _SPAN_AGO.fullmatch(cleaned)
    if span is not None:
        amount, unit = span.groups()
        return now - dt.timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a moment: give {EXAMPLES}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
