"""The Tokens screen: issue, inspect and revoke JWTs (issue 4).

Three tabs share one screen: Issue mints a token for a user, Inspect shows this
backend's verdict on any token, Revoke kills the inspected token or its user's
sessions. The panes do their own service calls in workers; the screen routes what one
pane learns to the others and owns the keys.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input, TabbedContent, TabPane, Tabs, TextArea

from backend.schemas.user import UserRead
from backend.services.tokens import IssuedToken
from console.screens.base import ConsoleScreen
from console.widgets.tokens.formatting import safe_line
from console.widgets.tokens.inspect_pane import InspectPane
from console.widgets.tokens.issue_pane import IssuePane
from console.widgets.tokens.issued_token import IssuedTokenView
from console.widgets.tokens.revoke_pane import RevokePane
from console.widgets.tokens.token_owner import TokenOwner

SEARCH_FIELDS = {
    "tokens-issue": "#issue-email",
    "tokens-inspect": "#inspect-token",
    "tokens-revoke": "#revoked-search",
}
# Where the focus goes on arriving at a tab: the field its work starts with.
ENTRY_FOCUS = {
    "tokens-issue": "#issue-email",
    "tokens-inspect": "#inspect-token",
    "tokens-revoke": "#revoked-table",
}
WRITE_ACTIONS = frozenset({"revoke", "force_logout"})


class TokensScreen(ConsoleScreen):
    """Issue, inspect and revoke access tokens."""

    # Arriving here is mostly to paste a token: typing lands in its field from the
    # start, not on the single-letter keys (a "q" in a token would quit). esc leaves it.
    AUTO_FOCUS = ENTRY_FOCUS["tokens-inspect"]
    CSS_PATH = "tokens.tcss"

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="tokens.search"),
        Binding("n", "show_tab('tokens-issue')", "New token", id="tokens.new"),
        Binding("i", "show_tab('tokens-inspect')", "Inspect", id="tokens.inspect"),
        Binding("v", "show_tab('tokens-revoke')", "Revoked", id="tokens.revoked"),
        Binding("delete", "revoke", "Revoke", id="tokens.revoke"),
        Binding("f", "force_logout", "Force logout", id="tokens.force_logout"),
        Binding("c", "copy_token", "Copy token", id="tokens.copy"),
        Binding("p", "use_in_probe", "Use in probe", id="tokens.probe"),
        # Priority: in "esc ?" typed in one burst the "?" must find the focus already out
        # of the field. Out of a field the binding is off, so a Select's own esc works.
        Binding("escape", "leave_field", "Leave field", id="tokens.back", priority=True),
    ]

    def compose_content(self) -> ComposeResult:
        context = self.context
        tz = context.display_timezone
        with TabbedContent(initial="tokens-inspect"):
            with TabPane("Issue", id="tokens-issue"):
                yield IssuePane(
                    context.policy.access_token_minutes,
                    read_only=context.read_only,
                    tz=tz,
                    id="issue-pane",
                )
            with TabPane("Inspect", id="tokens-inspect"):
                yield InspectPane(tz=tz, id="inspect-pane")
            with TabPane("Revoke", id="tokens-revoke"):
                yield RevokePane(read_only=context.read_only, tz=tz, id="revoke-pane")

    # --- what the panes tell each other --------------------------------------------

    def on_issue_pane_issued(self, event: IssuePane.Issued) -> None:
        issued, email = event.issued, event.email
        until = self.context.local_time(issued.expires_at).strftime("%H:%M")
        label = f"{safe_line(email, limit=24)} · until {until}"
        self.query_one(InspectPane).add_recent(label, issued.token)
        self.refresh_bindings()

    @on(Button.Pressed, "#issued-inspect")
    def _inspect_issued(self, event: Button.Pressed) -> None:
        event.stop()
        if (issued := self._issued) is not None:
            self.action_show_tab("tokens-inspect")
            self.query_one(InspectPane).inspect(issued.token)

    @on(Button.Pressed, "#issued-copy")
    def _copy_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_token()

    @on(Button.Pressed, "#issued-probe")
    def _probe_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_use_in_probe()

    def on_inspect_pane_inspected(self, event: InspectPane.Inspected) -> None:
        self.query_one(RevokePane).show_target(event.inspection)
        self.refresh_bindings()

    def on_revoke_pane_changed(self, event: RevokePane.Changed) -> None:
        self.query_one(InspectPane).recheck()

    def on_screen_resume(self) -> None:
        # Another screen may have ended the shown token's sessions (a password reset on
        # Users): the verdict must not wait for the next minute's re-check.
        self.query_one(InspectPane).recheck()

    async def on_token_owner_open_user(self, event: TokenOwner.OpenUser) -> None:
        await self.open_user(event.user)

    async def open_user(self, user: UserRead) -> None:
        """Switch to the Users screen, searching for `user`'s email."""
        await self.app.switch_mode("users")
        # The Users screen searches as its search field changes, as when typed into.
        self.app.screen.query_one("#search", Input).value = user.email

    # --- actions -------------------------------------------------------------------

    @property
    def _issued(self) -> IssuedToken | None:
        views = self.query(IssuedTokenView)
        return views.first().issued if views else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.context.read_only:
            return False
        if action == "leave_field":
            # Shown while typing in a field (letters type there), gone elsewhere.
            return isinstance(self.focused, Input | TextArea)
        # Help and the palette ask before the panes are mounted: no pane, nothing to act on.
        panes = self.query(RevokePane)
        if action == "revoke":
            return True if panes and panes.first().target is not None else None
        if action == "force_logout":
            return True if panes and panes.first().target_user_id is not None else None
        if action in ("copy_token", "use_in_probe"):
            return True if self._issued is not None else None
        return True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(ENTRY_FOCUS[tab]).focus()

    def action_focus_search(self) -> None:
        """Focus the current tab's search or input field."""
        active = self.query_one(TabbedContent).active
        self.query_one(SEARCH_FIELDS[active], Input).focus()

    def action_leave_field(self) -> None:
        """esc: from a field back to the tabs (at once, not in Widget.focus's turn)."""
        self.set_focus(self.query_one(TabbedContent).query_one(Tabs))

    def action_revoke(self) -> None:
        self.query_one(RevokePane).request_revoke()

    def action_force_logout(self) -> None:
        self.query_one(RevokePane).request_force_logout()

    def action_copy_token(self) -> None:
        if (issued := self._issued) is not None:
            self.app.copy_to_clipboard(issued.token)
            self.notify("Token copied to the clipboard.")

    def action_use_in_probe(self) -> None:
        """Hand the issued token to the route probe (the Routes screen sends it)."""
        if (issued := self._issued) is not None:
            self.context.probe_token = issued.token
            self.notify(f"The route probe will send token {issued.jti}.")
