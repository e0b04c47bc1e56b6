"""What the Tokens screen tests share: a small host app, a clock, deterministic tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from token_attack_cases import b64url, hmac_signed_segments, json_segment

from backend.config import Settings
from backend.database import Database, utcnow
from backend.services.actor import Actor
from backend.services.jwt_codec import encode_token
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.context import ConsoleContext

# 2030-01-01 06:00:00 UTC: every screenshot and verdict is taken at this moment.
FIXED_NOW = 1_893_477_600
FIXED_JTI = "jti-0000-fixed-for-snapshots"


@dataclass
class ManualClock:
    """A clock the test moves by hand (the context's `clock`)."""

    at: float = FIXED_NOW

    def __call__(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, dt.UTC)


def console_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    read_only: bool = False,
) -> BackendConsoleApp:
    """The console, opened on the Tokens screen, without the embedded server.

    Without `database` the app gets a fresh one from the settings; it connects inside
    the app's own event loop (snapshot tests run the app in a loop of its own).
    """
    context = ConsoleContext(
        settings=settings,
        database=database or Database(settings.resolved_database_url),
        policy=AuthPolicy.from_settings(settings),
        actor=Actor.console("tester"),
        read_only=read_only,
        clock=clock,
        display_timezone=dt.UTC,
    )
    return BackendConsoleApp(context, server=None, first_area="tokens")


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and every message it posted be handled; no bug reported.

    The console turns unexpected exceptions into notices and stays up, so a test must
    look for them: any would be a bug.
    """
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    errors = getattr(pilot.app, "unexpected_errors", [])
    assert errors == [], [repr(e) for e in errors]


def stop_cursor_blink(pilot: Pilot[Any]) -> None:
    """Screenshots must not depend on when a cursor blinked."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False


def fixed_claims(user_id: int, **overrides: Any) -> dict[str, Any]:
    """A login's claims for `user_id`, issued 10 minutes before FIXED_NOW, 30 min long."""
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": "admin",
        "iat": FIXED_NOW - 600,
        "exp": FIXED_NOW + 1200,
        "jti": FIXED_JTI,
        **overrides,
    }
    return claims


def fixed_token(key: str, user_id: int, **overrides: Any) -> str:
    """A deterministic token signed with `key`, exactly as the backend signs."""
    return encode_token(fixed_claims(user_id, **overrides), key, "HS256")


def tampered(token: str, **changes: Any) -> str:
    """`token` with its payload edited after signing (the signature no longer matches)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{json_segment({**claims, **changes})}.{signature}"


def raw_payload_token(payload_json: str, key: str) -> str:
    """A correctly signed token whose payload is `payload_json` verbatim (NaN, 1e400...)."""
    header = json_segment({"alg": "HS256", "typ": "JWT"})
    return hmac_signed_segments(header, b64url(payload_json.encode("utf-8")), key)


def text_of(app: App[Any], selector: str) -> str:
    """The plain text a Static shows."""
    content = app.screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Content) else str(content)
