"""The issue form: a user (searched by email), a lifetime and extra claims, validated inline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from backend.schemas.user import UserRead
from backend.services.errors import InvalidInput
from backend.services.token_claims import parse_extra_claims
from backend.services.tokens import MAX_TOKEN_MINUTES
from console.widgets.tokens.field_error import FieldError
from console.widgets.tokens.formatting import safe_line


@dataclass(frozen=True, slots=True)
class IssueRequest:
    email: str
    minutes: int
    extra_claims: dict[str, Any]


def parse_minutes(text: str, default: int) -> int:
    """The lifetime typed by a person; empty means `default`. Raises InvalidInput."""
    stripped = text.strip()
    if not stripped:
        return default
    if not stripped.isascii() or not stripped.lstrip("-").isdigit():
        raise InvalidInput("The lifetime must be a whole number of minutes.")
    minutes = int(stripped)
    if not 1 <= minutes <= MAX_TOKEN_MINUTES:
        raise InvalidInput(f"The lifetime must be between 1 and {MAX_TOKEN_MINUTES} minutes.")
    return minutes


class IssueForm(Vertical):
    """Posts IssueForm.Submitted once every field is valid; SearchChanged as the email changes."""

    class SearchChanged(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Submitted(Message):
        def __init__(self, request: IssueRequest) -> None:
            super().__init__()
            self.request = request

    def __init__(self, default_minutes: int, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._default_minutes = default_minutes
        self._read_only = read_only

    def compose(self) -> ComposeResult:
        yield Label("User: search by email, pick with enter")
        yield Input(placeholder="email or part of it", id="issue-email")
        yield OptionList(id="issue-matches", classes="-empty")
        yield FieldError(id="issue-email-error")
        yield Label("Lifetime in minutes")
        yield Input(
            placeholder=f"{self._default_minutes} (the login default)",
            id="issue-minutes",
            restrict=r"[0-9]*",
        )
        yield FieldError(id="issue-minutes-error")
        yield Label('Extra claims: a JSON object, or one KEY=VALUE per line ("tenant=acme")')
        yield TextArea(id="issue-claims", soft_wrap=True, show_line_numbers=False)
        yield FieldError(id="issue-claims-error")
        yield Button("Issue token", id="issue-submit", variant="primary", disabled=self._read_only)

    # --- user search ---------------------------------------------------------------

    @on(Input.Changed, "#issue-email")
    def _email_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#issue-email-error", FieldError).show(None)
        self.post_message(self.SearchChanged(event.value.strip()))

    def show_matches(self, users: Sequence[UserRead]) -> None:
        """Offer the users whose email or name matches the search."""
        matches = self.query_one("#issue-matches", OptionList)
        matches.clear_options()
        matches.add_options(
            Option(f"{safe_line(user.email)}  ({user.role})", id=user.email) for user in users
        )
        matches.set_class(not users, "-empty")

    @on(Input.Submitted, "#issue-email")
    def _email_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        matches = self.query_one("#issue-matches", OptionList)
        if matches.option_count:
            matches.focus()
            matches.highlighted = 0
        else:
            self.submit()

    @on(OptionList.OptionSelected, "#issue-matches")
    def _user_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#issue-email", Input).value = event.option.id or ""
        self.query_one("#issue-minutes", Input).focus()

    # --- validation ----------------------------------------------------------------

    @on(Input.Changed, "#issue-minutes")
    def _minutes_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._validated_minutes()

    @on(TextArea.Changed, "#issue-claims")
    def _claims_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._validated_claims()

    def _validated_minutes(self) -> int | None:
        error = self.query_one("#issue-minutes-error", FieldError)
        try:
            typed = self.query_one("#issue-minutes", Input).value
            minutes = parse_minutes(typed, self._default_minutes)
        except InvalidInput as problem:
            error.show(problem.message)
            return None
        error.show(None)
        return minutes

    def _validated_claims(self) -> dict[str, Any] | None:
        error = self.query_one("#issue-claims-error", FieldError)
        try:
            claims = parse_extra_claims(self.query_one("#issue-claims", TextArea).text)
        except InvalidInput as problem:
            error.show(problem.message)
            return None
        error.show(None)
        return claims

    def _validated_email(self) -> str | None:
        email = self.query_one("#issue-email", Input).value.strip()
        self.show_email_error(None if email else "Pick the user the token is for.")
        return email or None

    def show_email_error(self, message: str | None) -> None:
        """Show a problem with the user field (such as "no user has this email")."""
        self.query_one("#issue-email-error", FieldError).show(message)

    # --- submitting ----------------------------------------------------------------

    @on(Input.Submitted, "#issue-minutes")
    @on(Button.Pressed, "#issue-submit")
    def _submit_requested(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        """Validate every field; post Submitted, or focus the first field with a problem."""
        email = self._validated_email()
        minutes = self._validated_minutes()
        claims = self._validated_claims()
        if email is None:
            self.query_one("#issue-email", Input).focus()
        elif minutes is None:
            self.query_one("#issue-minutes", Input).focus()
        elif claims is None:
            self.query_one("#issue-claims", TextArea).focus()
        elif not self._read_only:
            self.post_message(self.Submitted(IssueRequest(email, minutes, claims)))
