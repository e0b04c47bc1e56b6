"""Signing the audit chain again: after SECRET_KEY changed, and for links made before it
was keyed.

The chain is first checked link by link with the key each link names: this SECRET_KEY's,
the previous one's (when given), or none (a link of revision 0004: plain SHA-256).
Events with no link at all that are older than the chain (written before revision 0004)
go in front of its first link, in id order. Then every link is signed again with this
key, numbered on from the anchor, in the caller's transaction under the head's lock.

Whatever cannot be checked (a link signed with a key not given, a link that does not
match, links that are gone, an event written outside the chain after it began) is signed
again only when the caller accepts it: signing would vouch for it. Revision 0005 signs
the chain when everything checks, and otherwise leaves it for `audit reanchor`.

This runs synchronously on a Connection (inside an Alembic revision, or through
`run_sync`); the hashing goes to a thread when an event loop is underneath.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, bindparam, func, select, text, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from backend.models import AuditChain, AuditEvent
from backend.services.audit_chain import HEAD_ID, LINK_COLUMNS
from backend.services.audit_key import ChainKey, link_content, unkeyed_link_hash

T = TypeVar("T")
BATCH = 5000
Signer = Callable[[str, bytes], str]


@dataclass(frozen=True, slots=True)
class ChainSurvey:
    """What checking the chain found, before anything is signed again."""

    links: int  # links in the chain now
    checked: int  # links that match the key they name (or plain SHA-256 before 0005)
    current: int  # of those, signed with this SECRET_KEY's key already
    unverifiable: int  # signed with a key that was not given: cannot be checked
    older_unlinked: int  # events from before the chain: they go in front of it
    strays: int  # events without a link written after the chain began
    problem: str | None  # the first link that does not match, or links that are gone

    @property
    def needs_acceptance(self) -> bool:
        """Signing again would vouch for something that could not be checked."""
        return bool(self.unverifiable or self.strays or self.problem)

    @property
    def up_to_date(self) -> bool:
        """Every event is a link signed with this key and matching: nothing to do."""
        return self.current == self.links and not (self.older_unlinked or self.needs_acceptance)

    def described(self) -> dict[str, Any]:
        """The figures, for the audit event that records a re-anchoring."""
        return {
            "links": self.links,
            "checked": self.checked,
            "unverifiable": self.unverifiable,
            "linked_older_events": self.older_unlinked,
            "strays": self.strays,
            "problem": self.problem,
        }


def survey_chain(connection: Connection, key: ChainKey, previous: ChainKey | None) -> ChainSurvey:
    """Check every link with the key it names (`previous`: the SECRET_KEY before this one)."""
    signers: dict[str | None, Signer] = {key.key_id: key.link_hash, None: unkeyed_link_hash}
    if previous is not None:
        signers.setdefault(previous.key_id, previous.link_hash)
    head = _head(connection)
    walk = _LinkWalk(head.pruned_through_seq, head.anchor_hash, signers, key.key_id)
    after = head.pruned_through_seq
    while rows := connection.execute(_LINKS_AFTER, {"after": after, "limit": BATCH}).all():
        _off_the_loop(partial(walk.check, rows))
        after = rows[-1].chain_seq
    if walk.problem is None and (walk.seq, walk.previous) != (head.head_seq, head.head_hash):
        walk.problem = f"the newest links (after link {walk.seq}) are missing or moved"
    older, strays = _unlinked(connection)
    return ChainSurvey(
        walk.links, walk.checked, walk.current, walk.unverifiable, older, strays, walk.problem
    )


def sign_again(connection: Connection, key: ChainKey) -> int:
    """Sign every event with `key` as one chain: the older unlinked events first (by id),
    then the links in their order, then any stray (by id). Returns the links signed."""
    return _rewrite(connection, key.link_hash, key.key_id)


def sign_unkeyed(connection: Connection) -> int:
    """Hash every link as revision 0004 did (plain SHA-256, no key): 0005's downgrade."""
    return _rewrite(connection, unkeyed_link_hash, None)


