"""Drift: how the live schema differs from the models, one line each, and the heads check."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import backend.models  # noqa: F401  (registers every table on Base.metadata)
from backend.database import Base
from backend.services.migrations.project import DEFAULT_PROJECT, MigrationProject, dialect_filter


@dataclass(frozen=True, slots=True)
class DriftReport:
    differences: tuple[str, ...]  # one line each; empty when the schema matches the models
    heads: tuple[str, ...]

    @property
    def single_head(self) -> bool:
        return len(self.heads) == 1

    def lines(self) -> list[str]:
        """Every problem, one line each (the heads check first)."""
        heads = []
        if not self.single_head:
            shown = ", ".join(self.heads) or "none"
            heads = [f"The migrations have {len(self.heads)} heads ({shown}); merge them."]
        return [*heads, *self.differences]


async def check_drift(
    engine: AsyncEngine, project: MigrationProject = DEFAULT_PROJECT
) -> DriftReport:
    """Compare the models with the live schema (Alembic's autogenerate comparison)."""
    async with engine.connect() as connection:
        raw = await connection.run_sync(_compare)
    return DriftReport(
        tuple(describe_difference(diff) for diff in raw), tuple(project.scripts().get_heads())
    )


def _compare(connection: Connection) -> list[Any]:
    opts = {
        "compare_type": True,
        "render_as_batch": True,
        "include_object": dialect_filter(connection.dialect.name),
    }
    context = MigrationContext.configure(connection, opts=opts)
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; ours are PostgreSQL-only anyway.
        warnings.filterwarnings("ignore", message="autogenerate skipping .*expression-based")
        return list(compare_metadata(context, Base.metadata))


def describe_difference(diff: Any) -> str:
    """One of autogenerate's differences in words, e.g. "add index ix_a on users"."""
    if isinstance(diff, list):  # modify_* come grouped per column
        return "; ".join(describe_difference(part) for part in diff)
    kind, *rest = diff
    verb, _, what = str(kind).partition("_")
    if what in {"table"}:
        return f"{verb} table {rest[0].name}"
    if what in {"index", "constraint", "fk"}:
        thing = rest[0]
        table = getattr(getattr(thing, "table", None), "name", "?")
        return f"{verb} {what} {thing.name or '(unnamed)'} on {table}"
    if what == "column":
        _schema, table, column = rest
        return f"{verb} column {table}.{column.name}"
    if verb == "modify":
        _schema, table, column, _info, old, new = rest
        return f"change {what} of {table}.{column} from {old!r} to {new!r}"
    return repr(diff)
