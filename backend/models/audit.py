"""Audit events: who did what to which target, and which fields changed.

Each event since revision 0004 is a link of a hash chain (`chain_seq`, `chain_hash`):
its hash covers its content and the previous link's hash, and `AuditChain` holds the
newest link (and where a prune cut the chain), so an edited, deleted or reordered
event no longer matches (backend.services.audit_chain).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base, UTCDateTime, utcnow
from backend.models.user import ID_TYPE

# The previous hash of the first link: 64 zeros, the length of a SHA-256 hex digest.
GENESIS_HASH = "0" * 64
HASH_LENGTH = 64


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target_id", "target", "id"),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_id", "actor", "id"),
        Index("ix_audit_events_action_id", "action", "id"),
        # Unique: two writers that ever took the same link would fail, not fork the chain.
        Index("ix_audit_events_chain_seq", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="", server_default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # NULL on events written before the chain existed (revision 0004).
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    chain_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True)


class AuditChain(Base):
    """One row (id 1): the newest link, and the link a prune last cut the chain after."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), server_default=GENESIS_HASH)
    pruned_through_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    anchor_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), server_default=GENESIS_HASH)
