"""Small dialogs the Users screen opens: confirmations, a bulk choice, a secret shown once."""

from __future__ import annotations

from enum import StrEnum

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static
from textual.widgets.button import ButtonVariant

from console.screens.base import ConsoleDialog

# A terminal hands over fast typing in one burst. With the Screen's plain tab binding
# the keys after tab were queued on the field being left before the tab (bubbling up
# from that field) moved the focus, so "ann@example.com<tab>Ann" filled only the email.
# Priority bindings run as the app reads each key: whatever follows tab reaches the next field.
FIELD_FOCUS_BINDINGS: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]


class ConfirmDialog(ConsoleDialog[bool]):
    """A yes/no question; returns True only when the operator confirms."""

    def __init__(self, title: str, question: str, confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.question, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="error", id="confirm", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)


class TypedConfirmDialog(ConsoleDialog[bool]):
    """Confirms only once the operator has typed `expected` (e.g. the email to delete)."""

    BINDINGS = FIELD_FOCUS_BINDINGS

    def __init__(self, title: str, explanation: str, expected: str, confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.expected = expected
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.explanation, markup=False)
            yield Label(Text.assemble("Type ", (self.expected, "bold"), " to confirm:"))
            # No placeholder: the expected text shown greyed in the field read as already typed.
            yield Input(id="typed")
            yield Static(id="typed-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.confirm_label, variant="error", id="confirm", disabled=True, compact=True
                )
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#typed", Input).focus()

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.expected
        self.query_one("#typed-error").display = False

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)
            return
        error = self.query_one("#typed-error", Static)
        error.update(f"That does not match; type {self.expected} exactly.")
        error.display = True

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)


class BulkAction(StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    FORCE_LOGOUT = "force_logout"


BULK_LABELS = {
    BulkAction.ACTIVATE: "Activate",
    BulkAction.DEACTIVATE: "Deactivate",
    BulkAction.FORCE_LOGOUT: "Force logout",
}


class BulkDialog(ConsoleDialog[BulkAction]):
    """Choose what to do to every marked user; choosing is the confirmation."""

    def __init__(self, emails: list[str]) -> None:
        super().__init__()
        self.emails = emails

    def compose(self) -> ComposeResult:
        shown = ", ".join(self.emails[:3])
        more = f" and {len(self.emails) - 3} more" if len(self.emails) > 3 else ""
        with Vertical(classes="dialog"):
            yield Static(f"Bulk action on {len(self.emails)} marked users", classes="dialog-title")
            yield Static(f"{shown}{more}", markup=False)
            yield Static("Each user is changed and audited on its own.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                for action, label in BULK_LABELS.items():
                    variant: ButtonVariant = "primary" if action is BulkAction.ACTIVATE else "error"
                    yield Button(label, variant=variant, id=f"bulk-{action.value}", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id.startswith("bulk-"):
            self.dismiss(BulkAction(button_id.removeprefix("bulk-")))
        else:
            self.dismiss(None)


class SecretDialog(ConsoleDialog[None]):
    """Shows a generated password once, with a copy button; it is never shown again."""

    def __init__(self, title: str, secret: str, note: str) -> None:
        super().__init__()
        self.title_text = title
        self.secret = secret
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.secret, id="secret", markup=False)
            yield Static(self.note, classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy", variant="primary", id="copy", compact=True)
                yield Button("Done", id="done", compact=True)

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        # OSC 52: the terminal puts it on the clipboard; nothing is logged.
        self.app.copy_to_clipboard(self.secret)
        self.notify("Copied to the clipboard.")

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.dismiss(None)
