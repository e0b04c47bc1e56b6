"""The revision graph and where the database stands in it.

Every revision with its parents, branch and merge points and labels, marked applied
or pending against the revisions the database records. A revision the database
records but the scripts do not know (stamped by a newer release) is kept as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import String, column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.services.migrations.project import DEFAULT_PROJECT, MigrationProject

VERSION_TABLE = "alembic_version"
_VERSIONS = select(column("version_num", String)).select_from(table(VERSION_TABLE))
_CREATE_DATE = re.compile(r"^Create Date:\s*(.+)$", re.MULTILINE)


class Mark(StrEnum):
    CURRENT = "current"  # recorded in the database's version table
    APPLIED = "applied"  # below a current revision
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class RevisionNode:
    revision: str
    down_revisions: tuple[str, ...]
    message: str
    create_date: str | None
    branch_labels: tuple[str, ...]
    is_head: bool
    is_branch_point: bool
    is_merge_point: bool
    mark: Mark

    @property
    def is_applied(self) -> bool:
        return self.mark is not Mark.PENDING


@dataclass(frozen=True, slots=True)
class MigrationState:
    """The graph newest first, the database's revisions, and the scripts' heads."""

    nodes: tuple[RevisionNode, ...]
    current: tuple[str, ...]  # what the version table holds (empty: nothing applied)
    heads: tuple[str, ...]
    unknown: tuple[str, ...]  # in the version table, not among the scripts

    @property
    def at_head(self) -> bool:
        return not self.unknown and set(self.current) == set(self.heads)

    @property
    def known_current(self) -> tuple[str, ...]:
        return tuple(revision for revision in self.current if revision not in self.unknown)

    def node(self, revision: str) -> RevisionNode | None:
        return next((node for node in self.nodes if node.revision == revision), None)

    def describe_current(self) -> str:
        return ",".join(self.current) if self.current else "base"


def read_versions(connection: Connection) -> tuple[str, ...]:
    """The revisions the version table records, sorted (empty when there is no table)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    return tuple(sorted(connection.execute(_VERSIONS).scalars()))


async def database_versions(engine: AsyncEngine) -> tuple[str, ...]:
    async with engine.connect() as connection:
        return await connection.run_sync(read_versions)


async def load_state(
    engine: AsyncEngine, project: MigrationProject = DEFAULT_PROJECT
) -> MigrationState:
    """The graph marked against the database's version table.

    The revision files are read again if they changed since they were last read.
    """
    return state_for(project.fresh_scripts(), await database_versions(engine))


def state_for(scripts: ScriptDirectory, current: Iterable[str]) -> MigrationState:
    """The graph marked against `current` (the version table's revisions)."""
    current = tuple(current)
    unknown = tuple(revision for revision in current if not _knows(scripts, revision))
    known = [revision for revision in current if revision not in unknown]
    applied = applied_revisions(scripts, known)
    heads = set(scripts.get_heads())
    nodes = tuple(
        _node(script, heads, _mark(script.revision, current, applied))
        for script in scripts.walk_revisions()
    )
    return MigrationState(
        nodes=nodes, current=current, heads=tuple(scripts.get_heads()), unknown=unknown
    )


def applied_revisions(scripts: ScriptDirectory, current: Iterable[str]) -> set[str]:
    """Every revision at or below `current`."""
    current = tuple(current)
    if not current:
        return set()
    return {script.revision for script in scripts.iterate_revisions(current, "base")}


def _knows(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        script = scripts.get_revision(revision)
    except CommandError:
        return False
    return script is not None and script.revision == revision


def parents_of(script: Script) -> tuple[str, ...]:
    down = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


def _mark(revision: str, current: tuple[str, ...], applied: set[str]) -> Mark:
    if revision in current:
        return Mark.CURRENT
    return Mark.APPLIED if revision in applied else Mark.PENDING


def _node(script: Script, heads: set[str], mark: Mark) -> RevisionNode:
    date = _CREATE_DATE.search(script.longdoc or "")
    return RevisionNode(
        revision=script.revision,
        down_revisions=parents_of(script),
        message=script.doc or "",
        create_date=date.group(1).strip() if date else None,
        branch_labels=tuple(sorted(script.branch_labels)),
        is_head=script.revision in heads,
        is_branch_point=script.is_branch_point,
        is_merge_point=script.is_merge_point,
        mark=mark,
    )
