"""The audit log's hash chain and the indexes of the Audit screen and the Dashboard.

Every new audit event becomes a link of a hash chain: `chain_seq` (its place) and
`chain_hash` (SHA-256 over its content and the previous link's hash), both nullable
since earlier events predate the chain. `audit_chain` holds one row: the newest link
and where a prune last cut the chain. The Audit screen filters by action in id order;
the Dashboard counts inactive accounts (few) instead of active ones (most).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Reviewed lint findings (backend/services/migrations/lint.py): rule -> why it is safe here.
lint_acknowledged = {
    "index-not-concurrent": "The chain's columns, table and indexes land in one transaction, so "
    "a failed upgrade leaves none of them; CONCURRENTLY cannot run inside it. Writes to "
    "audit_events and users wait while the indexes build: upgrade a large log at a quiet time.",
}

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("head_hash", sa.String(64), server_default=GENESIS_HASH, nullable=False),
        sa.Column("pruned_through_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("anchor_hash", sa.String(64), server_default=GENESIS_HASH, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.bulk_insert(chain, [{"id": 1}])
    # Nullable columns and plain indexes: no table rewrite, on SQLite either.
    op.add_column("audit_events", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("chain_hash", sa.String(64), nullable=True))
    op.create_index("ix_audit_events_chain_seq", "audit_events", ["chain_seq"], unique=True)
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"])
    op.create_index(
        "ix_users_inactive_id",
        "users",
        ["id"],
        postgresql_where=sa.text("NOT is_active"),
        sqlite_where=sa.text("NOT is_active"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_inactive_id", table_name="users")
    op.drop_index("ix_audit_events_action_id", table_name="audit_events")
    op.drop_index("ix_audit_events_chain_seq", table_name="audit_events")
    # SQLite drops an unindexed column in place (3.35+), offline SQL included.
    op.drop_column("audit_events", "chain_hash")
    op.drop_column("audit_events", "chain_seq")
    op.drop_table("audit_chain")
