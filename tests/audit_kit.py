"""What audit tests share: re-linking the chain after a test moved events in time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditChain, AuditEvent
from backend.services.audit_chain import HEAD_ID, link_hash


async def relink_chain(session: AsyncSession) -> None:
    """Hash every link again from the chain's start (after `at` was pinned by hand)."""
    head = await session.get_one(AuditChain, HEAD_ID)
    previous = head.anchor_hash
    linked = select(AuditEvent).where(AuditEvent.chain_seq.is_not(None))
    for event in (await session.scalars(linked.order_by(AuditEvent.chain_seq))).all():
        assert event.chain_seq is not None
        content = (event.at, event.actor, event.action, event.target, event.changes)
        previous = link_hash(previous, event.chain_seq, *content)
        event.chain_hash = previous
    head.head_hash = previous
    await session.commit()
