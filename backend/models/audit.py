"""Audit events: who did what to which target, and which fields changed.

Each event is a link of a keyed hash chain (`chain_seq`, `chain_hash`, `chain_key_id`):
its HMAC covers its content and the previous link's hash, and `AuditChain` holds the
newest link (and where a prune cut the chain), so an edited, deleted or reordered
event no longer matches (backend.services.audit_chain, backend.services.audit_key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    String,
    cast,
    func,
    type_coerce,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.expression import literal_column

from backend.database import Base, UTCDateTime, utcnow
from backend.models.user import ID_TYPE, postgresql_only

# The previous hash of the first link: 64 zeros, the length of a SHA-256 hex digest.
GENESIS_HASH = "0" * 64
HASH_LENGTH = 64
KEY_ID_LENGTH = 16  # hex characters of a key's fingerprint: 64 bits tell keys apart
SEARCH_INDEX = "ix_audit_events_search_trgm"
# A line break between the fields: a search term (one line) never spans two of them.
_FIELD_BREAK = literal_column("'\n'", String)


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
    # NULL only until the event is linked (at commit); revision 0005 linked the older ones.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    chain_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True)
    # The fingerprint of the key the link was signed with (audit_key.ChainKey.key_id).
    chain_key_id: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH), nullable=True)


def searchable_text(event: Any = AuditEvent) -> ColumnElement[str]:
    """What the Audit screen's free text matches: actor, action, target and changes,
    lower-cased, in one expression (PostgreSQL's trigram index is built on exactly it).

    `event` is the mapped class, or a table's columns (`Table.c`) for the index.
    """
    fields = (_FIELD_BREAK, event.action, _FIELD_BREAK, event.target, _FIELD_BREAK)
    text: ColumnElement[str] = event.actor
    for field in fields:
        # Parenthesised as PostgreSQL shows the index's expression, ((a || b) || c):
        # Alembic compares the models' index with the database's as text.
        text = type_coerce(Grouping(text + field), String)
    return func.lower(text + cast(event.changes, String))


# Revision 0005, PostgreSQL only (pg_trgm): free text without a scan of the table.
postgresql_only(
    Index(
        SEARCH_INDEX,
        searchable_text(AuditEvent.__table__.c).label("search_text"),
        info={"postgresql_options": {"using": "gin", "ops": {"search_text": "gin_trgm_ops"}}},
    )
)


class AuditChain(Base):
    """One row (id 1): the newest link, and the link a prune last cut the chain after."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), server_default=GENESIS_HASH)
    pruned_through_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    anchor_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), server_default=GENESIS_HASH)