def lock_head(connection: Connection) -> None:
    """Hold the chain's head (a no-op UPDATE) until the transaction ends: no link is
    appended meanwhile."""
    connection.execute(
        update(AuditChain).where(AuditChain.id == HEAD_ID).values(head_seq=AuditChain.head_seq)
    )


class _LinkWalk:
    """The chain checked batch by batch: counts and the first problem."""

    def __init__(
        self, seq: int, previous: str, signers: dict[str | None, Signer], current_id: str
    ) -> None:
        self.seq, self.previous = seq, previous
        self.signers, self.current_id = signers, current_id
        self.links = self.checked = self.current = self.unverifiable = 0
        self.problem: str | None = None

    def check(self, rows: Sequence[Row[Any]]) -> None:
        for row in rows:
            self.links += 1
            if self.problem is None and row.chain_seq != self.seq + 1:
                self.problem = f"links {self.seq + 1} to {row.chain_seq - 1} are missing"
            sign = self.signers.get(row.chain_key_id)
            if sign is None:
                self.unverifiable += 1
            elif sign(self.previous, _content(row, row.chain_seq)) == row.chain_hash:
                self.checked += 1
                self.current += row.chain_key_id == self.current_id
            elif self.problem is None:
                self.problem = f"event {row.id} does not match its hash (edited, or moved)"
            self.seq, self.previous = row.chain_seq, row.chain_hash


def _rewrite(connection: Connection, sign: Signer, key_id: str | None) -> int:
    head = _head(connection)
    first_linked = connection.scalar(select(func.min(AuditEvent.id)).where(_linked()))
    renumbered = _needs_renumbering(connection, head.pruned_through_seq)
    if renumbered:
        # Out of the way first (a unique index): the links, negated, keep their order.
        negated = update(AuditEvent).where(_linked()).values(chain_seq=-AuditEvent.chain_seq)
        connection.execute(negated)
    seq, previous = head.pruned_through_seq, head.anchor_hash
    for rows in _events_in_chain_order(connection, first_linked, renumbered):
        links = _off_the_loop(partial(_sign, rows, seq, previous, sign))
        _store(connection, links, key_id)
        seq, previous = links[-1].seq, links[-1].hash
    connection.execute(
        update(AuditChain).where(AuditChain.id == HEAD_ID).values(head_seq=seq, head_hash=previous)
    )
    return seq - head.pruned_through_seq


def _needs_renumbering(connection: Connection, pruned_through: int) -> bool:
    """Whether any link moves: events go in front of the chain, or links are gone."""
    seqs = AuditEvent.chain_seq
    lowest, highest, count = connection.execute(
        select(func.min(seqs), func.max(seqs), func.count(seqs)).where(_linked())
    ).one()
    contiguous = count == 0 or (lowest, highest) == (pruned_through + 1, pruned_through + count)
    return not contiguous or any(_unlinked(connection))


def _events_in_chain_order(
    connection: Connection, first_linked: int | None, renumbered: bool
) -> Iterator[Sequence[Row[Any]]]:
    """Batches of events in their new order: the unlinked ones older than the chain, its
    links, then any stray. Each batch is linked before the next is read (a linked event
    no longer matches the conditions that found it)."""
    unlinked = AuditEvent.chain_seq.is_(None)
    older = [unlinked] if first_linked is None else [unlinked, AuditEvent.id < first_linked]
    yield from _batches(connection, select(*LINK_COLUMNS).where(*older).order_by(AuditEvent.id))
    if renumbered:
        negated = AuditEvent.chain_seq < 0
        links = select(*LINK_COLUMNS).where(negated).order_by(AuditEvent.chain_seq.desc())
        yield from _batches(connection, links)
    else:  # each link keeps its place: walk on from the last one
        after = -1
        while rows := connection.execute(_LINKS_AFTER, {"after": after, "limit": BATCH}).all():
            yield rows
            after = rows[-1].chain_seq
    yield from _batches(connection, select(*LINK_COLUMNS).where(unlinked).order_by(AuditEvent.id))


