"""Role rules from DESIGN.md, in one place: who may do what to which account."""

from __future__ import annotations

from collections.abc import Iterable

from backend.models import Role, User
from backend.services.actor import Actor
from backend.services.errors import PermissionDenied

# What support staff may change on an account (besides resetting its password).
SUPPORT_EDITABLE_FIELDS = frozenset({"full_name", "is_active", "password"})
STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPPORT})


def require_staff(actor: Actor) -> None:
    """Admins and support staff manage accounts; users manage only their own."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("Only administrators and support staff can manage other accounts.")


def require_admin(actor: Actor, what: str) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(f"Only administrators can {what}.")


def require_can_create(actor: Actor, role: Role) -> None:
    require_staff(actor)
    if actor.role is Role.SUPPORT and role is not Role.USER:
        raise PermissionDenied("Support staff can create only accounts with the user role.")


def require_can_manage(actor: Actor, target: User, what: str) -> None:
    """Support staff may act on users and support accounts, never on administrators."""
    require_staff(actor)
    if actor.role is Role.SUPPORT and target.role == Role.ADMIN:
        raise PermissionDenied(f"Support staff cannot {what} an administrator.")


def require_can_edit(actor: Actor, target: User, fields: Iterable[str]) -> None:
    fields = set(fields)
    require_can_manage(actor, target, "edit")
    if "role" in fields:
        if actor.user_id == target.id:
            raise PermissionDenied("Nobody can change their own role.")
        require_admin(actor, "change roles")
    if actor.role is Role.SUPPORT and not fields <= SUPPORT_EDITABLE_FIELDS:
        forbidden = ", ".join(sorted(fields - SUPPORT_EDITABLE_FIELDS))
        raise PermissionDenied(f"Support staff cannot change {forbidden}.")
    if actor.user_id == target.id and "is_active" in fields:
        raise PermissionDenied("You cannot deactivate your own account.")


def require_can_delete(actor: Actor, target: User) -> None:
    require_admin(actor, "delete accounts")
    if actor.user_id == target.id:
        raise PermissionDenied("You cannot delete your own account.")
