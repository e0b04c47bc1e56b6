"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from backend.models.audit import AuditEvent
from backend.models.revoked_token import RevokedToken
from backend.models.user import Role, User

__all__ = ["AuditEvent", "RevokedToken", "Role", "User"]