def _batches(connection: Connection, query: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
    while rows := connection.execute(query.limit(BATCH)).all():
        yield rows


class _Link(NamedTuple):
    event_id: int
    seq: int
    hash: str


def _sign(rows: Sequence[Row[Any]], seq: int, previous: str, sign: Signer) -> list[_Link]:
    """The new links of `rows`, numbered on from `seq`, each signed onto the one before."""
    links = []
    for row in rows:
        seq += 1
        previous = sign(previous, _content(row, seq))
        links.append(_Link(row.id, seq, previous))
    return links


def _store(connection: Connection, links: list[_Link], key_id: str | None) -> None:
    if connection.dialect.name == "postgresql":
        # One statement per batch: a million single-row updates took minutes.
        ids, seqs, hashes = (list(column) for column in zip(*links, strict=True))
        values = {"ids": ids, "seqs": seqs, "hashes": hashes, "key_id": key_id}
        connection.execute(_SET_LINKS_POSTGRESQL, values)
        return
    rows = [
        {"event_id": i, "link_seq": s, "link_hash": h, "link_key_id": key_id} for i, s, h in links
    ]
    connection.execute(_SET_LINK, rows)


def _content(row: Row[Any], seq: int) -> bytes:
    return link_content(seq, row.at, row.actor, row.action, row.target, row.changes)


class _Head(NamedTuple):
    head_seq: int
    head_hash: str
    pruned_through_seq: int
    anchor_hash: str


def _head(connection: Connection) -> _Head:
    columns = (AuditChain.head_seq, AuditChain.head_hash)
    start = (AuditChain.pruned_through_seq, AuditChain.anchor_hash)
    row = connection.execute(select(*columns, *start).where(AuditChain.id == HEAD_ID)).one()
    return _Head(*row)


def _linked() -> Any:
    return AuditEvent.chain_seq.is_not(None)


def _unlinked(connection: Connection) -> tuple[int, int]:
    """(events older than the chain's first link, events after it) that have no link."""
    first_linked = select(func.min(AuditEvent.id)).where(_linked()).scalar_subquery()
    unlinked = AuditEvent.chain_seq.is_(None)
    older = connection.scalar(
        select(func.count()).where(unlinked, func.coalesce(AuditEvent.id < first_linked, True))
    )
    total = connection.scalar(select(func.count()).where(unlinked))
    return int(older or 0), int((total or 0) - (older or 0))


_LINKS_AFTER = (
    select(*LINK_COLUMNS)
    .where(AuditEvent.chain_seq > bindparam("after"))
    .order_by(AuditEvent.chain_seq)
    .limit(bindparam("limit"))
)
_SET_LINKS_POSTGRESQL = text(
    "UPDATE audit_events SET chain_seq = v.seq, chain_hash = v.hash,"
    " chain_key_id = CAST(:key_id AS VARCHAR)"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:seqs AS BIGINT[]), CAST(:hashes AS VARCHAR[]))"
    " AS v(id, seq, hash) WHERE audit_events.id = v.id"
)
_SET_LINK = (
    update(AuditEvent)
    .where(AuditEvent.id == bindparam("event_id"))
    .values(
        chain_seq=bindparam("link_seq"),
        chain_hash=bindparam("link_hash"),
        chain_key_id=bindparam("link_key_id"),
    )
)


def _off_the_loop(work: Callable[[], T]) -> T:
    """Hashing a batch is CPU work: in a thread when an event loop is underneath (the
    console runs migrations inside its own loop), so the loop keeps answering."""
    if in_greenlet():
        return await_only(asyncio.to_thread(work))
    return work()
