"""A JSON value as the lines `json.dumps(indent=2)` writes, with arrays and objects that fold.

The body view draws these lines; what it knows of each (its key, its value's kind,
where a container ends) comes from walking the parsed value, so no JSON is parsed
here. A large document starts folded: containers are opened breadth first while the
lines shown stay within a budget, so the first screens show the document's shape.
"""

from __future__ import annotations

import enum
import json
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from rich.cells import cell_len

# A document longer than this (lines) is large: it starts folded, then opened breadth
# first while the lines shown stay within the budget (a few screens, its shape in view).
FOLD_ABOVE_LINES = 200
FOLD_BUDGET_LINES = 60
PREVIEW_KEYS = 4
INDENT = "  "
# What json.dumps(ensure_ascii=False) writes a string as (C-accelerated).
_encode_string: Callable[[str], str] = json.encoder.encode_basestring


class Kind(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    LITERAL = "literal"  # true, false, null
    OPEN = "open"  # the line of a non-empty array or object that opens it
    CLOSE = "close"
    EMPTY = "empty"  # [] or {}


@dataclass(slots=True)
class JsonLine:
    text: str  # as json.dumps(value, indent=2) writes it
    kind: Kind
    depth: int
    value_start: int  # after the indent and the `"key": ` part
    value_end: int  # before a trailing comma
    parent: int  # the OPEN line of the enclosing container (-1: none)
    end: int = -1  # OPEN: its CLOSE line
    value: Any = None  # OPEN: the array or object (its size and keys, when folded)

    @property
    def key_end(self) -> int:
        """Where the `"key"` part ends (== the indent's end when there is none)."""
        return self.value_start - 2 if self.has_key else self.value_start

    @property
    def has_key(self) -> bool:
        return self.value_start > len(INDENT) * self.depth


def json_lines(value: Any) -> list[JsonLine]:
    """`value`'s lines, exactly those of json.dumps(value, indent=2, ensure_ascii=False)."""
    lines: list[JsonLine] = []
    _walk(lines, value, 0, "", "", -1)
    return lines


def _walk(
    lines: list[JsonLine], value: Any, depth: int, prefix: str, tail: str, parent: int
) -> None:
    """Append `value`'s lines; `prefix` is its indent and key, `tail` its comma."""
    token = _scalar(value)
    if token is not None:
        end = len(prefix) + len(token[0])
        lines.append(JsonLine(prefix + token[0] + tail, token[1], depth, len(prefix), end, parent))
        return
    index = len(lines)
    is_object = isinstance(value, dict)
    line = JsonLine(prefix + ("{" if is_object else "["), Kind.OPEN, depth, len(prefix), 0, parent)
    line.value_end = line.value_start + 1
    line.value = value
    lines.append(line)
    indent = INDENT * (depth + 1)
    last = len(value) - 1
    items = value.items() if is_object else enumerate(value)
    for position, (key, child) in enumerate(items):
        child_prefix = indent + _encode_string(key) + ": " if is_object else indent
        child_tail = "," if position < last else ""
        token = _scalar(child)
        if token is None:
            _walk(lines, child, depth + 1, child_prefix, child_tail, index)
            continue
        # Scalars inline: most lines are scalars, and a call per line costs as much.
        start = len(child_prefix)
        text = child_prefix + token[0] + child_tail
        lines.append(JsonLine(text, token[1], depth + 1, start, start + len(token[0]), index))
    close = INDENT * depth + ("}" if is_object else "]")
    line.end = len(lines)
    lines.append(JsonLine(close + tail, Kind.CLOSE, depth, len(close) - 1, len(close), index))


def _scalar(value: Any) -> tuple[str, Kind] | None:
    """The token of a scalar or an empty container, as json.dumps writes it; None otherwise."""
    if isinstance(value, str):
        return _encode_string(value), Kind.STRING
    if value is None or isinstance(value, bool):
        return ("null" if value is None else "true" if value else "false"), Kind.LITERAL
    if isinstance(value, int | float):
        return json.dumps(value) if isinstance(value, float) else int.__repr__(value), Kind.NUMBER
    if not value:
        return ("{}" if isinstance(value, dict) else "[]"), Kind.EMPTY
    return None


def folded_summary(line: JsonLine) -> str:
    """What a folded container says of itself: `12 items`, `3 keys: id, email, role`."""
    value = line.value
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    keys = ", ".join(str(key) for key in islice(value, PREVIEW_KEYS))
    more = ", …" if len(value) > PREVIEW_KEYS else ""
    return f"{len(value)} key{'s' if len(value) != 1 else ''}: {keys}{more}"


class FoldedJson:
    """The lines and which containers are folded; `rows` are the lines shown, in order."""

    def __init__(
        self,
        lines: list[JsonLine],
        *,
        fold_above: int = FOLD_ABOVE_LINES,
        budget: int = FOLD_BUDGET_LINES,
    ) -> None:
        self.lines = lines
        self.texts = [line.text for line in lines]
        self.widest = max(map(cell_len, self.texts), default=0)  # cells, unfolded
        self.folded: set[int] = set()
        if len(lines) > fold_above:
            self._fold_to(budget)
        self.rows = self._rows()

    @property
    def text(self) -> str:
        """The whole document, unfolded."""
        return "\n".join(self.texts)

    def shown_text(self, row: int) -> str:
        """Row `row` as drawn: a folded container on one line (`"items": […],`)."""
        index = self.rows[row]
        line = self.lines[index]
        if index not in self.folded:
            return line.text
        closing = self.lines[line.end].text.lstrip()
        return line.text + "…" + closing

    def children(self, index: int) -> Iterator[int]:
        """The lines that start the items of the container opened at `index`."""
        child = index + 1
        end = self.lines[index].end
        while child < end:
            yield child
            line = self.lines[child]
            child = (line.end if line.kind is Kind.OPEN else child) + 1

    def _fold_to(self, budget: int) -> None:
        """Fold every container, then open them breadth first while they fit the budget."""
        self.folded = {i for i, line in enumerate(self.lines) if line.kind is Kind.OPEN}
        if not self.folded or 0 not in self.folded:
            return
        queue: deque[int] = deque([0])
        shown = 1
        while queue:
            index = queue.popleft()
            extra = len(self.lines[index].value) + 1  # its items, and its closing line
            if index and shown + extra > budget:
                continue  # the root is always open, whatever its size
            self.folded.discard(index)
            shown += extra
            queue.extend(c for c in self.children(index) if self.lines[c].kind is Kind.OPEN)

    def _rows(self) -> list[int]:
        rows: list[int] = []
        index, count, lines, folded = 0, len(self.lines), self.lines, self.folded
        while index < count:
            rows.append(index)
            index = (lines[index].end if index in folded else index) + 1
        return rows

    def row_of(self, index: int) -> int | None:
        """The row showing line `index`, None while it is folded away."""
        row = bisect_left(self.rows, index)
        return row if row < len(self.rows) and self.rows[row] == index else None

    def container_at(self, index: int) -> int | None:
        """The container a fold key acts on: the line itself if it opens one, else its parent."""
        line = self.lines[index]
        if line.kind is Kind.OPEN:
            return index
        return line.parent if line.parent >= 0 else None

    def set_folded(self, index: int, folded: bool) -> None:
        if self.lines[index].kind is not Kind.OPEN:
            return
        if folded:
            self.folded.add(index)
        else:
            self.folded.discard(index)
        self.rows = self._rows()

    def unfold_all(self) -> None:
        self.folded.clear()
        self.rows = self._rows()

    def reveal(self, index: int) -> None:
        """Open every container around line `index`, so that it is shown."""
        parent = self.lines[index].parent
        changed = False
        while parent >= 0:
            if parent in self.folded:
                self.folded.discard(parent)
                changed = True
            parent = self.lines[parent].parent
        if changed:
            self.rows = self._rows()
