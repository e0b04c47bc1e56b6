"""A freshly issued token: the token itself, its claims and what to do with it."""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from backend.services.tokens import IssuedToken
from console.widgets.tokens.formatting import highlighted_json, local_date, safe_line


class IssuedTokenView(Vertical):
    """Hidden until a token is issued; its buttons are handled by the Tokens screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-none")
        self.issued: IssuedToken | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Issued token"
        yield Static(id="issued-summary")
        yield Static(id="issued-token")
        yield Static(id="issued-claims")
        with Horizontal():
            yield Button("Copy (c)", id="issued-copy", compact=True)
            yield Button("Inspect", id="issued-inspect", compact=True)
            yield Button("Use in route probe (p)", id="issued-probe", compact=True)

    def show(self, issued: IssuedToken, email: str, tz: tzinfo | None) -> None:
        """Show `issued` (a token for the user with `email`); dates in `tz`."""
        self.issued = issued
        self.remove_class("-none")
        expires = local_date(issued.expires_at.timestamp(), tz)
        self.query_one("#issued-summary", Static).update(
            Content.assemble(
                "For ",
                (safe_line(email), "bold"),
                f" · jti {issued.jti} · expires {expires}",
            )
        )
        self.query_one("#issued-token", Static).update(Content(issued.token))
        self.query_one("#issued-claims", Static).update(highlighted_json(issued.claims))
