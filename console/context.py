"""What every screen needs: settings, the shared database, the policy and the actor.

Screens reach the backend only through `backend.services` with these objects; they
never build sessions or engines of their own and never import the API's routers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from backend.config import Settings
from backend.database import Database, utcnow
from backend.services import audit_key
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy

if TYPE_CHECKING:
    from backend.middleware.request_log import RequestLog


@dataclass(slots=True)
class ConsoleContext:
    settings: Settings
    database: Database
    policy: AuthPolicy
    actor: Actor
    read_only: bool = False
    api_url: str | None = None  # None while the embedded server is off
    # The embedded server's live request log and when it started (the Dashboard shows both).
    request_log: RequestLog | None = None
    api_started_at: dt.datetime | None = None
    # What "now" is for the screens (relative times, lock state); tests pin it.
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    # The zone dates are shown in; None means the machine's local zone.
    display_timezone: dt.tzinfo | None = None
    # Set once the app has checked (and, for the embedded default, migrated) the schema:
    # screens wait for it before their first query.
    schema_checked: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the embedded server answers at `api_url` (the route probe waits for it).
    api_started: asyncio.Event = field(default_factory=asyncio.Event)
    # Whether that check found the schema at head (False: tables may lack new columns).
    schema_at_head: bool = True
    # A token the Tokens screen handed to the route probe ("use in route probe").
    probe_token: str | None = None
    # --api-url: the route probe talks to this server rather than the embedded API.
    # Its database and key may be another's, so it cannot sign "as user" for it.
    probe_api_url: str | None = None
    # The Migrations screen's script directory; None: the project's own alembic/.
    migration_scripts: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, read_only: bool = False) -> ConsoleContext:
        """A context for the operator at this terminal, on the settings' database.

        Raises ConfigError when the settings are unusable (e.g. no SECRET_KEY in production).
        """
        audit_key.use_settings(settings)  # the audit chain is signed with this SECRET_KEY
        return cls(
            settings=settings,
            database=Database(settings.resolved_database_url),
            policy=AuthPolicy.from_settings(settings),
            actor=Actor.console(),
            read_only=read_only,
        )

    def local_time(self, moment: dt.datetime) -> dt.datetime:
        """`moment` in the display zone."""
        return moment.astimezone(self.display_timezone)
