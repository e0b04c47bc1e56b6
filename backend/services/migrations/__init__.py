"""Alembic, driven from inside a running event loop (the console's or the CLI's).

One module per job: graph (the revisions and where the database stands), plan (the
steps a target means), preview (their offline SQL), lint (what in them is risky),
drift (models vs live schema), guard (lock and timeouts, taken in env.py), runner
(a plan run safely, with progress and an audit event). This module is the front
the console and the CLI call: each function takes the engine and a project.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from backend.services.migrations.drift import DriftReport, check_drift
from backend.services.migrations.graph import (
    MigrationState,
    RevisionNode,
    load_state,
    state_for,
)
from backend.services.migrations.guard import (
    SQLITE_CAVEAT,
    GuardOptions,
    MigrationLocked,
    guard_options_from,
)
from backend.services.migrations.lint import Finding, LintReport, Severity, lint_preview
from backend.services.migrations.plan import (
    Direction,
    Plan,
    PlanStep,
    make_plan,
    reverse_plan,
    single_step,
)
from backend.services.migrations.preview import PlanPreview, StepSql, preview_plan
from backend.services.migrations.project import (
    DEFAULT_PROJECT,
    PROJECT_ROOT,
    MigrationProject,
    dialect_filter,
    one_sentence,
)
from backend.services.migrations.runner import (
    EventSink,
    LockWaiting,
    LogLine,
    MigrationEvent,
    MigrationFailed,
    PlanOutdated,
    RunResult,
    StepFinished,
    StepStarted,
    run_plan,
)
from backend.services.migrations.stamp import stamp_revision

__all__ = [
    "DEFAULT_PROJECT",
    "PROJECT_ROOT",
    "Direction",
    "DriftReport",
    "EventSink",
    "Finding",
    "GuardOptions",
    "LintReport",
    "LockWaiting",
    "LogLine",
    "MigrationEvent",
    "MigrationFailed",
    "MigrationLocked",
    "MigrationProject",
    "MigrationState",
    "Plan",
    "PlanOutdated",
    "PlanPreview",
    "PlanStep",
    "ReviewedPlan",
    "RevisionNode",
    "RunResult",
    "Severity",
    "StepFinished",
    "StepSql",
    "StepStarted",
    "alembic_config",
    "check_drift",
    "dialect_filter",
    "downgrade",
    "guard_options_from",
    "head_revision",
    "load_state",
    "make_plan",
    "offline_sql",
    "pending_model_changes",
    "plan_target",
    "preview_plan",
    "review",
    "review_revision",
    "run_plan",
    "script_directory",
    "stamp",
    "stamp_revision",
    "state_for",
    "upgrade",
]


@dataclass(frozen=True, slots=True)
class ReviewedPlan:
    """A plan with its SQL and lint: what the confirmation shows and the run follows."""

    plan: Plan
    preview: PlanPreview
    lint: LintReport

    @property
    def needs_typed_confirmation(self) -> bool:
        return bool(self.lint.destructive)

    @property
    def caveat(self) -> str | None:
        """What the database cannot undo in a run, said before it runs (SQLite's limits)."""
        return SQLITE_CAVEAT if self.preview.dialect == "sqlite" else None


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic config; `url` overrides the settings URL (offline --sql)."""
    return DEFAULT_PROJECT.config(url)


def script_directory() -> ScriptDirectory:
    return DEFAULT_PROJECT.scripts()


def head_revision(project: MigrationProject = DEFAULT_PROJECT) -> str | None:
    return project.scripts().get_current_head()


async def plan_target(
    engine: AsyncEngine,
    target: str,
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    direction: Direction | None = None,
) -> Plan:
    """The plan for `target` from where the database stands. Raises InvalidInput."""
    state = await load_state(engine, project)
    plan = make_plan(project.scripts(), state, target)
    if direction is not None and plan.direction is not direction and not plan.is_empty:
        raise InvalidInput(
            f"{target} is {plan.direction.value}, not {direction.value}, from "
            f"{state.describe_current()}; use {plan.direction.value}."
        )
    return plan


def review(plan: Plan, url: str, project: MigrationProject = DEFAULT_PROJECT) -> ReviewedPlan:
    """The plan's SQL on `url`'s dialect (no connection) and its lint findings."""
    scripts = project.scripts()
    preview = preview_plan(project, plan, url)
    undo = preview_plan(project, reverse_plan(scripts, plan), url)
    return ReviewedPlan(plan, preview, lint_preview(scripts, preview, undo))


def review_revision(
    revision: str, url: str, project: MigrationProject = DEFAULT_PROJECT
) -> tuple[StepSql, StepSql, LintReport]:
    """One revision's upgrade and downgrade SQL and its findings (the screen's detail).

    Rendered in one offline run (up, then down again): half the cost of two.
    Raises InvalidInput for an unknown revision.
    """
    scripts = project.scripts()
    up_plan = single_step(scripts, revision, Direction.UP)
    down_plan = single_step(scripts, revision, Direction.DOWN)
    both = replace(up_plan, end=up_plan.start, steps=up_plan.steps + down_plan.steps)
    rendered = preview_plan(project, both, url)
    up = PlanPreview(up_plan, rendered.dialect, rendered.steps[:1])
    down = PlanPreview(down_plan, rendered.dialect, rendered.steps[1:])
    report = lint_preview(scripts, up, down)
    down_report = lint_preview(scripts, down)
    return up.steps[0], down.steps[0], LintReport(report.findings + down_report.findings)


async def upgrade(
    engine: AsyncEngine,
    revision: str = "head",
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    actor: Actor | None = None,
    guard: GuardOptions | None = None,
) -> RunResult:
    """Migrate up to `revision`, audited as `actor` (None: the tests' set-up only).

    Raises InvalidInput (unknown revision), MigrationFailed, MigrationLocked.
    """
    plan = await plan_target(engine, revision, project=project, direction=Direction.UP)
    return await run_plan(engine, plan, project=project, actor=actor, guard=guard)


async def downgrade(
    engine: AsyncEngine,
    revision: str,
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    actor: Actor | None = None,
    guard: GuardOptions | None = None,
) -> RunResult:
    """Migrate down to `revision` ("base" for an empty database), audited as `actor`.

    Raises InvalidInput (unknown revision), MigrationFailed, MigrationLocked.
    """
    plan = await plan_target(engine, revision, project=project, direction=Direction.DOWN)
    return await run_plan(engine, plan, project=project, actor=actor, guard=guard)


async def stamp(
    engine: AsyncEngine,
    revision: str,
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    actor: Actor | None = None,
) -> None:
    """Record `revision` as current without running migrations, audited as `actor`.

    Raises InvalidInput for an unknown revision.
    """
    await stamp_revision(engine, revision, project=project, actor=actor)


def offline_sql(
    command_name: str, revision: str, url: str, project: MigrationProject = DEFAULT_PROJECT
) -> str:
    """The SQL `upgrade` (from base), `downgrade` (from head) or `stamp` would run, as text.

    Needs no connection. Raises InvalidInput for an unknown revision.
    """
    scripts = project.scripts()
    if command_name == "stamp":
        return offline_stamp(project, revision, url)
    start = () if command_name == "upgrade" else tuple(scripts.get_heads())
    plan = make_plan(scripts, state_for(scripts, start), revision)
    return preview_plan(project, plan, url).script()


def offline_stamp(project: MigrationProject, revision: str, url: str) -> str:
    buffer = io.StringIO()
    config = project.config(url)
    config.output_buffer = buffer
    try:
        command.stamp(config, revision, sql=True)
    except CommandError as error:
        raise InvalidInput(one_sentence(error)) from None
    return buffer.getvalue()


async def pending_model_changes(engine: AsyncEngine) -> list[str]:
    """Differences between the models and the migrated schema (empty when they match)."""
    return list((await check_drift(engine)).differences)
