"""Bringing the backend up next to the console: the schema check and the embedded server.

Everything heavy (Alembic, FastAPI, uvicorn) is imported here, in a thread, after the
first screen is painted: the console appears at once and the loop keeps drawing.
This module itself imports nothing heavy: the CLI uses it before Textual is loaded.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from backend.private_files import make_private_file

if TYPE_CHECKING:
    from backend.server import EmbeddedServer
    from console.context import ConsoleContext

SERVER_LOG_FILENAME = "console-server.log"


class StartupError(Exception):
    """The console cannot run; the message is one sentence for the operator."""


@dataclass(frozen=True, slots=True)
class ServerAddress:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class SchemaState:
    revision: str | None
    head: str | None
    migrated_now: bool = False

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the start-up, on again afterwards.

    Start-up builds mostly objects that live as long as the console (modules, screens,
    the API); each collection meanwhile only rescans them, 0.2-0.3 s in all. The app
    ends the pause itself once the backend is up (resume_collector).
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def resume_collector() -> None:
    """Start-up is over: freeze what it built, never to be rescanned, and collect again."""
    gc.freeze()
    gc.enable()


async def _import(name: str) -> ModuleType:
    # Importing in a thread keeps the event loop drawing meanwhile.
    return await asyncio.to_thread(importlib.import_module, name)


async def prepare_schema(context: ConsoleContext) -> SchemaState:
    """Read the schema revision; migrate the embedded SQLite default up to head.

    Only the embedded default is migrated automatically (DESIGN.md): a shared or
    production database changes only by an explicit `db upgrade`. Alembic is loaded
    only then: reading the revision needs none of it.
    Raises StartupError when the database does not answer or a revision fails.
    """
    from sqlalchemy.exc import DBAPIError  # loaded with the database, before this runs

    from backend.services import schema
    from backend.services.errors import DomainError

    engine = context.database.engine
    head = schema.REQUIRED_REVISION
    try:
        revision = await schema.current_revision(engine)
        if revision != head and context.settings.uses_default_database:
            migrations = await _import("backend.services.migrations")
            # Audited like any run, as the operator at this console.
            guard = migrations.guard_options_from(context.settings)
            await migrations.upgrade(engine, actor=context.actor, guard=guard)
            return SchemaState(revision=head, head=head, migrated_now=True)
    except (OSError, DBAPIError) as error:
        raise StartupError(_unreachable(context, error)) from None
    except DomainError as error:  # a revision failed: its sentence says which, and where
        raise StartupError(error.message) from None
    return SchemaState(revision=revision, head=head)


def _unreachable(context: ConsoleContext, error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    reason = str(original).strip().splitlines()[0] if str(original).strip() else "no answer"
    return f"Cannot reach the database at {context.database.masked_url} ({reason})."


async def start_server(context: ConsoleContext, address: ServerAddress) -> EmbeddedServer:
    """Serve the API on `address`, sharing the console's database (engine and pool).

    Raises StartupError when the address cannot be bound or the API cannot start.
    """
    main = await _import("backend.main")
    server_module = await _import("backend.server")
    request_log_module = await _import("backend.middleware.request_log")
    request_log = request_log_module.RequestLog()
    api = main.create_app(context.settings, database=context.database, request_log=request_log)
    server: EmbeddedServer = server_module.EmbeddedServer(
        api, address.host, address.port, log_handler=_server_log_handler(context)
    )
    try:
        await server.start()
    except server_module.ServerStartError as error:
        raise StartupError(str(error)) from None
    context.request_log = request_log
    context.api_started_at = context.clock()
    return server


def _server_log_handler(context: ConsoleContext) -> logging.Handler:
    """uvicorn's and the access log's lines go to a file: the terminal is the console's."""
    path = Path(context.settings.data_dir) / SERVER_LOG_FILENAME
    make_private_file(path)  # request lines and client addresses: the owner's only
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    access = logging.getLogger("backend.access")
    access.handlers = [handler]
    access.propagate = False
    access.setLevel(logging.INFO)
    return handler
