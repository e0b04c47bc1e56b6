"""The audit log: every write through a service records who did what to which target."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEvent
from backend.services.actor import Actor

# Values of these fields never reach the audit log; only the fact that they changed.
SECRET_FIELDS = frozenset({"password", "hashed_password", "token", "access_token", "secret"})


def describe_changes(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """`{"field": [old, new]}` for JSON, with secret fields reduced to "changed"."""
    described: dict[str, Any] = {}
    for field, (old, new) in changes.items():
        if field in SECRET_FIELDS:
            described[field] = "changed"
        else:
            described[field] = [_jsonable(old), _jsonable(new)]
    return described


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def record_event(
    session: AsyncSession,
    actor: Actor | str,
    action: str,
    target: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (the caller commits both together)."""
    event = AuditEvent(
        actor=actor.label if isinstance(actor, Actor) else actor,
        action=action,
        target=target,
        changes=dict(changes or {}),
        at=dt.datetime.now(dt.UTC),
    )
    session.add(event)
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    target: str | None = None
    actor: str | None = None
    action: str | None = None


async def list_events(
    session: AsyncSession,
    filters: AuditFilter | None = None,
    *,
    limit: int = 50,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Newest first; page with `before_id` (the smallest id of the previous page)."""
    filters = filters or AuditFilter()
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 500)))
    if filters.target is not None:
        query = query.where(AuditEvent.target == filters.target)
    if filters.actor is not None:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list((await session.scalars(query)).all())


def user_target(user_id: int) -> str:
    return f"user:{user_id}"
