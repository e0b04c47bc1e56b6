"""User accounts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base, UTCDateTime, utcnow

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID_TYPE = BigInteger().with_variant(Integer, "sqlite")


class Role(StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    USER = "user"


_STAFF = "role IN ('admin', 'support')"
_NEVER_LOGGED_IN = "last_login_at IS NULL"
_LOCKED = "locked_until IS NOT NULL"
_INACTIVE = "NOT is_active"

# PostgreSQL's options for the indexes below. Given to Index() they would make
# SQLAlchemy import its PostgreSQL dialect (~50 ms) in every process, the console
# starting on SQLite included; use_postgresql_index_options() attaches them once a
# PostgreSQL database is opened (backend.database).
POSTGRESQL_INDEX_OPTIONS: dict[str, dict[str, object]] = {
    "ix_users_never_logged_in_id": {"where": text(_NEVER_LOGGED_IN)},
    "ix_users_locked_until": {"where": text(_LOCKED)},
    "ix_users_inactive_id": {"where": text(_INACTIVE)},
    "ix_users_staff_created_at_id": {"where": text(_STAFF)},
    "ix_users_staff_last_login_at_id": {"where": text(_STAFF)},
    "ix_users_email_trgm": {"using": "gin", "ops": {"email": "gin_trgm_ops"}},
    "ix_users_full_name_trgm": {"using": "gin", "ops": {"lower_full_name": "gin_trgm_ops"}},
    "ix_users_email_prefix": {"ops": {"email": "varchar_pattern_ops"}},
}


def _partial_index(name: str, columns: tuple[str, ...], where: str) -> Index:
    return Index(name, *columns, sqlite_where=text(where))


def postgresql_only(index: Index) -> Index:
    """An index that exists on PostgreSQL only (`info["dialect"]` tells Alembic's compare)."""
    index.info["dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'support', 'user')", name="role_known"),
        # Keyset paging orders by (column, id); each sort needs its own index.
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_last_login_at_id", "last_login_at", "id"),
        Index("ix_users_role_email", "role", "email"),
        # Migration 0002: the never-logged-in tail of the last-login sort, locked accounts,
        # staff accounts in date order, and (PostgreSQL only) search over email and name.
        _partial_index("ix_users_never_logged_in_id", ("id",), _NEVER_LOGGED_IN),
        _partial_index("ix_users_locked_until", ("locked_until",), _LOCKED),
        _partial_index("ix_users_staff_created_at_id", ("created_at", "id"), _STAFF),
        _partial_index("ix_users_staff_last_login_at_id", ("last_login_at", "id"), _STAFF),
        # Migration 0004: the Dashboard counts active accounts as total minus these (few).
        _partial_index("ix_users_inactive_id", ("id",), _INACTIVE),
        postgresql_only(Index("ix_users_email_trgm", "email")),
        postgresql_only(
            Index("ix_users_full_name_trgm", func.lower(text("full_name")).label("lower_full_name"))
        ),
        postgresql_only(Index("ix_users_email_prefix", "email")),
        # Migration 0003: SQLite's rowid would hand a deleted user's id (and with it
        # their tokens and audit lines) to the next account; AUTOINCREMENT never does.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    # Stored lower-cased by the service layer, so this unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    hashed_password: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER, server_default=Role.USER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    tokens_valid_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # Optimistic locking: every UPDATE says WHERE version = <the version we read>.
    __mapper_args__ = {"version_id_col": version}

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r}, role={self.role!r})"


def use_postgresql_index_options() -> None:
    """Attach PostgreSQL's index options (again is harmless): POSTGRESQL_INDEX_OPTIONS, and
    those an index of another table carries in `info["postgresql_options"]`."""
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            options = {
                **POSTGRESQL_INDEX_OPTIONS.get(str(index.name), {}),
                **index.info.get("postgresql_options", {}),
            }
            for option, value in options.items():
                index.dialect_options["postgresql"][option] = value
