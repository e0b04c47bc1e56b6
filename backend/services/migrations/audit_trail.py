"""Audit events for migration runs and stamps: who moved the schema, from where to where.

The event is written after the run, in a transaction of its own, through the audit
service. It records revisions, steps, outcome and duration, never SQL or its data.
Below the audit table's first revision (a downgrade to base) there is nowhere to
write it: the run then reports that it was not audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.migrations.plan import Plan, PlanStep

SCHEMA_TARGET = "schema"


async def record_run(
    engine: AsyncEngine,
    actor: Actor | None,
    plan: Plan,
    now_at: tuple[str, ...],
    steps_run: Sequence[PlanStep],
    duration: float,
    failure: BaseException | None,
    *,
    action: str | None = None,
) -> bool:
    """Record the run as `actor` (nothing without one); False when it could not be recorded."""
    if actor is None:
        return False
    changes: dict[str, object] = {
        "direction": plan.direction.value,
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
    name = action or (
        "migration.failed" if failure is not None else f"migration.{plan.direction.value}"
    )
    try:
        async with AsyncSession(engine) as session:
            record_event(session, actor, name, SCHEMA_TARGET, changes)
            await session.commit()
    except DBAPIError:
        # No audit table at this revision (or not the shape this release writes).
        return False
    return True
