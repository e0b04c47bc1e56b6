"""Revoke: kill the inspected token or every token of its user; list what is revoked."""

from __future__ import annotations

from datetime import tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from backend.services import tokens, users
from backend.services.errors import PermissionDenied
from backend.services.jwt_display import numeric_date_problem
from console.screens.base import context_of
from console.screens.dialogs import ConfirmDialog
from console.widgets.tokens.formatting import local_date, safe_line
from console.widgets.tokens.inspect_pane import Inspection
from console.widgets.tokens.revoked_table import RevokedTable
from console.widgets.tokens.worker_errors import ReportsWorkerErrors


class RevokePane(ReportsWorkerErrors, Vertical):
    """What would be revoked, the two revoke buttons, and the searchable revoked list."""

    class RevokedListLoaded(Message):
        def __init__(self, revoked: list[tokens.RevokedEntry]) -> None:
            super().__init__()
            self.revoked = revoked

    class Changed(Message):
        """A token or a user's tokens were revoked: verdicts shown elsewhere are stale."""

    def __init__(self, *, read_only: bool, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._read_only = read_only
        self._tz = tz
        self.target: Inspection | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="revoke-target")
        with Horizontal(id="revoke-actions"):
            yield Button("Revoke token (delete)", id="revoke-token", variant="error")
            yield Button("Force-logout its user (f)", id="revoke-logout", variant="warning")
        yield Label("Revoked tokens (expired ones are purged)")
        yield Input(placeholder="Search by jti, user email or who revoked it", id="revoked-search")
        yield RevokedTable(tz=self._tz, id="revoked-table")

    def on_mount(self) -> None:
        self.show_target(None)
        self.reload()

    # --- the target ----------------------------------------------------------------

    def show_target(self, inspection: Inspection | None) -> None:
        """Make the inspected token (None: nothing inspected) the one to revoke."""
        self.target = inspection
        self.query_one("#revoke-target", Static).update(self._describe_target())
        can_write = not self._read_only and inspection is not None
        self.query_one("#revoke-token", Button).disabled = not can_write
        self.query_one("#revoke-logout", Button).disabled = not (
            can_write and self.target_user_id is not None
        )

    @property
    def target_user_id(self) -> int | None:
        """The inspected token's user, when its signature proves the sub claim."""
        if self.target is None or not self.target.signature_verified:
            return None
        return None if self.target.owner is None else self.target.owner.id

    def _describe_target(self) -> Content:
        if self.target is None:
            return Content.styled(
                "Inspect a token first: it is the one revoked here.", "$text-muted"
            )
        return Content.assemble("Inspected ", _describe_token(self.target, self._tz))

    # --- revoking ------------------------------------------------------------------

    @on(Button.Pressed, "#revoke-token")
    def _revoke_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.request_revoke()

    @on(Button.Pressed, "#revoke-logout")
    def _logout_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.request_force_logout()

    def request_revoke(self) -> None:
        """Ask to confirm, then revoke the inspected token's jti until it expires."""
        target = self.target
        if target is None or self._read_only:
            return
        token = _describe_token(target, self._tz).plain
        question = f"Revoke {token}? It stops working at once, on every server."

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.revoke(target.token)

        self.app.push_screen(ConfirmDialog("Revoke token", question, "Revoke"), confirmed)

    def request_force_logout(self) -> None:
        """Ask to confirm, then end every session of the inspected token's user."""
        user_id = self.target_user_id
        if user_id is None or self._read_only or self.target is None or not self.target.owner:
            return
        email = safe_line(self.target.owner.email)
        question = f"Force-logout {email}? Every token issued to them until now stops working."

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.force_logout(user_id)

        self.app.push_screen(ConfirmDialog("Force logout", question, "Force logout"), confirmed)

    @work(exclusive=True, group="revoke", exit_on_error=False)
    async def revoke(self, token: str) -> None:
        context = context_of(self.screen)
        if context.read_only:
            raise PermissionDenied("The console is read-only: nothing can be revoked.")
        async with context.database.session() as session:
            await tokens.revoke_token(session, context.actor, context.policy, token)
        self.post_message(self.Changed())

    @work(exclusive=True, group="revoke", exit_on_error=False)
    async def force_logout(self, user_id: int) -> None:
        context = context_of(self.screen)
        if context.read_only:
            raise PermissionDenied("The console is read-only: nothing can be revoked.")
        async with context.database.session() as session:
            await users.revoke_user_tokens(session, context.actor, user_id)
        self.post_message(self.Changed())

    def on_revoke_pane_changed(self, event: Changed) -> None:
        # Not stopped: the screen re-checks the inspected token.
        self.reload()

    # --- the revoked list ----------------------------------------------------------

    @on(Input.Changed, "#revoked-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.reload()

    def reload(self) -> None:
        """Load the revoked list again with the current search."""
        self.load_revoked(self.query_one("#revoked-search", Input).value.strip())

    @work(exclusive=True, group="revoked-list", exit_on_error=False)
    async def load_revoked(self, search: str) -> None:
        context = context_of(self.screen)
        async with context.database.session() as session:
            revoked = await tokens.list_revoked(session, context.actor, search=search or None)
        self.post_message(self.RevokedListLoaded(revoked))

    def on_revoke_pane_revoked_list_loaded(self, event: RevokedListLoaded) -> None:
        event.stop()
        self.query_one(RevokedTable).show(event.revoked)


def _describe_token(inspection: Inspection, tz: tzinfo | None) -> Content:
    """ "token <jti> of <email> · exp <date>", every part safe to show."""
    payload = inspection.check.payload or {}
    owner = inspection.owner
    jti = safe_line(payload.get("jti", "—"), limit=40)
    who = "an unknown user" if owner is None else safe_line(owner.email)
    exp = payload.get("exp")
    until = "—" if exp is None or numeric_date_problem(exp) else local_date(exp, tz)
    return Content.assemble("token ", (jti, "bold"), " of ", (who, "bold"), f" · exp {until}")
