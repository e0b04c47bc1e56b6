"""Running a plan safely: exactly its steps, one transaction each, with progress.

The run happens on one connection the async engine lends through `run_sync`; env.py
takes the guard (advisory lock, timeouts) on it. Each step reports its start and end;
Alembic's own log lines go to the same stream, never to the terminal. Every run and
failed run is an audit event (actor, from, to, steps, outcome, duration).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.services.actor import Actor
from backend.services.errors import Conflict, DomainError, InvalidInput
from backend.services.migrations.audit_trail import Operation, record_run
from backend.services.migrations.graph import database_versions, state_for
from backend.services.migrations.guard import GuardOptions, LockHolder, MigrationLocked
from backend.services.migrations.plan import Plan, PlanStep, make_plan, revision_steps
from backend.services.migrations.project import DEFAULT_PROJECT, MigrationProject, one_sentence

STATEMENT_LIMIT = 160  # characters of the failed statement a message quotes
# Alembic keeps its context in module globals: two runs in one process would tread on
# each other's. Runs in other processes wait on the database's advisory lock instead.
_process = {"running": False}


@dataclass(frozen=True, slots=True)
class StepStarted:
    index: int  # 1-based
    total: int
    step: PlanStep


@dataclass(frozen=True, slots=True)
class StepFinished:
    index: int
    total: int
    step: PlanStep
    elapsed: float  # seconds, its commit included


@dataclass(frozen=True, slots=True)
class LockWaiting:
    holder: str  # who holds the lock, in words
    waited: float


@dataclass(frozen=True, slots=True)
class LogLine:
    text: str  # one of Alembic's own log lines


MigrationEvent = StepStarted | StepFinished | LockWaiting | LogLine
EventSink = Callable[[MigrationEvent], None]


@dataclass(frozen=True, slots=True)
class RunResult:
    plan: Plan
    before: tuple[str, ...]
    after: tuple[str, ...]
    steps_run: tuple[PlanStep, ...]
    duration: float
    audited: bool


class MigrationFailed(DomainError):
    """A step failed; the message names it, the statement, why, and where the DB is now."""

    def __init__(self, message: str, *, revision: str | None, now_at: tuple[str, ...]) -> None:
        super().__init__(message)
        self.revision = revision
        self.now_at = now_at


class PlanOutdated(Conflict):
    """The database moved (another run) in a way the confirmed plan did not foresee."""


@dataclass
class _Progress:
    """The run's position, told to the sink as it moves."""

    sink: EventSink | None
    total: int = 0
    current: PlanStep | None = None
    done: list[PlanStep] = field(default_factory=list)
    _index: int = 0
    _started: float = 0.0

    def tell(self, event: MigrationEvent) -> None:
        if self.sink is not None:
            self.sink(event)

    def start(self, step: PlanStep) -> None:
        self.finish()
        self._index += 1
        self.current, self._started = step, time.monotonic()
        self.tell(StepStarted(self._index, self.total, step))

    def finish(self) -> None:
        """The current step has committed (the next one starts, or the run ends)."""
        if self.current is None:
            return
        elapsed = time.monotonic() - self._started
        self.tell(StepFinished(self._index, self.total, self.current, elapsed))
        self.done.append(self.current)
        self.current = None

    def waiting(self, holder: LockHolder | None, waited: float) -> None:
        self.tell(LockWaiting(str(holder) if holder else "someone", waited))


