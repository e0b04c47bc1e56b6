"""The audit log's hash chain: appended at commit, verified, cut by a prune.

Each event's `chain_hash` is SHA-256 over the previous link's hash and the event's
own content (its place in the chain, time, actor, action, target, changes). The
links are appended when the writing transaction commits: the chain's one head row
(`audit_chain`) is updated first, which serialises appends on PostgreSQL (a row
lock until that commit) and on SQLite (its write lock), so concurrent writers
queue for the head and never fork the chain. Taking it last keeps the wait short
and never deadlocks with the row locks the write itself took.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from backend.models import AuditChain, AuditEvent
from backend.services.driver_sql import fetch_rows

# session.info key: the events this transaction recorded, in order, not yet linked.
UNLINKED_KEY = "audit_unlinked_events"
HEAD_ID = 1
VERIFY_BATCH = 5000


def link_hash(
    previous: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    changes: Any,
) -> str:
    """The hash of one link: its content and the previous link's hash."""
    moment = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    content = json.dumps(
        [seq, moment, actor, action, target, changes],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def _link_pending(session: Session) -> None:
    queued: list[AuditEvent] = session.info.pop(UNLINKED_KEY, [])
    # An event a rolled-back savepoint took out of the session takes no link.
    unlinked = [audit_event for audit_event in queued if audit_event in session]
    if not unlinked:
        return
    # Taking the head (one UPDATE) is the lock; RETURNING gives the link to build on.
    taken = session.execute(
        update(AuditChain)
        .where(AuditChain.id == HEAD_ID)
        .values(head_seq=AuditChain.head_seq + len(unlinked))
        .returning(AuditChain.head_seq, AuditChain.head_hash)
        .execution_options(synchronize_session=False)
    ).one()
    seq = taken.head_seq - len(unlinked)
    previous: str = taken.head_hash
    for audit_event in unlinked:
        seq += 1
        previous = link_hash(
            previous,
            seq,
            audit_event.at,
            audit_event.actor,
            audit_event.action,
            audit_event.target,
            audit_event.changes,
        )
        audit_event.chain_seq, audit_event.chain_hash = seq, previous
    session.execute(
        update(AuditChain)
        .where(AuditChain.id == HEAD_ID)
        .values(head_hash=previous)
        .execution_options(synchronize_session=False)
    )


def _forget_unlinked(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed or not
        session.info.pop(UNLINKED_KEY, None)


event.listen(Session, "before_commit", _link_pending)
event.listen(Session, "after_transaction_end", _forget_unlinked)


def queue_for_chain(session: AsyncSession, audit_event: AuditEvent) -> None:
    """Have `audit_event` linked into the chain when `session` commits."""
    session.info.setdefault(UNLINKED_KEY, []).append(audit_event)


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A link of the chain: verification can go on from here."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the stored events no longer match the chain."""

    event_id: int | None
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int  # links verified
    end: ChainPoint  # the last link verified (or the starting point)
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


_LINK_COLUMNS = (
    AuditEvent.id,
    AuditEvent.chain_seq,
    AuditEvent.chain_hash,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.changes,
)


async def verify_chain(session: AsyncSession, since: ChainPoint | None = None) -> ChainReport:
    """Walk the chain (from its start, or on from `since`) and report the first break.

    A break is an event whose hash does not match (edited, or moved to another place),
    a gap in the links (deleted events), a newest link that is not the head (the
    newest events deleted), or an event recorded outside the chain after it started.
    Hashing runs in a thread: a million links take seconds of CPU.
    """
    head = await session.get_one(AuditChain, HEAD_ID, populate_existing=True)
    start = since or ChainPoint(head.pruned_through_seq, head.anchor_hash)
    point, checked = start, 0
    connection = await session.connection()
    while point.seq < head.head_seq:
        bounds = {"after": point.seq, "through": head.head_seq, "limit": VERIFY_BATCH}
        rows = await fetch_rows(connection, _NEXT_LINKS, bounds)
        if not rows:
            break
        point, verified, broken = await asyncio.to_thread(_verify_links, point, rows)
        checked += verified
        if broken is not None:
            return ChainReport(checked, point, broken)
    if point.seq < head.head_seq:
        reason = f"the newest events (links {point.seq + 1} to {head.head_seq}) are missing"
        return ChainReport(checked, point, ChainBreak(None, point.seq + 1, reason))
    if point.seq == head.head_seq and point.hash != head.head_hash:
        reason = "the newest event does not match the chain's head"
        return ChainReport(checked, point, ChainBreak(None, point.seq, reason))
    stray = await _first_unlinked_after_start(session)
    if stray is not None:
        reason = f"event {stray} was written outside the chain"
        return ChainReport(checked, point, ChainBreak(stray, point.seq, reason))
    return ChainReport(checked, point, None)


# The next links after one, in order (sent straight through the driver: a million rows).
_NEXT_LINKS = (
    select(*_LINK_COLUMNS)
    .where(AuditEvent.chain_seq > bindparam("after"), AuditEvent.chain_seq <= bindparam("through"))
    .order_by(AuditEvent.chain_seq)
    .limit(bindparam("limit"))
)


def _verify_links(
    point: ChainPoint, rows: Sequence[Sequence[Any]]
) -> tuple[ChainPoint, int, ChainBreak | None]:
    for checked, row in enumerate(rows):
        event_id, seq, stored_hash, at, actor, action, target, changes = row
        if seq != point.seq + 1:
            missing = f"links {point.seq + 1} to {seq - 1}"
            reason = f"events before event {event_id} are missing ({missing})"
            return point, checked, ChainBreak(event_id, point.seq + 1, reason)
        # Straight from asyncpg a JSON column is its text; through SQLAlchemy, decoded.
        decoded = json.loads(changes) if isinstance(changes, str) else changes
        expected = link_hash(point.hash, seq, at, actor, action, target, decoded)
        if expected != stored_hash:
            reason = f"event {event_id} does not match its hash (edited, or moved in the chain)"
            return point, checked, ChainBreak(event_id, seq, reason)
        point = ChainPoint(seq, expected)
    return point, len(rows), None


async def _first_unlinked_after_start(session: AsyncSession) -> int | None:
    first_linked = (
        select(AuditEvent.id)
        .where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq)
        .limit(1)
        .scalar_subquery()
    )
    return await session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.chain_seq.is_(None), AuditEvent.id > first_linked)
        .order_by(AuditEvent.id)
        .limit(1)
    )
