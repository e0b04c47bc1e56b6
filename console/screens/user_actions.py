"""The Users screen's actions: create, edit, password, unlock, force logout, delete, bulk, export.

Every write goes through backend.services.users with the console's actor, so it is
checked by the role rules and audited exactly as an API call would be. Destructive
actions ask first; a read-only console binds none of the writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from textual import work
from textual.message import Message

from backend.schemas.user import UserRead
from backend.services import users
from backend.services.actor import Actor
from backend.services.errors import DomainError
from backend.services.user_search import UserRow
from console.screens.base import ConsoleScreen
from console.screens.dialogs import (
    BulkAction,
    BulkDialog,
    ConfirmDialog,
    SecretDialog,
    TypedConfirmDialog,
)
from console.screens.user_paging import UserPager
from console.widgets.formatting import TotalKind, count
from console.widgets.user_table import UserTable

if TYPE_CHECKING:
    from console.screens.password_dialog import PasswordReset
    from console.screens.user_form import SavedUser

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
# A reset ends every session of the account (backend.services.users): say so.
SESSIONS_ENDED = "every session of the account has ended."
MAX_LISTED_REFUSALS = 3


class Operation(StrEnum):
    UNLOCK = "unlock"
    FORCE_LOGOUT = "force_logout"
    DELETE = "delete"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


# A write answers whether the user needed it: False when there was nothing to do.
_Write = Callable[[AsyncSession, Actor, int], Awaitable[bool]]


async def _unlock(session: AsyncSession, actor: Actor, user_id: int) -> bool:
    return (await users.unlock_user(session, actor, user_id)).was_locked


def _set_active(active: bool) -> _Write:
    async def run(session: AsyncSession, actor: Actor, user_id: int) -> bool:
        return (await users.set_active(session, actor, user_id, active)).changed

    return run


def _always_needed(write: Callable[[AsyncSession, Actor, int], Awaitable[Any]]) -> _Write:
    async def run(session: AsyncSession, actor: Actor, user_id: int) -> bool:
        await write(session, actor, user_id)
        return True

    return run


_WRITES: dict[Operation, _Write] = {
    Operation.UNLOCK: _unlock,
    Operation.FORCE_LOGOUT: _always_needed(users.revoke_user_tokens),
    Operation.DELETE: _always_needed(users.delete_user),
    Operation.ACTIVATE: _set_active(True),
    Operation.DEACTIVATE: _set_active(False),
}
_DONE_WORDS = {
    Operation.UNLOCK: "Unlocked",
    Operation.FORCE_LOGOUT: "Logged out",
    Operation.DELETE: "Deleted",
    Operation.ACTIVATE: "Activated",
    Operation.DEACTIVATE: "Deactivated",
}
# Why a write that was not needed changed nothing (the operations whose write can say so).
_UNNEEDED_WORDS = {
    Operation.UNLOCK: "was not locked",
    Operation.ACTIVATE: "was already active",
    Operation.DEACTIVATE: "was already inactive",
}
_BULK_OPERATIONS = {
    BulkAction.ACTIVATE: Operation.ACTIVATE,
    BulkAction.DEACTIVATE: Operation.DEACTIVATE,
    BulkAction.FORCE_LOGOUT: Operation.FORCE_LOGOUT,
}


class UserActions(ConsoleScreen):
    """The Users screen's write actions; UsersScreen provides the state they act on."""

    pager: UserPager
    marked: dict[int, str]

    class WritesApplied(Message):
        """A write worker finished: which users it changed, which did not need it, which refused."""

        def __init__(
            self,
            operation: Operation,
            done: dict[int, str],
            unneeded: dict[int, str],
            refused: list[tuple[str, str]],
            bulk: bool,
        ) -> None:
            super().__init__()
            self.operation = operation
            self.done = done
            self.unneeded = unneeded
            self.refused = refused
            self.bulk = bulk

    if TYPE_CHECKING:
        # What UsersScreen, the one screen these actions are mixed into, provides.
        @property
        def table(self) -> UserTable: ...

        def reload(self, *, count_again: bool = True) -> None: ...

        def show_created(self, user: UserRead) -> None: ...

        def clear_marks(self, user_ids: set[int] | None = None) -> None: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.context.read_only:
            return False  # not bound at all: hidden from the key bar, help and palette
        if action in ROW_ACTIONS and self._selected() is None:
            return None  # shown, but dimmed until a row is selected
        if action == "bulk_action" and not self.marked:
            return None
        return True

    def _selected(self) -> UserRow | None:
        return self.table.selected  # None before the first page too

    # --- dialogs -----------------------------------------------------------------

    # The form, password and export dialogs are imported when first opened: with the
    # widgets they alone use, they would add ~6 ms to every start-up.

    def action_new_user(self) -> None:
        from console.screens.user_form import UserFormDialog

        self.app.push_screen(UserFormDialog(), self._saved)

    def action_edit_user(self) -> None:
        from console.screens.user_form import UserFormDialog

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
        if saved.created:
            self.show_created(user)
        else:
            self.reload()

    def action_reset_password(self) -> None:
        from console.screens.password_dialog import PasswordDialog

        if row := self._selected():
            self.app.push_screen(PasswordDialog(row.id, row.email), self._password_reset)

    def _password_reset(self, reset: PasswordReset | None) -> None:
        if reset is None:
            return
        if reset.generated_password is None:
            self.notify(f"Changed the password of {reset.email}; {SESSIONS_ENDED}", markup=False)
            return
        title = f"New password for {reset.email}"
        note = f"{SHOWN_ONCE_NOTE} {SESSIONS_ENDED.capitalize()}"
        self.app.push_screen(SecretDialog(title, reset.generated_password, note))

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
        from console.screens.export_dialog import ExportDialog

        expected, kind = self.pager.total if self.pager.total else (None, TotalKind.ABOUT)
        stamp = self.context.clock().astimezone(self.context.display_timezone)
        default = Path.cwd() / f"users-{stamp:%Y%m%d-%H%M%S}.csv"
        self.app.push_screen(ExportDialog(self.pager.query, expected, default, kind=kind))

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
        unneeded: dict[int, str] = {}
        refused: list[tuple[str, str]] = []
        for user_id, email in targets.items():
            try:
                async with context.database.session() as session:
                    needed = await _WRITES[operation](session, context.actor, user_id)
            except DomainError as error:
                refused.append((email, error.message))
            else:
                (done if needed else unneeded)[user_id] = email
        self.post_message(self.WritesApplied(operation, done, unneeded, refused, bulk))

    def on_user_actions_writes_applied(self, event: WritesApplied) -> None:
        verb = _DONE_WORDS[event.operation]
        if event.bulk:
            attempted = len(event.done) + len(event.unneeded) + len(event.refused)
            already = len(event.unneeded)
            unneeded = f"; {count(already)} already {'was' if already == 1 else 'were'}"
            tail = unneeded if already else ""
            self.notify(f"{verb} {count(len(event.done))} of {count(attempted)} users{tail}.")
        elif event.done:
            self.notify(f"{verb} {next(iter(event.done.values()))}.", markup=False)
        elif event.unneeded:
            email = next(iter(event.unneeded.values()))
            self.notify(f"{email} {_UNNEEDED_WORDS[event.operation]}.", markup=False)
        if event.refused:
            self.notify(_refusals(event.refused), title="Refused", severity="error", markup=False)
        if event.operation is Operation.DELETE or event.bulk:
            self.clear_marks(set(event.done) | set(event.unneeded))
        if event.done or event.unneeded:
            # "Not needed" may mean the row was out of date: show what the database has.
            self.reload(count_again=event.operation is Operation.DELETE)


def _refusals(refused: list[tuple[str, str]]) -> str:
    if len(refused) == 1:
        return refused[0][1]
    listed = [f"{email}: {reason}" for email, reason in refused[:MAX_LISTED_REFUSALS]]
    more = len(refused) - MAX_LISTED_REFUSALS
    if more > 0:
        listed.append(f"and {more} more")
    return f"{len(refused)} refused. " + " · ".join(listed)
