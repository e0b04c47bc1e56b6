"""The audit log: every write through a service records who did what to which target.

Events are linked into a hash chain when their transaction commits
(backend.services.audit_chain); `prune_events` cuts the chain's old end, audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, String, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import UTCDateTime
from backend.models import AuditChain, AuditEvent
from backend.models.audit import searchable_text
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit_chain import HEAD_ID, queue_for_chain
from backend.services.driver_sql import fetch_rows
from backend.services.errors import Conflict, InvalidInput

# Values of these fields never reach the audit log; only the fact that they changed.
SECRET_FIELDS = frozenset({"password", "hashed_password", "token", "access_token", "secret"})
MAX_PAGE = 500
PRUNE_ACTION = "audit.prune"


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
    actor: Actor,
    action: str,
    target: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (the caller commits both together).

    The actor's label names the edge the call came through (backend.services.actor).
    The commit links the event into the hash chain.
    """
    event = AuditEvent(
        actor=actor.label,
        action=action,
        target=target,
        changes=dict(changes or {}),
        at=dt.datetime.now(dt.UTC),
    )
    session.add(event)
    queue_for_chain(session, event)
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Exact actor, action and target; `since` inclusive, `until` exclusive; `text` anywhere."""

    target: str | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str | None = None

    @property
    def shape(self) -> tuple[bool, ...]:
        """Which filters are set: the listing's statement is built once per shape."""
        return tuple(bool(value) for value in self.parameters().values())

    def parameters(self) -> dict[str, Any]:
        """The values of the statement's parameters (None where a filter is unset)."""
        return {
            "target": self.target or None,
            "actor": self.actor or None,
            "action": self.action or None,
            "since": self.since,
            "until": self.until,
            "pattern": "%" + _escape_like(self.text.lower()) + "%" if self.text else None,
        }

    def described(self) -> dict[str, str]:
        """The filters that are set, as text (for an export's own audit event)."""
        values = {
            "target": self.target,
            "actor": self.actor,
            "action": self.action,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "text": self.text,
        }
        return {name: value for name, value in values.items() if value}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(shape: tuple[bool, ...]) -> list[ColumnElement[bool]]:
    """The WHERE clause of a filter shape, with bound parameters named as in parameters()."""
    target, actor, action, since, until, text = shape
    conditions: list[ColumnElement[bool]] = []
    exact = ((target, AuditEvent.target), (actor, AuditEvent.actor), (action, AuditEvent.action))
    for wanted, column in exact:
        if wanted:
            conditions.append(column == bindparam(column.key))
    if since:
        conditions.append(AuditEvent.at >= bindparam("since", type_=UTCDateTime))
    if until:
        conditions.append(AuditEvent.at < bindparam("until", type_=UTCDateTime))
    if text:
        # One expression over every field: PostgreSQL's trigram index (revision 0005)
        # serves it; SQLite scans.
        pattern = bindparam("pattern", type_=String)
        conditions.append(searchable_text().like(pattern, escape="\\"))
    return conditions


class AuditRecord(NamedTuple):
    """One audit event as a listing shows it (a tuple: a page builds fifty at once)."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    # Straight from asyncpg a JSON column is its text, decoded only when read: a page
    # shows the changes of one event, the selected one.
    stored_changes: str | dict[str, Any]
    chain_seq: int | None

    @property
    def changes(self) -> dict[str, Any]:
        stored = self.stored_changes
        decoded: dict[str, Any] = json.loads(stored) if isinstance(stored, str) else stored
        return decoded


_RECORD_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.changes,
    AuditEvent.chain_seq,
)


@lru_cache(maxsize=256)
def _listing(shape: tuple[bool, ...], before: bool, after: bool) -> Select[Any]:
    """The listing's statement for a filter shape and paging direction, built once."""
    query = select(*_RECORD_COLUMNS).where(*_conditions(shape)).limit(bindparam("limit"))
    if before:
        query = query.where(AuditEvent.id < bindparam("before_id"))
    if after:
        return query.where(AuditEvent.id > bindparam("after_id")).order_by(AuditEvent.id)
    return query.order_by(AuditEvent.id.desc())


