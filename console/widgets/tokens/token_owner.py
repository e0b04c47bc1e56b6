"""The user a token belongs to, linked to the Users screen."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Static

from backend.schemas.user import UserRead
from console.widgets.tokens.formatting import safe_line


class TokenOwner(Horizontal):
    """ "alice@example.com (id 5, admin, active)" and a button that opens her in Users."""

    class OpenUser(Message):
        """Show this user on the Users screen."""

        def __init__(self, user: UserRead) -> None:
            super().__init__()
            self.user = user

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._user: UserRead | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Belongs to"
        yield Static("—", id="owner-text")
        yield Button("Open in Users", id="owner-open", disabled=True, compact=True)

    def show(self, payload: dict[str, Any] | None, user: UserRead | None, verified: bool) -> None:
        """`verified`: the signature lane passed, so the sub claim is authentic."""
        self._user = user
        self.query_one("#owner-open", Button).disabled = user is None
        self.query_one("#owner-text", Static).update(self._describe(payload, user, verified))

    def _describe(
        self, payload: dict[str, Any] | None, user: UserRead | None, verified: bool
    ) -> Content:
        if payload is None or "sub" not in payload:
            return Content.styled("No sub claim to look up.", "$text-muted")
        sub = safe_line(payload["sub"], limit=40)
        if user is None:
            return Content.styled(f"No user has the id {sub}.", "$text-warning")
        state = "active" if user.is_active else "inactive"
        description = Content.assemble(
            (safe_line(user.email), "bold"), f"  (id {user.id}, {user.role}, {state})"
        )
        if verified:
            return description
        return Content.assemble(description, ("  unverified sub claim", "$text-warning"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self._user is not None:
            self.post_message(self.OpenUser(self._user))
