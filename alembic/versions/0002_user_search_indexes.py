"""Indexes for the Users screen: search, the last-login sort, staff roles, locked accounts.

On PostgreSQL, substring search (three characters or more) uses pg_trgm GIN indexes;
shorter terms match the start of the email, through the email btrees. SQLite uses
plain LIKE. On both, partial indexes serve the never-logged-in tail of the last-login
sort, the (rare) locked accounts, and the (few) staff accounts in date order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Reviewed lint findings (backend/services/migrations/lint.py): rule -> why it is safe here.
lint_acknowledged = {
    "index-not-concurrent": "Built with the schema's first release, before users held many "
    "rows; CONCURRENTLY cannot run inside the revision's transaction.",
}

# Both dialects: the two-phase last-login walk and the locked filter.
STAFF = "role IN ('admin', 'support')"
PORTABLE_INDEXES = {
    "ix_users_never_logged_in_id": (["id"], "last_login_at IS NULL"),
    "ix_users_locked_until": (["locked_until"], "locked_until IS NOT NULL"),
    "ix_users_staff_created_at_id": (["created_at", "id"], STAFF),
    "ix_users_staff_last_login_at_id": (["last_login_at", "id"], STAFF),
}
# PostgreSQL only: name -> CREATE INDEX body after "ON users".
POSTGRES_INDEXES = {
    "ix_users_email_trgm": "USING gin (email gin_trgm_ops)",
    "ix_users_full_name_trgm": "USING gin (lower(full_name) gin_trgm_ops)",
    # Short terms outside [a-z0-9] cannot use a range on the email index; LIKE 'x%' can.
    "ix_users_email_prefix": "(email varchar_pattern_ops)",
}


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for name, (columns, where) in PORTABLE_INDEXES.items():
        # Partial indexes: PostgreSQL and SQLite both have them.
        op.create_index(
            name,
            "users",
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    if _is_postgresql():
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, body in POSTGRES_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON users {body}")


def downgrade() -> None:
    if _is_postgresql():
        for name in POSTGRES_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        # The extension stays: other objects in the database may rely on it.
    for name in PORTABLE_INDEXES:
        op.drop_index(name, table_name="users")
