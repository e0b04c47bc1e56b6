"""Large JSON answers shown folded: long arrays keep their first items and say how many more."""

from __future__ import annotations

import json
from typing import Any

# An answer longer than this (pretty-printed lines) is shown folded at first.
FOLD_ABOVE_LINES = 200
FOLD_KEEP_ITEMS = 5


def folded(value: Any, keep: int = FOLD_KEEP_ITEMS) -> tuple[Any, int]:
    """`value` with every array cut to `keep` items plus a marker; and how many were cut."""
    if isinstance(value, dict):
        cut = 0
        result: dict[str, Any] = {}
        for key, item in value.items():
            result[key], more = folded(item, keep)
            cut += more
        return result, cut
    if isinstance(value, list):
        cut = max(0, len(value) - keep)
        items = []
        for item in value[:keep]:
            inner, more = folded(item, keep)
            items.append(inner)
            cut += more
        if len(value) > keep:
            items.append(f"… {len(value) - keep} more items (u unfolds)")
        return items, cut
    return value, 0


def fold_if_large(text: str) -> tuple[str, int]:
    """Pretty JSON `text` folded when it is long; (text to show, items left out)."""
    if text.count("\n") < FOLD_ABOVE_LINES:
        return text, 0
    try:
        value = json.loads(text)
    except ValueError:
        return text, 0
    shown, cut = folded(value)
    if cut == 0:
        return text, 0
    return json.dumps(shown, indent=2, ensure_ascii=False), cut
