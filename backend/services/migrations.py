"""Alembic, driven from inside a running event loop (the console's or the CLI's).

Each command runs on a sync connection that the async engine lends through
`run_sync`, handed to env.py in `config.attributes["connection"]`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import backend.models  # noqa: F401  (registers every table on Base.metadata)
from backend.database import Base
from backend.services.errors import InvalidInput
from backend.services.schema import current_revision

PROJECT_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str
    is_head: bool
    is_applied: bool


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic config; `url` overrides the settings URL (offline --sql)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if url is not None:
        # ConfigParser would read "%" as interpolation.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return script_directory().get_current_head()


async def _on_connection(
    engine: AsyncEngine, work: Callable[[Connection], T], *, transactional: bool = True
) -> T:
    async with engine.connect() as connection:
        result = await connection.run_sync(work)
        if transactional:
            await connection.commit()
        return result


def _run_command(name: str, *args: Any) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        try:
            getattr(command, name)(config, *args)
        except CommandError as error:
            raise InvalidInput(_one_sentence(error)) from None

    return run


def _one_sentence(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if text.endswith(".") else text + "."


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate up to `revision`. Raises InvalidInput for an unknown revision."""
    await _on_connection(engine, _run_command("upgrade", revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate down to `revision` ("base" for an empty database). Raises InvalidInput."""
    await _on_connection(engine, _run_command("downgrade", revision))


async def stamp(engine: AsyncEngine, revision: str) -> None:
    """Record `revision` as current without running migrations. Raises InvalidInput."""
    await _on_connection(engine, _run_command("stamp", revision))


def offline_sql(command_name: str, revision: str, url: str) -> str:
    """The SQL that `upgrade`/`downgrade` would run, as text (Alembic's --sql mode)."""
    buffer = io.StringIO()
    config = alembic_config(url)
    config.output_buffer = buffer
    try:
        if command_name == "downgrade" and ":" not in revision:
            # Offline downgrades need an explicit start; use the head.
            revision = f"{head_revision()}:{revision}"
        getattr(command, command_name)(config, revision, sql=True)
    except CommandError as error:
        raise InvalidInput(_one_sentence(error)) from None
    return buffer.getvalue()


async def history(engine: AsyncEngine) -> list[Revision]:
    """Every revision, newest first, with whether the database has it applied."""
    current = await current_revision(engine)
    scripts = script_directory()
    applied: set[str] = set()
    if current is not None:
        applied = {script.revision for script in scripts.iterate_revisions(current, "base")}
    heads = set(scripts.get_heads())
    return [
        Revision(
            revision=script.revision,
            down_revision=_as_single(script.down_revision),
            message=script.doc or "",
            is_head=script.revision in heads,
            is_applied=script.revision in applied,
        )
        for script in scripts.walk_revisions()
    ]


def _as_single(value: str | list[str] | tuple[str, ...] | None) -> str | None:
    if isinstance(value, list | tuple):
        return ",".join(value)
    return value


def dialect_filter(dialect_name: str) -> Callable[..., bool]:
    """An Alembic `include_object` hook that skips objects meant for another dialect.

    Objects tagged `info["dialect"]` (e.g. PostgreSQL's trigram indexes) exist only there.
    """

    def include(obj: Any, _name: str | None, _type: str, _reflected: bool, _other: Any) -> bool:
        wanted = getattr(obj, "info", {}).get("dialect")
        return wanted is None or wanted == dialect_name

    return include


async def pending_model_changes(engine: AsyncEngine) -> list[str]:
    """Differences between the models and the migrated schema (empty when they match)."""

    def compare(connection: Connection) -> list[str]:
        opts = {
            "compare_type": True,
            "render_as_batch": True,
            "include_object": dialect_filter(connection.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=opts)
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes; ours are PostgreSQL-only anyway.
            warnings.filterwarnings("ignore", message="autogenerate skipping .*expression-based")
            return [repr(diff) for diff in compare_metadata(context, Base.metadata)]

    return await _on_connection(engine, compare, transactional=False)
