"""What the console's start-up loads, checked in a fresh interpreter.

Start-up time is mostly import time (bench/bench_startup.py measures it): by the time
the first page is shown and the embedded API answers, nothing that only a later
action needs may have been loaded. The heaviest areas are loaded a while later, in the
background (console/warm_up.py), before a key asks for them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from test_cli import cli_environment, migrate

# Each is loaded by the action that needs it, never by start-up.
LOADED_LATER = (
    "passlib",  # the first password hashed or checked
    "jose",  # the first token issued or checked
    "alembic",  # a migration; the schema check reads the revision without it
    "watchfiles",  # never: uvicorn imports it for --reload when installed (uvicorn[standard])
    "console.screens.user_form",
    "console.screens.password_dialog",
    "console.screens.export_dialog",
    "backend.services.export",
    "console.screens.tokens",
    "console.screens.routes",  # the route probe, and what only it needs:
    "backend.services.probe",
    "jsonschema",
    "tree_sitter",
)

# Loaded a while after start-up, in the background, before any key asks for them.
WARMED_UP = (
    "alembic",
    "console.screens.migrations",
    "console.screens.routes",
    "console.screens.tokens",
)

# The console as run_console builds it, on a migrated database, with the API on a
# free port; once it is up it reports what is loaded and quits.
PROBE = f"""
import asyncio, gc, sys
import console.app
from backend.config import load_settings
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.startup import ServerAddress

frozen_at_start_up = []
resume_collector = console.app.resume_collector
def resume_and_count():
    resume_collector()
    frozen_at_start_up.append(gc.get_freeze_count())
console.app.resume_collector = resume_and_count

async def until_up(pilot):
    app = pilot.app
    while app.context.api_url is None or any(not w.is_finished for w in app.workers):
        await pilot.pause(0.02)
    print("screen:", type(app.screen).__name__)
    print("loaded:", [name for name in {LOADED_LATER!r} if name in sys.modules])
    while app.warm_up is None:
        await pilot.pause(0.05)
    await asyncio.to_thread(app.warm_up.join, 30)
    print("warmed up:", [name for name in {WARMED_UP!r} if name in sys.modules])
    print("what it loaded is frozen too:", gc.get_freeze_count() > frozen_at_start_up[0])
    await pilot.press("q")

context = ConsoleContext.from_settings(load_settings())
app = BackendConsoleApp(context, server=ServerAddress("127.0.0.1", 0))
asyncio.run(app.run_async(headless=True, size=(100, 30), auto_pilot=until_up))
print("exit:", app.return_code)
"""


async def test_the_console_is_up_before_loading_what_only_later_actions_need_then_warms_up(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    await migrate(database_url)
    completed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PROBE],
        env={**cli_environment(tmp_path), "DATABASE_URL": database_url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = [
        "screen: DashboardScreen",
        "loaded: []",
        f"warmed up: {list(WARMED_UP)}",
        "what it loaded is frozen too: True",
        "exit: 0",
    ]
    assert completed.stdout.splitlines() == expected, completed.stderr
