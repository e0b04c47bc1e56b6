"""Audit events for migration runs and stamps: who moved the schema, from where to where.

Every run, stamp and failed (or refused) run or stamp is one event, written after it
in a transaction of its own through the audit service: `migration.upgrade`,
`migration.downgrade`, `migration.stamp`, or `migration.failed` with the operation it
was. It records revisions, steps, outcome and duration, never SQL or its data (the
error's class, not its message, which may quote a statement). Below the audit
table's first revision (a downgrade to base) there is nowhere to write it: the run
then reports that it was not audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.migrations.plan import Plan, PlanStep

SCHEMA_TARGET = "schema"


class Operation(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    STAMP = "stamp"


async def record_run(
    engine: AsyncEngine,
    actor: Actor | None,
    operation: Operation,
    plan: Plan,
    *,
    now_at: tuple[str, ...],
    steps_run: Sequence[PlanStep],
    duration: float,
    failure: BaseException | None,
) -> bool:
    """Record the run or stamp as `actor`; False when it could not be recorded.

    Without an actor nothing is recorded: only the tests' own set-up migrates so (the
    console and the CLI always name theirs; tests/test_migration_audit.py checks).
    """
    if actor is None:
        return False
    changes: dict[str, object] = {
        "operation": operation.value,
        "target": plan.target,
        "from": ",".join(plan.start) or "base",
        "to": ",".join(now_at) or "base",
        "steps": [step.revision for step in steps_run],
        "planned_steps": [step.revision for step in plan.steps],
        "outcome": "failed" if failure is not None else "succeeded",
        "duration_ms": round(duration * 1000),
    }
    if failure is not None:
        changes["failed_revision"] = getattr(failure, "revision", None)
        changes["error"] = type(failure).__name__
    name = "migration.failed" if failure is not None else f"migration.{operation.value}"
    try:
        async with AsyncSession(engine) as session:
            record_event(session, actor, name, SCHEMA_TARGET, changes)
            await session.commit()
    except DBAPIError:
        # No audit table at this revision (or not the shape this release writes), or
        # another process holds SQLite's write lock.
        return False
    return True