async def list_events(
    session: AsyncSession,
    filters: AuditFilter | None = None,
    *,
    limit: int = 50,
    before_id: int | None = None,
    after_id: int | None = None,
) -> list[AuditRecord]:
    """Newest first, at most `limit` (1 to 500) events matching `filters`.

    Keyset paging: `before_id` gives the page below an event (older), `after_id`
    the page above it (newer, still newest first). The statement goes straight
    through the driver (backend.services.driver_sql): a page is a hot read.
    """
    filters = filters or AuditFilter()
    statement = _listing(filters.shape, before_id is not None, after_id is not None)
    parameters = {
        **{name: value for name, value in filters.parameters().items() if value is not None},
        "limit": max(1, min(limit, MAX_PAGE)),
        "before_id": before_id,
        "after_id": after_id,
    }
    connection = await session.connection()
    rows = await fetch_rows(connection, statement, parameters)
    records = [AuditRecord(*row) for row in rows]
    return records[::-1] if after_id is not None else records


def user_target(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class PruneResult:
    deleted: int
    cutoff: dt.datetime
    through_seq: int  # the chain now starts after this link


async def prune_events(
    session: AsyncSession, actor: Actor, older_than_days: int, *, now: dt.datetime | None = None
) -> PruneResult:
    """Delete the events older than `older_than_days` days, audited as `audit.prune`.

    Only the chain's old end goes (no event newer than the cut-off), and the head
    row keeps the hash it ended on, so the rest stays verifiable; an event outside the
    chain is never deleted (verify names it; `audit reanchor` links it). Raises
    PermissionDenied (not an admin), InvalidInput (fewer than 1 day), Conflict (the
    chain is broken where it would be cut).
    """
    permissions.require_admin(actor, "prune the audit log")
    if older_than_days < 1:
        raise InvalidInput("Keep at least one day: --older-than must be 1 or more days.")
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=older_than_days)
    head = await _lock_head(session)
    through = await _last_link_before(session, cutoff, head.head_seq)
    deleted = 0
    if through > head.pruned_through_seq:
        anchor = await session.scalar(
            select(AuditEvent.chain_hash).where(AuditEvent.chain_seq == through)
        )
        if anchor is None:
            await session.rollback()
            raise Conflict(f"The audit chain is broken at link {through}; verify it first.")
        deleted = await _delete(session, AuditEvent.chain_seq <= through)
        await session.execute(
            update(AuditChain)
            .where(AuditChain.id == HEAD_ID)
            .values(pruned_through_seq=through, anchor_hash=anchor)
        )
    changes = {"older_than_days": older_than_days, "cutoff": cutoff.isoformat(), "deleted": deleted}
    record_event(session, actor, PRUNE_ACTION, "", changes)
    await session.commit()
    return PruneResult(deleted, cutoff, max(through, head.pruned_through_seq))


async def _lock_head(session: AsyncSession) -> AuditChain:
    # A no-op UPDATE locks the head on both dialects (a row lock; SQLite's write lock).
    await session.execute(
        update(AuditChain)
        .where(AuditChain.id == HEAD_ID)
        .values(head_seq=AuditChain.head_seq)
        .execution_options(synchronize_session=False)
    )
    return await session.get_one(AuditChain, HEAD_ID, populate_existing=True)


async def _last_link_before(session: AsyncSession, cutoff: dt.datetime, head_seq: int) -> int:
    first_kept = await session.scalar(
        select(func.min(AuditEvent.chain_seq)).where(
            AuditEvent.chain_seq.is_not(None), AuditEvent.at >= cutoff
        )
    )
    return head_seq if first_kept is None else first_kept - 1


async def _delete(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    result = await session.execute(
        delete(AuditEvent).where(*conditions).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
