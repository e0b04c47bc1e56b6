"""The Users screen's actions: create, edit, password, unlock, force logout, delete, bulk, export.

Every write goes through backend.services.users with the console's actor, so it is
checked by the role rules and audited exactly as an API call would be. Destructive
actions ask first; a read-only console binds none of the writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from textual import work
from textual.message import Message

from backend.services import users
from backend.services.actor import Actor
from backend.services.errors import DomainError
from backend.services.user_search import UserQuery, UserRow
from console.screens.base import ConsoleScreen
from console.screens.dialogs import (
    BulkAction,
    BulkDialog,
    ConfirmDialog,
    SecretDialog,
    TypedConfirmDialog,
)
from console.screens.export_dialog import ExportDialog
from console.screens.password_dialog import PasswordDialog, PasswordReset
from console.screens.user_form import SavedUser, UserFormDialog
from console.widgets.formatting import TotalKind, count
from console.widgets.user_table import UserTable

WRITE_ACTIONS = frozenset(
    {
        "new_user",
        "edit_user",
        "delete_user",
        "reset_password",
        "unlock_user",
        "force_logout",
        "bulk_action",
    }
)
ROW_ACTIONS = frozenset(
    {
        "edit_user",
        "delete_user",
        "reset_password",
        "unlock_user",
        "force_logout",
        "open_user",
        "toggle_mark",
    }
)
SHOWN_ONCE_NOTE = "Shown only this once: copy it now and hand it over safely."
MAX_LISTED_REFUSALS = 3


class Operation(StrEnum):
    UNLOCK = "unlock"
    FORCE_LOGOUT = "force_logout"
    DELETE = "delete"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


_Write = Callable[[AsyncSession, Actor, int], Awaitable[Any]]
_WRITES: dict[Operation, _Write] = {
    Operation.UNLOCK: users.unlock_user,
    Operation.FORCE_LOGOUT: users.revoke_user_tokens,
    Operation.DELETE: users.delete_user,
    Operation.ACTIVATE: lambda session, actor, user_id: users.set_active(
        session, actor, user_id, True
    ),
    Operation.DEACTIVATE: lambda session, actor, user_id: users.set_active(
        session, actor, user_id, False
    ),
}
_DONE_WORDS = {
    Operation.UNLOCK: "Unlocked",
    Operation.FORCE_LOGOUT: "Logged out",
    Operation.DELETE: "Deleted",
    Operation.ACTIVATE: "Activated",
    Operation.DEACTIVATE: "Deactivated",
}
_BULK_OPERATIONS = {
    BulkAction.ACTIVATE: Operation.ACTIVATE,
    BulkAction.DEACTIVATE: Operation.DEACTIVATE,
    BulkAction.FORCE_LOGOUT: Operation.FORCE_LOGOUT,
}


class UserActions(ConsoleScreen):
    """The Users screen's write actions; UsersScreen provides the state they act on."""

    user_query: UserQuery
    marked: dict[int, str]
    total: tuple[int, TotalKind] | None

    class WritesApplied(Message):
        """A write worker finished: which users it changed and which it could not."""

        def __init__(
            self,
            operation: Operation,
            done: dict[int, str],
            refused: list[tuple[str, str]],
            bulk: bool,
        ) -> None:
            super().__init__()
            self.operation = operation
            self.done = done
            self.refused = refused
            self.bulk = bulk

    @property
    def table(self) -> UserTable:
        raise NotImplementedError

    def reload(self, *, count_again: bool = True) -> None:
        raise NotImplementedError

    def clear_marks(self, user_ids: set[int] | None = None) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.context.read_only:
            return False  # not bound at all: hidden from the footer, help and palette
        if action in ROW_ACTIONS and self._selected() is None:
            return None  # shown, but dimmed until a row is selected
        if action == "bulk_action" and not self.marked:
            return None
        return True

    def _selected(self) -> UserRow | None:
        found = self.query(UserTable)
        return found.first().selected if found else None

    # --- dialogs -----------------------------------------------------------------

    def action_new_user(self) -> None:
        self.app.push_screen(UserFormDialog(), self._saved)

    def action_edit_user(self) -> None:
        if row := self._selected():
            self.app.push_screen(UserFormDialog(row.id), self._saved)

    def _saved(self, saved: SavedUser | None) -> None:
        if saved is None:
            return
        user = saved.user
        if saved.created:
            self.notify(f"Created {user.email} ({user.role.value}).", markup=False)
        else:
            self.notify(f"Saved {user.email}.", markup=False)
        if saved.generated_password is not None:
            self.app.push_screen(
                SecretDialog(
                    f"Password for {user.email}", saved.generated_password, SHOWN_ONCE_NOTE
                )
            )
        self.reload()

    def action_reset_password(self) -> None:
        if row := self._selected():
            self.app.push_screen(PasswordDialog(row.id, row.email), self._password_reset)

    def _password_reset(self, reset: PasswordReset | None) -> None:
        if reset is None:
            return
        if reset.generated_password is None:
            self.notify(f"Changed the password of {reset.email}.", markup=False)
            return
        title = f"New password for {reset.email}"
        self.app.push_screen(SecretDialog(title, reset.generated_password, SHOWN_ONCE_NOTE))

    def action_unlock_user(self) -> None:
        if row := self._selected():
            self.apply(Operation.UNLOCK, {row.id: row.email})

    def action_force_logout(self) -> None:
        row = self._selected()
        if row is None:
            return
        question = (
            f"Every token issued to {row.email} before now stops working; they must sign in again."
        )
        self._confirm_then(
            ConfirmDialog("Force logout?", question, "Force logout"),
            lambda: self.apply(Operation.FORCE_LOGOUT, {row.id: row.email}),
        )

    def action_delete_user(self) -> None:
        row = self._selected()
        if row is None:
            return
        dialog = TypedConfirmDialog(
            "Delete this user?",
            f"{row.email} and their sign-in are removed for good; the audit log keeps "
            "the record of what happened.",
            row.email,
            "Delete",
        )
        self._confirm_then(dialog, lambda: self.apply(Operation.DELETE, {row.id: row.email}))

    def action_bulk_action(self) -> None:
        if not self.marked:
            return
        targets = dict(self.marked)

        def chosen(action: BulkAction | None) -> None:
            if action is not None:
                self.apply(_BULK_OPERATIONS[action], targets, bulk=True)

        self.app.push_screen(BulkDialog(list(targets.values())), chosen)

    def action_export_csv(self) -> None:
        expected, kind = self.total if self.total else (None, TotalKind.ABOUT)
        stamp = self.context.clock().astimezone(self.context.display_timezone)
        default = Path.cwd() / f"users-{stamp:%Y%m%d-%H%M%S}.csv"
        self.app.push_screen(ExportDialog(self.user_query, expected, default, kind=kind))

    def _confirm_then(
        self, dialog: ConfirmDialog | TypedConfirmDialog, proceed: Callable[[], object]
    ) -> None:
        def answered(confirmed: bool | None) -> None:
            if confirmed:
                proceed()

        self.app.push_screen(dialog, answered)

    # --- the writes ----------------------------------------------------------------

    @work(group="users-write", exit_on_error=False)
    async def apply(
        self, operation: Operation, targets: dict[int, str], bulk: bool = False
    ) -> None:
        """Run `operation` on each target, each in its own transaction (and audit event)."""
        context = self.context
        done: dict[int, str] = {}
        refused: list[tuple[str, str]] = []
        for user_id, email in targets.items():
            try:
                async with context.database.session() as session:
                    await _WRITES[operation](session, context.actor, user_id)
            except DomainError as error:
                refused.append((email, error.message))
            else:
                done[user_id] = email
        self.post_message(self.WritesApplied(operation, done, refused, bulk))

    def on_user_actions_writes_applied(self, event: WritesApplied) -> None:
        verb = _DONE_WORDS[event.operation]
        if event.bulk:
            attempted = len(event.done) + len(event.refused)
            self.notify(f"{verb} {count(len(event.done))} of {count(attempted)} users.")
        elif event.done:
            self.notify(f"{verb} {next(iter(event.done.values()))}.", markup=False)
        if event.refused:
            self.notify(_refusals(event.refused), title="Refused", severity="error", markup=False)
        if event.operation is Operation.DELETE or event.bulk:
            self.clear_marks(set(event.done))
        if event.done:
            self.reload(count_again=event.operation is Operation.DELETE)


def _refusals(refused: list[tuple[str, str]]) -> str:
    if len(refused) == 1:
        return refused[0][1]
    listed = [f"{email}: {reason}" for email, reason in refused[:MAX_LISTED_REFUSALS]]
    more = len(refused) - MAX_LISTED_REFUSALS
    if more > 0:
        listed.append(f"and {more} more")
    return f"{len(refused)} refused. " + " · ".join(listed)
