"""Settings: one object, read from the environment and `.env` (DESIGN.md's table)."""

from __future__ import annotations

import logging
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.private_files import make_private_dir

logger = logging.getLogger(__name__)

APP_NAME = "backend-console"
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILENAME = "secret_key"
SQLITE_FILENAME = "backend-console.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConfigError(Exception):
    """The settings cannot be used; the message is one sentence for the operator."""


class Settings(BaseSettings):
    """Everything the backend and the console read from their environment."""

    # An empty variable (DATA_DIR= in a shell or .env, ${VAR:-} in compose) means
    # unset: an empty DATA_DIR would otherwise put the database and the key in the cwd.
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    database_url: str = ""
    secret_key: SecretStr | None = None
    environment: Environment = Environment.DEVELOPMENT
    jwt_algorithm: str = "HS256"
    access_token_expire_minutes: Annotated[int, Field(gt=0, le=60 * 24 * 365)] = 30
    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=0, le=65535)] = 8000
    login_max_failures: Annotated[int, Field(gt=0)] = 5
    login_lockout_minutes: Annotated[int, Field(gt=0)] = 15
    # Extensions beyond DESIGN.md: where the embedded defaults live, and bcrypt's cost
    # (tests lower it; production keeps the default).
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir(APP_NAME)))
    bcrypt_rounds: Annotated[int, Field(ge=4, le=16)] = 12
    jwt_leeway_seconds: Annotated[int, Field(ge=0, le=300)] = 10
    # How long the route probe (console and `call`) waits for an answer.
    probe_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    # Migrations (PostgreSQL): how long a run waits for another run's lock, and the
    # lock_timeout / statement_timeout its statements get (0: no statement limit).
    migration_lock_wait_seconds: Annotated[float, Field(gt=0, le=3600)] = 60
    migration_lock_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 10
    migration_statement_timeout_seconds: Annotated[float, Field(ge=0, le=86400)] = 900

    @field_validator("jwt_algorithm")
    @classmethod
    def _only_hmac_algorithms(cls, value: str) -> str:
        # The backend signs with one shared secret, so only HMAC algorithms make sense.
        if value not in {"HS256", "HS384", "HS512"}:
            raise ValueError("JWT_ALGORITHM must be HS256, HS384 or HS512")
        return value

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / SQLITE_FILENAME}"

    @property
    def uses_default_database(self) -> bool:
        return not self.database_url

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def signing_key(self) -> str:
        """The JWT signing key; generated and kept in the data dir in development."""
        # An empty SECRET_KEY (a blank line in .env) counts as unset.
        if self.secret_key is not None and self.secret_key.get_secret_value():
            key = self.secret_key.get_secret_value()
            if self.is_production and len(key) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                    "when ENVIRONMENT=production."
                )
            return key
        if self.is_production:
            raise ConfigError("SECRET_KEY must be set when ENVIRONMENT=production.")
        return _load_or_create_dev_key(self.data_dir / SECRET_KEY_FILENAME)

    def validate_for_startup(self) -> None:
        """Raise ConfigError now rather than on the first login."""
        self.signing_key()


def _load_or_create_dev_key(path: Path) -> str:
    if path.exists():
        return _read_dev_key(path)
    make_private_dir(path.parent)
    key = secrets.token_urlsafe(48)
    # Written in full under a private name, then linked into place: two processes
    # starting at once agree on one key, and neither can read a half-written file.
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    try:
        os.link(draft, path)
    except FileExistsError:
        return _read_dev_key(path)
    finally:
        draft.unlink()
    logger.warning("No SECRET_KEY set: generated one and stored it in %s (mode 0600).", path)
    return key


def _read_dev_key(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ConfigError(f"The key file {path} is empty; delete it or set SECRET_KEY.")
    return key


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one-sentence ConfigErrors."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper()
        # Our own validators' messages arrive as "Value error, <sentence>".
        message = first["msg"].removeprefix("Value error, ").rstrip(".")
        raise ConfigError(f"Setting {field} is invalid: {message}.") from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return load_settings()
