"""Printing for people and for scripts: plain tables, one JSON document, notes on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer

COLUMN_GAP = "  "


def print_json(document: Any) -> None:
    """One strict JSON document on stdout."""
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned columns, as wide as their widest cell; never wrapped or cut."""
    cells = [[str(header) for header in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(headers))]
    for line in cells:
        padded = [text.ljust(width) for text, width in zip(line, widths, strict=True)]
        typer.echo(COLUMN_GAP.join(padded).rstrip())


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def note(message: str) -> None:
    """Something for the person at the terminal, kept out of stdout's data."""
    typer.echo(message, err=True)


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only on a terminal); yields "set the count done"."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)
