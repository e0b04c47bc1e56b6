"""What the root options decide for every subcommand, and the database they open."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from console.cli.errors import CliError

if TYPE_CHECKING:
    import typer

    from backend.config import Settings
    from backend.database import Database

T = TypeVar("T")
UPGRADE_HINT = "run `backend-console db upgrade`"
_REASON_LIMIT = 200


@dataclass
class CliState:
    """The root options; settings are loaded on first use, so `--help` stays fast."""

    database_url: str | None = None
    host: str | None = None
    port: int | None = None
    no_server: bool = False
    read_only: bool = False
    api_url: str | None = None  # the route probe's target instead of the embedded API
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Settings from the environment, with --database-url taking precedence."""
        if self._settings is None:
            from backend.config import load_settings
            from backend.services import audit_key

            if self.database_url is None:
                self._settings = load_settings()
            else:
                self._settings = load_settings(database_url=self.database_url)
            audit_key.use_settings(self._settings)  # the audit chain's key, read when needed
        return self._settings

    def require_writable(self, what: str) -> None:
        """Refuse a command that writes when the operator asked for --read-only."""
        if self.read_only:
            raise CliError(f"Cannot {what} with --read-only.")


def state_of(ctx: typer.Context) -> CliState:
    state = ctx.find_object(CliState)
    return state if state is not None else CliState()


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run one command's async work to completion."""
    return asyncio.run(work)


@asynccontextmanager
async def open_database(
    settings: Settings, *, require_head: bool = True
) -> AsyncIterator[Database]:
    """The configured database, disposed of afterwards.

    With `require_head`, the embedded default database is migrated to head first (it
    needs no setup) and any other one must already be at head. Errors that mean the
    database cannot be reached become one CliError sentence.
    """
    database = _connect(settings.resolved_database_url)
    try:
        if require_head:
            await ensure_schema(database, settings)
        yield database
    except Exception as error:
        translated = _database_error(database.masked_url, error)
        if translated is None:
            raise
        raise translated from None
    finally:
        await database.dispose()


async def ensure_schema(database: Database, settings: Settings) -> None:
    """Migrate the embedded default to head (audited as the CLI's user), or else insist
    the schema is at head already."""
    from backend.services import schema

    if settings.uses_default_database:
        from backend.services import migrations
        from backend.services.actor import Actor

        guard = migrations.guard_options_from(settings)
        await migrations.upgrade(database.engine, actor=Actor.cli(), guard=guard)
        return
    current = await schema.current_revision(database.engine)
    head = schema.REQUIRED_REVISION
    if current != head:
        where = "has no schema yet" if current is None else f"is at revision {current}, not {head}"
        raise CliError(f"The database at {database.masked_url} {where}; {UPGRADE_HINT}.")


def _connect(url: str) -> Database:
    from backend.database import Database, mask_url

    try:
        return Database(url)  # ConfigError for an unusable URL
    except OSError as error:  # SQLite: the file's directory cannot be created
        raise unreachable(mask_url(url), error) from None


def unreachable(masked_url: str, error: BaseException) -> CliError:
    return CliError(f"Cannot reach the database at {masked_url}: {short_reason(error)}.")


def _database_error(masked_url: str, error: Exception) -> CliError | None:
    """The one-sentence CliError for a database failure; None for any other error."""
    from sqlalchemy.exc import DBAPIError

    if is_unreachable(error):
        return unreachable(masked_url, error)
    if isinstance(error, DBAPIError):
        # The driver's own words name the constraint or object, never the values.
        return CliError(f"The database at {masked_url} refused: {short_reason(error)}.")
    return None


def is_unreachable(error: BaseException) -> bool:
    """True for errors that mean "cannot connect to the database", not "bad query"."""
    from backend.database import is_unreachable as database_unreachable

    return database_unreachable(error)


def short_reason(error: BaseException) -> str:
    """The driver's reason, one line, without SQLAlchemy's wrapping."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    if isinstance(error, OSError) and error.errno is not None and error.errno > 0:
        text = os.strerror(error.errno)
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:_REASON_LIMIT].rstrip(".")
