"""Create or edit a user: inline validation by the API's own schemas, conflicts offered a reload.

The form validates with UserCreate / UserUpdate, the Pydantic models the API uses,
so both clients refuse the same input with the same words. An edit carries the
version the form was filled from; when someone else saved in between, the service
refuses, and the form says so and offers to reload rather than overwrite.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from backend.models import Role
from backend.schemas.user import UserCreate, UserRead, UserUpdate
from backend.services import users
from backend.services.errors import Conflict, DomainError
from console.notify import describe_error
from console.screens.base import ConsoleDialog
from console.screens.dialogs import FIELD_FOCUS_BINDINGS

GENERATED_PASSWORD_BYTES = 18  # 24 URL-safe characters
_FIELDS = ("email", "full_name", "role", "password")


def generate_password() -> str:
    """A strong random password for an operator to hand over once."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def field_errors(error: ValidationError) -> dict[str, str]:
    """{field: first message} from a Pydantic error, worded for a person."""
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = str(item["msg"]).removeprefix("Value error, ")
        found.setdefault(field, message[:1].upper() + message[1:])
    return found


@dataclass(frozen=True, slots=True)
class SavedUser:
    user: UserRead
    generated_password: str | None = None
    created: bool = False


class UserFormDialog(ConsoleDialog[SavedUser]):
    """`user_id=None` creates a user; otherwise edits that user."""

    BINDINGS = FIELD_FOCUS_BINDINGS

    class Loaded(Message):
        def __init__(self, user: UserRead) -> None:
            super().__init__()
            self.user = user

    class Saved(Message):
        def __init__(self, saved: SavedUser) -> None:
            super().__init__()
            self.saved = saved

    class Refused(Message):
        def __init__(self, error: DomainError, stale: bool) -> None:
            super().__init__()
            self.error = error
            self.stale = stale

    def __init__(self, user_id: int | None = None) -> None:
        super().__init__()
        self.user_id = user_id
        self.original: UserRead | None = None

    @property
    def creating(self) -> bool:
        return self.user_id is None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Static("New user" if self.creating else "Edit user", classes="dialog-title")
            yield from _field("Email", Input(id="email", compact=True), "email")
            yield from _field("Full name", Input(id="full_name", compact=True), "full_name")
            roles = [(role.value, role.value) for role in Role]
            role = Select(roles, value=Role.USER.value, allow_blank=False, compact=True, id="role")
            yield from _field("Role", role, "role")
            if self.creating:
                password = Input(
                    id="password", password=True, compact=True, placeholder="empty: generate one"
                )
                yield from _field("Password", password, "password")
            else:
                active = Checkbox("active", value=True, compact=True, id="is_active")
                yield from _field("Account", active, "is_active")
            yield Static(id="form-error", classes="field-error")
            with Horizontal(id="conflict", classes="conflict"):
                yield Static(id="conflict-message", markup=False)
                yield Button("Reload", id="reload", variant="warning", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#conflict").display = False
        self.query_one("#email", Input).focus()
        if not self.creating:
            self.query_one("#save", Button).disabled = True
            self.load_user()

    # --- loading ---------------------------------------------------------------------

    def _edited_id(self) -> int:
        if self.user_id is None:
            raise RuntimeError("A new user has no id to load or update.")
        return self.user_id

    @work(exclusive=True, group="user-form-load", exit_on_error=False)
    async def load_user(self) -> None:
        async with self.context.database.session() as session:
            user = await users.get_user(session, self.context.actor, self._edited_id())
            self.post_message(self.Loaded(UserRead.model_validate(user)))

    def on_user_form_dialog_loaded(self, event: Loaded) -> None:
        self.original = event.user
        self.query_one("#email", Input).value = event.user.email
        self.query_one("#full_name", Input).value = event.user.full_name
        self.query_one("#role", Select).value = event.user.role.value
        self.query_one("#is_active", Checkbox).value = event.user.is_active
        self.query_one("#conflict").display = False
        self.query_one("#save", Button).disabled = False

    # --- saving ----------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def submit(self) -> None:
        """Validate inline; when clean, save through the service layer."""
        self._show_errors({})
        generated = None
        try:
            if self.creating:
                values = self._create_values()
                if not values["password"]:
                    values["password"] = generated = generate_password()
                data: UserCreate | UserUpdate = UserCreate.model_validate(values)
            else:
                data = UserUpdate.model_validate(self._update_values())
        except ValidationError as error:
            self._show_errors(field_errors(error))
            return
        if self.original and _changes_nothing(data):
            self.notify(f"No changes to save for {self.original.email}.", markup=False)
            self.dismiss(None)
            return
        self.query_one("#save", Button).disabled = True
        self.save(data, generated)

    @work(exclusive=True, group="user-form-save", exit_on_error=False)
    async def save(self, data: UserCreate | UserUpdate, generated: str | None) -> None:
        context = self.context
        hasher = context.policy.hasher
        try:
            async with context.database.session() as session:
                if isinstance(data, UserCreate):
                    user = await users.create_user(session, context.actor, data, hasher)
                else:
                    user = await users.update_user(
                        session, context.actor, self._edited_id(), data, hasher
                    )
                saved = SavedUser(UserRead.model_validate(user), generated, created=self.creating)
        except Conflict as error:
            self.post_message(self.Refused(error, stale=await self._changed_meanwhile()))
            return
        except DomainError as error:
            self.post_message(self.Refused(error, stale=False))
            return
        self.post_message(self.Saved(saved))

    async def _changed_meanwhile(self) -> bool:
        if self.creating or self.original is None or self.user_id is None:
            return False
        async with self.context.database.session() as session:
            try:
                user = await users.get_user(session, self.context.actor, self.user_id)
            except DomainError:
                return True
            return user.version != self.original.version

    def on_user_form_dialog_saved(self, event: Saved) -> None:
        self.dismiss(event.saved)

    def on_user_form_dialog_refused(self, event: Refused) -> None:
        self.query_one("#save", Button).disabled = False
        error = event.error
        if not event.stale and error.field in _FIELDS:
            self._show_errors({error.field: error.message})  # beside the field, and only there
            return
        title, message = describe_error(error)
        if event.stale:
            self.query_one("#conflict-message", Static).update(message)
            self.query_one("#conflict").display = True
            self.query_one("#reload", Button).focus()
        else:
            self.query_one("#form-error", Static).update(message)
            self.query_one("#form-error").display = True
        self.notify(message, title=title, severity="error", markup=False)

    @on(Button.Pressed, "#reload")
    def _reload(self) -> None:
        self.query_one("#save", Button).disabled = True
        self.load_user()
        self.notify("Reloaded the latest version; your unsaved changes were discarded.")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed)
    def _clear_field_error(self, event: Input.Changed) -> None:
        if event.input.id in _FIELDS:
            self.query_one(f"#{event.input.id}-error", Static).display = False

    @on(Input.Blurred)
    def _check_left_field(self, event: Input.Blurred) -> None:
        """A field is checked as the cursor leaves it, so a typo shows before Save.

        Only a problem found is shown: an error the service gave (a taken email) stays
        until the field is edited, and an empty field is not scolded before Save.
        """
        name = event.input.id
        if name not in _FIELDS or not event.value or not self.is_attached:
            return
        if message := self._schema_errors().get(name):
            label = self.query_one(f"#{name}-error", Static)
            label.update(message)
            label.display = True

    # --- values ----------------------------------------------------------------------

    def _schema_errors(self) -> dict[str, str]:
        """What the API's schema says of the form as it stands, by field."""
        try:
            if self.creating:
                UserCreate.model_validate(self._create_values())
            else:
                UserUpdate.model_validate(self._update_values())
        except ValidationError as error:
            return field_errors(error)
        return {}

    def _create_values(self) -> dict[str, Any]:
        return {
            "email": self.query_one("#email", Input).value,
            "full_name": self.query_one("#full_name", Input).value,
            "role": self.query_one("#role", Select).value,
            "password": self.query_one("#password", Input).value,
        }

    def _update_values(self) -> dict[str, Any]:
        """Only what changed, with the version the form was filled from."""
        original = self.original
        if original is None:
            return {}  # still loading: UserUpdate then refuses the missing version
        current = {
            "email": self.query_one("#email", Input).value,
            "full_name": self.query_one("#full_name", Input).value,
            "role": self.query_one("#role", Select).value,
            "is_active": self.query_one("#is_active", Checkbox).value,
        }
        before = {
            "email": original.email,
            "full_name": original.full_name,
            "role": original.role.value,
            "is_active": original.is_active,
        }
        changed = {name: value for name, value in current.items() if value != before[name]}
        return {"version": original.version, **changed}

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name in (*_FIELDS, "form"):
            if not self.query(f"#{name}-error"):
                continue
            label = self.query_one(f"#{name}-error", Static)
            label.update(errors.get(name, ""))
            label.display = name in errors
        if unknown := {name: text for name, text in errors.items() if name not in _FIELDS}:
            self.query_one("#form-error", Static).update(" ".join(unknown.values()))
            self.query_one("#form-error").display = True
        # Enter in the last field must not leave the cursor far from what needs fixing.
        if first := next(
            (name for name in _FIELDS if name in errors and self.query(f"#{name}")), None
        ):
            self.query_one(f"#{first}").focus()


def _changes_nothing(data: UserCreate | UserUpdate) -> bool:
    """An edit that carries only the version: saving it would write nothing."""
    return isinstance(data, UserUpdate) and not data.model_fields_set - {"version"}


def _field(label: str, control: Any, name: str) -> ComposeResult:
    with Horizontal(classes="form-row"):
        yield Label(label, classes="form-label")
        yield control
    yield Static(id=f"{name}-error", classes="field-error", markup=False)
