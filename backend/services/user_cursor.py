"""Opaque keyset cursors: "the rows after (value, id) in this sort order".

A cursor is base64url JSON `[sort, value, id]`: readable when debugging, never trusted
(every part is checked on the way in).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

BAD_CURSOR = "The cursor is not valid; start again from the first page."
OTHER_SORT = "The cursor belongs to another sort order; start again."
# Sorts whose value is a moment; "last_login" may also be None (never logged in).
_MOMENT_SORTS = frozenset({"created", "last_login"})
_NULLABLE_SORTS = frozenset({"last_login"})


class CursorError(ValueError):
    """A cursor that cannot be used; the message is one sentence."""


def encode_cursor(sort: str, value: str | dt.datetime | None, last_id: int) -> str:
    """The cursor for the rows after (value, last_id) in `sort` order."""
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([str(sort), value, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """(value, id) from a cursor made for `sort`; moments come back as aware datetimes.

    Raises CursorError when the cursor is malformed or belongs to another sort order.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise CursorError(BAD_CURSOR) from None
    if not isinstance(decoded, list) or not decoded:
        raise CursorError(BAD_CURSOR)
    if decoded[0] != str(sort):
        raise CursorError(OTHER_SORT)
    if len(decoded) != 3:
        raise CursorError(BAD_CURSOR)
    _tag, value, last_id = decoded
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise CursorError(BAD_CURSOR)
    return _decode_value(value, str(sort)), last_id


def _decode_value(value: Any, sort: str) -> Any:
    if value is None and sort in _NULLABLE_SORTS:
        return None
    # A NUL cannot be in any stored value, and PostgreSQL refuses it as a parameter.
    if not isinstance(value, str) or "\x00" in value:
        raise CursorError(BAD_CURSOR)
    if sort not in _MOMENT_SORTS:
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CursorError(BAD_CURSOR) from None
    if moment.tzinfo is None:
        raise CursorError(BAD_CURSOR)
    return moment
