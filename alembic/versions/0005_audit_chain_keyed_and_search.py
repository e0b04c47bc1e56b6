"""The audit chain keyed from SECRET_KEY and covering every event; free-text search indexed.

Each link becomes an HMAC keyed from SECRET_KEY (backend/services/audit_key.py) and
records the key's fingerprint in `chain_key_id`, so that only a holder of the key can
make or remake a link. The upgrade checks the chain as revision 0004 made it (plain
SHA-256), links the events written before 0004 in front of it in id order, and signs
every link with the key of the SECRET_KEY it runs with (the application's: run it with
the same settings as the server). If something does not check (an edited or missing
link), nothing is signed: `audit verify` names it and `audit reanchor` decides. Offline
(`--sql`) only the schema changes; `audit reanchor` signs the chain afterwards.

On PostgreSQL, a pg_trgm GIN index serves the Audit screen's free text (one expression
over actor, action, target and changes: backend.models.audit.searchable_text); SQLite
scans for it, as before.

The downgrade hashes the chain again as 0004 did (no key) and drops the column.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.services import audit_relink
from backend.services.audit_key import active_key

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Reviewed lint findings (backend/services/migrations/lint.py): rule -> why it is safe here.
lint_acknowledged = {
    "index-not-concurrent": "The search index lands in the same transaction as the chain's "
    "new column and signatures, so a failed upgrade leaves none of them; CONCURRENTLY cannot "
    "run inside it. Audit writes wait while it builds (~15 s at a million events).",
}

logger = logging.getLogger(__name__)

SEARCH_INDEX = "ix_audit_events_search_trgm"
# Exactly backend.models.audit.searchable_text(), so that the listing's query uses it.
SEARCH_EXPRESSION = (
    "lower((((((actor || '\n') || action) || '\n') || target) || '\n') || CAST(changes AS VARCHAR))"
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _online() -> bool:
    return not op.get_context().as_sql


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("chain_key_id", sa.String(16), nullable=True))
    if _online():
        _sign_the_chain()
    if _is_postgresql():
        # After the signing: built once over the rows it leaves, not kept up row by row.
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX {SEARCH_INDEX} ON audit_events "
            f"USING gin ({SEARCH_EXPRESSION} gin_trgm_ops)"
        )


def _sign_the_chain() -> None:
    connection = op.get_bind()
    audit_relink.lock_head(connection)
    key = active_key()
    survey = audit_relink.survey_chain(connection, key, previous=None)
    if survey.needs_acceptance:
        logger.warning(
            "The audit chain was not signed: %s. `backend-console audit verify` names the "
            "event; `backend-console audit reanchor` signs the chain once you accept it.",
            survey.problem or "some events cannot be checked",
        )
        return
    audit_relink.sign_again(connection, key)


def downgrade() -> None:
    if _online():
        audit_relink.sign_unkeyed(op.get_bind())
    if _is_postgresql():
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        # The extension stays: other objects (the users' search indexes) rely on it.
    op.drop_column("audit_events", "chain_key_id")
