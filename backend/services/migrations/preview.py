"""The offline SQL of a plan, step by step (Alembic's --sql mode, no connection).

One offline run renders every step; the output is cut where each step begins, so a
preview costs what Alembic's own `upgrade --sql` of the same steps costs. A step that
cannot be rendered offline (it reads the database, or raises) gets its reason, and
the rest are rendered after it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from backend.services.migrations.batch_ops import BatchOperation, batch_operations_noted
from backend.services.migrations.plan import Plan, PlanStep, heads_after, revision_steps
from backend.services.migrations.project import MigrationProject, one_sentence

_VERSION_TABLE_STATEMENT = re.compile(
    r"^(CREATE TABLE alembic_version|INSERT INTO alembic_version|UPDATE alembic_version"
    r"|DELETE FROM alembic_version)",
    re.IGNORECASE,
)
_TRANSACTION = re.compile(r"^(BEGIN|COMMIT)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StepSql:
    step: PlanStep
    sql: str  # as Alembic prints it: the transaction and version-table upkeep included
    error: str | None = None  # why the step could not be rendered offline
    # Its batch_alter_table blocks' operations (a rebuild's SQL does not show them).
    batch: tuple[BatchOperation, ...] = ()

    def statements(self) -> list[str]:
        """The step's own statements: no BEGIN/COMMIT, comments or version-table upkeep."""
        return [
            statement
            for statement in split_statements(self.sql)
            if not _TRANSACTION.match(statement) and not _VERSION_TABLE_STATEMENT.match(statement)
        ]


@dataclass(frozen=True, slots=True)
class PlanPreview:
    plan: Plan
    dialect: str
    steps: tuple[StepSql, ...]

    def script(self) -> str:
        """The whole plan's SQL, one step after the other."""
        return "".join(step.sql for step in self.steps)


def split_statements(sql: str) -> list[str]:
    """Alembic's offline output cut into statements, comment lines dropped."""
    statements = []
    for chunk in sql.split(";\n"):
        lines = [line for line in chunk.strip().splitlines() if not line.startswith("--")]
        statement = "\n".join(lines).strip()
        if statement:
            statements.append(statement)
    return statements


def dialect_of(url: str) -> str:
    return make_url(url).get_backend_name()


def preview_plan(project: MigrationProject, plan: Plan, url: str) -> PlanPreview:
    """Every step's SQL on `url`'s dialect, without connecting to it."""
    scripts = project.scripts()
    rendered: list[StepSql] = []
    start, remaining = plan.start, list(plan.steps)
    while remaining:
        texts, error, batches = _render(project, scripts, url, start, remaining)
        rendered += [
            StepSql(step, sql, batch=batches.get(index, ()))
            for index, (step, sql) in enumerate(zip(remaining, texts, strict=False))
        ]
        if error is None:
            break
        # The step that began last is the one that failed (the first, if none began).
        failed_at = max(len(texts) - 1, 0)
        sql = texts[failed_at] if texts else ""
        failed = StepSql(remaining[failed_at], sql, error, batches.get(failed_at, ()))
        if texts:
            rendered[-1] = failed
        else:
            rendered.append(failed)
        start = heads_after(scripts, start, remaining[: failed_at + 1])
        remaining = remaining[failed_at + 1 :]
    return PlanPreview(plan=plan, dialect=dialect_of(url), steps=tuple(rendered))


def _render(
    project: MigrationProject,
    scripts: ScriptDirectory,
    url: str,
    start: tuple[str, ...],
    steps: list[PlanStep],
) -> tuple[list[str], str | None, dict[int, tuple[BatchOperation, ...]]]:
    """The text of each step that began, why the run stopped early (None: it did not), and
    the batch operations of each step (by its index) that had any."""
    buffer = io.StringIO()
    config = project.config(url)
    config.output_buffer = buffer
    marks: list[int] = []
    batches: dict[int, tuple[BatchOperation, ...]] = {}

    def note(operations: list[BatchOperation]) -> None:
        step = len(marks) - 1
        batches[step] = batches.get(step, ()) + tuple(operations)

    def each_step(_heads: object, _context: object) -> Iterator[RevisionStep]:
        for alembic_step in revision_steps(scripts, steps):
            marks.append(buffer.tell())
            yield alembic_step

    error: str | None = None
    try:
        with (
            EnvironmentContext(
                config, scripts, fn=each_step, as_sql=True, starting_rev=list(start) or None
            ),
            batch_operations_noted(note),
        ):
            scripts.run_env()
    except Exception as failure:  # a revision's own code: anything may come out of it
        error = one_sentence(failure)
    output = buffer.getvalue()
    ends = [*marks[1:], len(output)]
    texts = [output[begin:end] for begin, end in zip(marks, ends, strict=True)]
    if marks:
        texts[0] = output[: ends[0]]  # what came before the first step (the version table)
    return texts, error, batches
