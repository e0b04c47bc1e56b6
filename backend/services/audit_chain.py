"""The audit log's hash chain: appended at commit, verified, cut by a prune.

Each event's `chain_hash` is an HMAC (backend.services.audit_key) over the previous
link's hash and the event's own content (its place in the chain, time, actor, action,
target, changes), and `chain_key_id` names the key that signed it. The links are
appended when the writing transaction commits: the chain's one head row
(`audit_chain`) is updated first, which serialises appends on PostgreSQL (a row lock
until that commit) and on SQLite (its write lock), so concurrent writers queue for the
head and never fork the chain. Taking it last keeps the wait short and never deadlocks
with the row locks the write itself took.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, event, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from backend.models import AuditChain, AuditEvent
from backend.services.audit_key import ChainKey, active_key, link_content
from backend.services.driver_sql import fetch_rows

# session.info key: the events this transaction recorded, in order, not yet linked.
UNLINKED_KEY = "audit_unlinked_events"
HEAD_ID = 1
VERIFY_BATCH = 2000  # rows decoded on the event loop at a time: ~7 ms
REANCHOR_HINT = "`backend-console audit reanchor` signs the chain again with this key"


def link_hash(
    previous: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    changes: Any,
    *,
    key: ChainKey | None = None,
) -> str:
    """The hash of one link (its content and the previous link's hash), signed with
    `key` (this process's key by default)."""
    return (key or active_key()).link_hash(
        previous, link_content(seq, at, actor, action, target, changes)
    )


def _link_pending(session: Session) -> None:
    queued: list[AuditEvent] = session.info.pop(UNLINKED_KEY, [])
    # An event a rolled-back savepoint took out of the session takes no link.
    unlinked = [audit_event for audit_event in queued if audit_event in session]
    if not unlinked:
        return
    key = active_key()
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
            key=key,
        )
        audit_event.chain_seq, audit_event.chain_hash = seq, previous
        audit_event.chain_key_id = key.key_id
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


class BreakKind(StrEnum):
    EDITED = "edited"  # a link does not match its hash, or the head
    MISSING = "missing"  # links are gone: deleted events
    OTHER_KEY = "other_key"  # signed with a key this SECRET_KEY does not give
    UNSIGNED = "unsigned"  # a link made before the chain was keyed (revision 0005)
    OUTSIDE = "outside"  # an event with no link at all


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the stored events no longer match the chain."""

    event_id: int | None
    seq: int
    reason: str
    kind: BreakKind = BreakKind.EDITED


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int  # links verified
    end: ChainPoint  # the last link verified (or the starting point)
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


# What a link is made of, as verify and re-anchoring read it.
LINK_COLUMNS = (
    AuditEvent.id,
    AuditEvent.chain_seq,
    AuditEvent.chain_hash,
    AuditEvent.chain_key_id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.changes,
)


async def verify_chain(session: AsyncSession, since: ChainPoint | None = None) -> ChainReport:
    """Walk the chain (from its start, or on from `since`) and report the first break.

    A break is an event whose hash does not match (edited, or moved to another place),
    a link signed with another key (SECRET_KEY changed) or not signed at all, a gap in
    the links (deleted events), a newest link that is not the head (the newest events
    deleted), a head behind `since` (the newest events deleted, the head moved back
    to match), or an event with no link. Hashing runs in a thread: a million links take
    seconds of CPU. Raises ConfigError when SECRET_KEY is unusable.
    """
    connection = await session.connection()
    [(head_seq, head_hash, pruned_through, anchor, stray)] = await fetch_rows(
        connection, _HEAD, {"head_id": HEAD_ID}
    )
    point, checked = since or ChainPoint(pruned_through, anchor), 0
    if point.seq > head_seq:  # a link verified before is no longer in the chain
        reason = f"the chain's head moved back from link {point.seq} to {head_seq}"
        return ChainReport(0, point, ChainBreak(None, head_seq + 1, reason, BreakKind.MISSING))
    while point.seq < head_seq:
        bounds = {"after": point.seq, "through": head_seq, "limit": VERIFY_BATCH}
        rows = await fetch_rows(connection, _NEXT_LINKS, bounds)
        if not rows:
            break
        point, verified, broken = await asyncio.to_thread(_verify_links, point, rows)
        checked += verified
        if broken is not None:
            return ChainReport(checked, point, broken)
    if point.seq < head_seq:
        reason = f"the newest events (links {point.seq + 1} to {head_seq}) are missing"
        broken = ChainBreak(None, point.seq + 1, reason, BreakKind.MISSING)
        return ChainReport(checked, point, broken)
    if point.seq == head_seq and point.hash != head_hash:
        reason = "the newest event does not match the chain's head"
        return ChainReport(checked, point, ChainBreak(None, point.seq, reason))
    if stray is not None:
        reason = f"event {stray} was written outside the chain"
        return ChainReport(checked, point, ChainBreak(stray, point.seq, reason, BreakKind.OUTSIDE))
    return ChainReport(checked, point, None)


# The next links after one, in order (sent straight through the driver: a million rows).
_NEXT_LINKS = (
    select(*LINK_COLUMNS)
    .where(AuditEvent.chain_seq > bindparam("after"), AuditEvent.chain_seq <= bindparam("through"))
    .order_by(AuditEvent.chain_seq)
    .limit(bindparam("limit"))
)
# The head, and the first event without a link: every event is a link once committed,
# one without is someone else's write.
_FIRST_UNLINKED = (
    select(AuditEvent.id)
    .where(AuditEvent.chain_seq.is_(None))
    .order_by(AuditEvent.id)
    .limit(literal_column("1"))
    .scalar_subquery()
)
_HEAD = select(
    AuditChain.head_seq,
    AuditChain.head_hash,
    AuditChain.pruned_through_seq,
    AuditChain.anchor_hash,
    _FIRST_UNLINKED,
).where(AuditChain.id == bindparam("head_id"))


def _verify_links(
    point: ChainPoint, rows: Sequence[Sequence[Any]]
) -> tuple[ChainPoint, int, ChainBreak | None]:
    key = active_key()
    for checked, row in enumerate(rows):
        event_id, seq, stored_hash, key_id, at, actor, action, target, changes = row
        broken: ChainBreak | None = None
        if seq != point.seq + 1:
            missing = f"links {point.seq + 1} to {seq - 1}"
            reason = f"events before event {event_id} are missing ({missing})"
            broken = ChainBreak(event_id, point.seq + 1, reason, BreakKind.MISSING)
        elif key_id != key.key_id:
            broken = _not_signed_with(key, event_id, seq, key_id)
        else:
            # Straight from asyncpg a JSON column is its text; through SQLAlchemy, decoded.
            decoded = json.loads(changes) if isinstance(changes, str) else changes
            expected = link_hash(point.hash, seq, at, actor, action, target, decoded, key=key)
            if expected != stored_hash:
                reason = f"event {event_id} does not match its hash (edited, or moved in the chain)"
                broken = ChainBreak(event_id, seq, reason)
        if broken is not None:
            return point, checked, broken
        point = ChainPoint(seq, stored_hash)
    return point, len(rows), None


def _not_signed_with(key: ChainKey, event_id: int, seq: int, key_id: str | None) -> ChainBreak:
    if key_id is None:
        reason = f"event {event_id} was linked before the chain was keyed; {REANCHOR_HINT}"
        return ChainBreak(event_id, seq, reason, BreakKind.UNSIGNED)
    reason = (
        f"event {event_id} is signed with another key (key id {key_id}, this SECRET_KEY's is "
        f"{key.key_id}): if SECRET_KEY was changed, {REANCHOR_HINT}"
    )
    return ChainBreak(event_id, seq, reason, BreakKind.OTHER_KEY)
