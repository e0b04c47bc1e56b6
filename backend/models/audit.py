"""Audit events: who did what to which target, and which fields changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base, UTCDateTime, utcnow
from backend.models.user import ID_TYPE


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target_id", "target", "id"),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_id", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="", server_default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
