"""Reset a user's password: type one, or generate a strong one that is shown once."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from backend.services import users
from backend.services.errors import DomainError
from backend.services.passwords import password_problem
from console.notify import describe_error
from console.screens.base import ConsoleDialog
from console.screens.dialogs import FIELD_FOCUS_BINDINGS
from console.screens.user_form import generate_password


@dataclass(frozen=True, slots=True)
class PasswordReset:
    email: str
    generated_password: str | None  # shown once by the caller; None when typed


class PasswordDialog(ConsoleDialog[PasswordReset]):
    """Sets the password through `users.set_password` (audited, never logged)."""

    BINDINGS = FIELD_FOCUS_BINDINGS

    class Done(Message):
        pass

    class Refused(Message):
        def __init__(self, error: DomainError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, user_id: int, email: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.email = email
        self._generated: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = f"Reset the password of {self.email}"
            yield Static(title, classes="dialog-title", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Password", classes="form-label")
                yield Input(id="password", password=True, compact=True)
            yield Static(id="password-error", classes="field-error", markup=False)
            yield Static(
                "Or generate a strong one: it is shown once, to copy and hand over.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Set password", variant="primary", id="set", compact=True)
                yield Button("Generate", variant="warning", id="generate", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#set")
    @on(Input.Submitted, "#password")
    def _set_typed(self) -> None:
        password = self.query_one("#password", Input).value
        problem = password_problem(password)
        if problem:
            self._show_error(problem)
            return
        self._generated = None
        self._start(password)

    @on(Button.Pressed, "#generate")
    def _set_generated(self) -> None:
        self._generated = generate_password()
        self._start(self._generated)

    def _start(self, password: str) -> None:
        self._show_error(None)
        for button in self.query(Button):
            button.disabled = True
        self.reset(password)

    @work(exclusive=True, group="password-reset", exit_on_error=False)
    async def reset(self, password: str) -> None:
        context = self.context
        try:
            async with context.database.session() as session:
                await users.set_password(
                    session, context.actor, self.user_id, password, context.policy.hasher
                )
        except DomainError as error:
            self.post_message(self.Refused(error))
            return
        self.post_message(self.Done())

    def on_password_dialog_done(self) -> None:
        self.dismiss(PasswordReset(self.email, self._generated))

    def on_password_dialog_refused(self, event: Refused) -> None:
        for button in self.query(Button):
            button.disabled = False
        title, message = describe_error(event.error)
        self._show_error(message)
        self.notify(message, title=title, severity="error", markup=False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed, "#password")
    def _typing(self) -> None:
        self._show_error(None)

    def _show_error(self, message: str | None) -> None:
        label = self.query_one("#password-error", Static)
        label.update(message or "")
        label.display = message is not None
