"""Revoked token ids (jti), kept until the token would have expired anyway."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base, UTCDateTime, utcnow


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # No foreign key: the entry must outlive a deleted user until the token expires.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
