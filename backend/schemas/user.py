"""User schemas: the validation rules every client shares."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from backend.models import Role
from backend.services.passwords import password_problem


def _normalize_email(value: str) -> str:
    # One spelling per mailbox: the unique index on users.email is then case-insensitive.
    return value.strip().lower()


def _check_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; SQLite could, and the two must agree.
    if "\x00" in value:
        raise ValueError("Full name must not contain NUL characters.")
    return value


# Marks a secret field in the JSON Schema, as pydantic's SecretStr and FastAPI's login
# form do: a 422 answer never echoes its value (backend/api/secret_fields.py reads this).
SECRET = {"format": "password", "writeOnly": True}

Email = Annotated[EmailStr, Field(max_length=320), AfterValidator(_normalize_email)]
Password = Annotated[str, AfterValidator(_check_password), Field(json_schema_extra=SECRET)]
FullName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_check_no_nul)
]


class _PartialUpdate(BaseModel):
    """A partial edit: a field left out keeps its value; an explicit null is an error."""

    model_config = ConfigDict(extra="forbid")
    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> Self:
        nulls = sorted(
            name
            for name in self.model_fields_set - self.nullable_fields
            if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out to keep it.")
        return self


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName = ""
    role: Role = Role.USER


class UserRegister(BaseModel):
    """Self-service sign-up: always the `user` role."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName = ""


class UserUpdate(_PartialUpdate):
    """A partial edit; `version` is the one the editor read (optimistic locking)."""

    version: int = Field(ge=1)
    email: Email | None = None
    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


class MeUpdate(_PartialUpdate):
    """What a user may change on their own account."""

    nullable_fields = frozenset({"current_password"})

    email: Email | None = None
    full_name: FullName | None = None
    new_password: Password | None = None
    current_password: Annotated[str, Field(json_schema_extra=SECRET)] | None = Field(
        default=None, max_length=1024
    )


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None
    failed_login_count: int
    tokens_valid_after: dt.datetime | None


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None
    total: int | None = Field(description="Row count; an estimate when `total_is_estimate`.")
    total_is_estimate: bool = False