class _LogRelay(logging.Handler):
    def __init__(self, progress: _Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.tell(LogLine(record.getMessage()))


@contextmanager
def _alembic_log_to(progress: _Progress) -> Iterator[None]:
    logger = logging.getLogger("alembic")
    relay = _LogRelay(progress)
    saved = (logger.level, logger.propagate)
    logger.addHandler(relay)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(relay)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


async def run_plan(
    engine: AsyncEngine,
    plan: Plan,
    *,
    project: MigrationProject = DEFAULT_PROJECT,
    actor: Actor | None = None,
    guard: GuardOptions | None = None,
    on_event: EventSink | None = None,
) -> RunResult:
    """Run `plan`'s steps, each in its own transaction, and audit the run as `actor`.

    `actor` is None only for the tests' own set-up: the console and the CLI name
    theirs, automatic runs included. An empty plan runs and records nothing.
    Raises MigrationFailed (the step that failed, the statement, the database's
    reason, the revision the database is at now), MigrationLocked when another run
    holds the lock too long, PlanOutdated when the database moved unforeseen.
    """
    if plan.is_empty:
        return RunResult(plan, plan.start, plan.start, (), 0.0, audited=False)
    progress = _Progress(on_event, total=len(plan.steps))
    started = time.monotonic()
    options = replace(guard or GuardOptions(), on_wait=progress.waiting)
    operation = Operation(plan.direction.value)

    def run(connection: Connection) -> None:
        _run_on(connection, project, plan, options, progress)

    try:
        with one_at_a_time():
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
    except Exception as error:
        now_at = await database_versions(engine)
        failure = _as_failure(error, progress, now_at, options)
        await record_run(
            engine,
            actor,
            operation,
            plan,
            now_at=now_at,
            steps_run=progress.done,
            duration=time.monotonic() - started,
            failure=failure,
        )
        if failure is error:
            raise
        raise failure from error
    after = await database_versions(engine)
    duration = time.monotonic() - started
    audited = await record_run(
        engine,
        actor,
        operation,
        plan,
        now_at=after,
        steps_run=progress.done,
        duration=duration,
        failure=None,
    )
    return RunResult(plan, plan.start, after, tuple(progress.done), duration, audited)


class MigrationBusy(Conflict):
    """Another run is under way in this process."""


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """One run or stamp at a time in this process. Raises MigrationBusy."""
    if _process["running"]:
        raise MigrationBusy("Another migration is running in this process; wait for it to end.")
    _process["running"] = True
    try:
        yield
    finally:
        _process["running"] = False


def _run_on(
    connection: Connection,
    project: MigrationProject,
    plan: Plan,
    guard: GuardOptions,
    progress: _Progress,
) -> None:
    scripts = project.scripts()
    config = project.config()
    config.attributes["connection"] = connection
    config.attributes["migration_guard"] = guard

    def each_step(heads: tuple[str, ...], _context: object) -> Iterator[RevisionStep]:
        steps = _steps_from(scripts, plan, tuple(heads), progress)
        progress.total = len(steps)
        for step, alembic_step in zip(steps, revision_steps(scripts, steps), strict=True):
            progress.start(step)
            yield alembic_step

    with (
        _alembic_log_to(progress),
        EnvironmentContext(config, scripts, fn=each_step, destination_rev=plan.target),
    ):
        scripts.run_env()
    progress.finish()


def _steps_from(
    scripts: ScriptDirectory, plan: Plan, heads: tuple[str, ...], progress: _Progress
) -> list[PlanStep]:
    """The plan's steps; re-planned if another run moved the database while this one waited.

    Only steps the plan already had may run: anything new needs a new confirmation.
    """
    if set(heads) == set(plan.start):
        return list(plan.steps)
    moved_to = ",".join(heads) or "base"
    try:
        fresh = make_plan(scripts, state_for(scripts, heads), plan.target).steps
    except InvalidInput:
        fresh = None
    if fresh is None or not set(fresh) <= set(plan.steps):
        raise PlanOutdated(
            f"The database moved to {moved_to} since this plan was made; plan again."
        )
    progress.tell(
        LogLine(f"The database moved to {moved_to} meanwhile; {len(fresh)} planned step(s) remain.")
    )
    return list(fresh)


def _as_failure(
    error: Exception, progress: _Progress, now_at: tuple[str, ...], guard: GuardOptions
) -> DomainError | Exception:
    """The error as one sentence naming the failed step, or itself when it says enough."""
    if isinstance(error, MigrationLocked | PlanOutdated | MigrationFailed | MigrationBusy):
        return error
    step = progress.current
    where = ",".join(now_at) or "base"
    if sqlite_locked(error):
        what = f"revision {step.revision} ({step.direction.value})" if step else "the run"
        return MigrationFailed(
            f"{sqlite_locked_sentence(guard)}, so {what} did not run; the database is at "
            f"{where}; try again once the other process is done.",
            revision=step.revision if step else None,
            now_at=now_at,
        )
    if step is None:
        if isinstance(error, DBAPIError | CommandError | DomainError):
            return MigrationFailed(
                f"The migration could not start: {reason(error)}; the database is at {where}.",
                revision=None,
                now_at=now_at,
            )
        return error
    statement = ""
    if isinstance(error, DBAPIError) and error.statement:
        quoted = " ".join(error.statement.split())
        if len(quoted) > STATEMENT_LIMIT:
            quoted = quoted[: STATEMENT_LIMIT - 1] + "…"
        statement = f" at `{quoted}`"
    verb = "refused" if isinstance(error, DBAPIError) else "stopped"
    return MigrationFailed(
        f"Revision {step.revision} ({step.direction.value}) failed{statement}: the database "
        f"{verb} it ({reason(error)}); the database is at {where}.",
        revision=step.revision,
        now_at=now_at,
    )


def sqlite_locked(error: BaseException) -> bool:
    """SQLite's "database is locked": another process held its write lock too long."""
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def sqlite_locked_sentence(guard: GuardOptions) -> str:
    return (
        "Another process (another migration, or a long write) held the SQLite database's "
        f"write lock (waited up to {guard.lock_timeout_seconds:g} s)"
    )


def reason(error: Exception) -> str:
    """The database's (or the domain error's) own words, one line, no full stop."""
    original: Any = getattr(error, "orig", None) or error
    if isinstance(error, DomainError):
        return error.message.rstrip(".")
    return one_sentence(original).rstrip(".")
