"""How the request is signed: none, as a user (email completed from the database), a token."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, Select

from backend.database import Database
from backend.services import user_search
from backend.services.actor import Actor
from backend.services.probe_auth import AuthMode, ProbeAuth
from backend.services.user_search import UserQuery
from console.widgets.fixed_size_input import FixedSizeInput


class UserEmailSuggester(Suggester):
    """Completes an email from the users whose email or name matches what was typed."""

    def __init__(self, database: Database, actor: Actor) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._database = database
        self._actor = actor

    async def get_suggestion(self, value: str) -> str | None:
        if len(value) < 2:
            return None
        async with self._database.session() as session:
            page = await user_search.list_users(
                session, self._actor, UserQuery(search=value), limit=5
            )
        lowered = value.lower()
        return next((u.email for u in page.items if u.email.startswith(lowered)), None)


class AuthPicker(Vertical):
    """The auth mode, and the email or the token it needs (the token masked unless revealed)."""

    def __init__(
        self,
        suggester: Suggester | None,
        *,
        can_sign_as_user: bool,
        console_token: str | None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._suggester = suggester
        self._can_sign_as_user = can_sign_as_user
        self._console_token = console_token
        self._modes = self._offered()

    def _offered(self) -> list[AuthMode]:
        modes = [AuthMode.NONE]
        if self._can_sign_as_user:
            modes.append(AuthMode.AS_USER)
        if self._console_token:
            modes.append(AuthMode.CONSOLE_TOKEN)
        modes.append(AuthMode.TOKEN)
        return modes

    def set_console_token(self, token: str | None) -> None:
        """Offer the token the Tokens screen handed over (it may change while away)."""
        if token == self._console_token:
            return
        mode = self.mode
        self._console_token = token
        self._modes = self._offered()
        select = self.query_one("#auth-mode", Select)
        select.set_options([(str(m), m) for m in self._modes])
        select.value = (
            AuthMode.CONSOLE_TOKEN if token else (mode if mode in self._modes else AuthMode.NONE)
        )
        self._show_inputs(self.mode)

    def compose(self) -> ComposeResult:
        with Horizontal(id="auth-row"):
            yield Label("Auth", classes="field-label")
            yield Select(
                [(str(mode), mode) for mode in self._modes],
                # A token handed over by the Tokens screen is what the operator came with.
                value=AuthMode.CONSOLE_TOKEN if self._console_token else AuthMode.NONE,
                allow_blank=False,
                compact=True,
                id="auth-mode",
            )
            yield FixedSizeInput(
                placeholder="user's email (completed as you type; → accepts)",
                suggester=self._suggester,
                compact=True,
                id="auth-email",
            )
            yield FixedSizeInput(
                placeholder="paste a token", password=True, compact=True, id="auth-token"
            )

    def on_mount(self) -> None:
        self._show_inputs(self.mode)

    @property
    def mode(self) -> AuthMode:
        value = self.query_one("#auth-mode", Select).value
        return value if isinstance(value, AuthMode) else AuthMode.NONE

    def choose(self, mode: AuthMode, email: str = "") -> None:
        """Set the mode (when offered) and the email, as a replay does."""
        if mode in self._modes:
            self.query_one("#auth-mode", Select).value = mode
            self._show_inputs(mode)
        if email:
            self.query_one("#auth-email", Input).value = email

    def auth(self) -> ProbeAuth:
        mode = self.mode
        if mode is AuthMode.AS_USER:
            return ProbeAuth(mode, email=self.query_one("#auth-email", Input).value.strip())
        if mode is AuthMode.CONSOLE_TOKEN:
            return ProbeAuth(mode, token=self._console_token or "")
        if mode is AuthMode.TOKEN:
            return ProbeAuth(mode, token=self.query_one("#auth-token", Input).value.strip())
        return ProbeAuth()

    def toggle_reveal(self) -> bool:
        """Show or mask the pasted token; True when it is now shown."""
        field = self.query_one("#auth-token", Input)
        field.password = not field.password
        return not field.password

    @on(Select.Changed, "#auth-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show_inputs(self.mode)

    def _show_inputs(self, mode: AuthMode) -> None:
        self.query_one("#auth-email").display = mode is AuthMode.AS_USER
        self.query_one("#auth-token").display = mode is AuthMode.TOKEN
