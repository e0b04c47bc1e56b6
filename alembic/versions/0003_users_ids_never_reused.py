"""Ids are never reused on SQLite: the users table becomes AUTOINCREMENT.

A plain INTEGER PRIMARY KEY hands the next insert max(id) + 1, so deleting the newest
user gave their id (their tokens, their audit lines) to the next account. AUTOINCREMENT
keeps the highest id ever used in sqlite_sequence. SQLite cannot alter a table's key,
so the table is rebuilt (batch mode: copy, drop, rename, indexes again), keeping every
row. The counter starts above any id the audit trail or a revocation still names, so an
id deleted before this migration is not handed out again either.

PostgreSQL's identity sequence never reuses an id: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.database import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Reviewed lint findings (backend/services/migrations/lint.py): rule -> why it is safe here.
lint_acknowledged = {
    "table-rebuild": "SQLite only, where the embedded database is one operator's: there is no "
    "busy table to lock, and SQLite cannot change a table's key any other way.",
}

STAFF = "role IN ('admin', 'support')"
# The counter starts at the highest user id anything names: a row, an audit target
# "user:N", a revocation.
SET_COUNTER = """
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', max(
    coalesce((SELECT max(id) FROM users), 0),
    coalesce((SELECT max(CAST(substr(target, 6) AS INTEGER)) FROM audit_events
              WHERE target LIKE 'user:%'), 0),
    coalesce((SELECT max(user_id) FROM revoked_tokens), 0)
)
"""


def _users_as_of_0002() -> sa.Table:
    """The users table as revisions 0001 and 0002 left it on SQLite (batch mode's model:
    the migration must not change when the models do, and --sql cannot reflect)."""
    table = sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("hashed_password", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="user"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.Column("failed_login_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("tokens_valid_after", UTCDateTime(), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'support', 'user')", name="ck_users_role_known"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    sa.Index("ix_users_created_at_id", table.c.created_at, table.c.id)
    sa.Index("ix_users_last_login_at_id", table.c.last_login_at, table.c.id)
    sa.Index("ix_users_role_email", table.c.role, table.c.email)
    partial = {
        "ix_users_never_logged_in_id": (("id",), "last_login_at IS NULL"),
        "ix_users_locked_until": (("locked_until",), "locked_until IS NOT NULL"),
        "ix_users_staff_created_at_id": (("created_at", "id"), STAFF),
        "ix_users_staff_last_login_at_id": (("last_login_at", "id"), STAFF),
    }
    for name, (columns, where) in partial.items():
        sa.Index(name, *(table.c[c] for c in columns), sqlite_where=sa.text(where))
    return table


def _rebuild_users(*, autoincrement: bool) -> None:
    with op.batch_alter_table(
        "users",
        recreate="always",
        copy_from=_users_as_of_0002(),
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild_users(autoincrement=True)
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'users'")
    op.execute(SET_COUNTER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild_users(autoincrement=False)
