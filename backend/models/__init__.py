"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from backend.models.audit import AuditChain, AuditEvent
from backend.models.revoked_token import RevokedToken
from backend.models.user import Role, User

__all__ = ["AuditChain", "AuditEvent", "RevokedToken", "Role", "User"]
