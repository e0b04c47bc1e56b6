"""The Migrations screen's first opening in a new console, for bench_migrations.py.

    python bench/first_open.py SCRIPT_LOCATION DATABASE_URL DATA_DIR [--after-warm-up]

Nothing of Alembic or of the screen is imported before the key: as in a console just
started on a database at head, the first `m` imports them, reads the revision files and
renders the SQL. With --after-warm-up the key comes once the console's background
warm-up (console/warm_up.py, a second after start-up) has imported them and read the
files, as for an operator who did not press `m` in the console's first second.
The database here is past our own head (at a generated revision), so the console is
told that revision is its head: otherwise the Dashboard would load Alembic first, to
count the pending revisions.
Prints the milliseconds (wall, then CPU) from the key to the first frame with the
graph and the selected revision's SQL.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from textual.message import Message
from textual.pilot import Pilot

from backend.config import load_settings
from backend.services import schema
from backend.services.actor import Actor
from console.app import BackendConsoleApp
from console.context import ConsoleContext

SECRET_KEY = "bench-secret-key-0123456789-0123456789-abcdef"


async def time_to_frame(pilot: Pilot[None], key: str, shown: asyncio.Event) -> tuple[float, float]:
    """Seconds (wall, CPU) from `key` to the first frame after `shown` is set.

    Not to Pilot's press returning: that waits until the process has been idle a while.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    press = asyncio.create_task(pilot.press(key))
    await shown.wait()
    drawn = asyncio.Event()
    pilot.app.screen.call_after_refresh(drawn.set)
    await drawn.wait()
    sample = (time.perf_counter() - started, time.process_time() - cpu_started)
    await press
    return sample


async def first_open(
    location: Path, url: str, data_dir: Path, after_warm_up: bool
) -> tuple[float, float]:
    settings = load_settings(database_url=url, secret_key=SECRET_KEY, data_dir=data_dir)
    context = ConsoleContext.from_settings(settings)
    context.actor = Actor.console("bench")
    context.migration_scripts = location
    at = await schema.current_revision(context.database.engine)
    assert at is not None, "the bench's database is migrated half-way first"
    schema.REQUIRED_REVISION = at
    app = BackendConsoleApp(context, server=None)
    shown = asyncio.Event()

    def on_message(message: Message) -> None:
        # By name: importing the screen's class would import what is being timed.
        if type(message).__name__ == "DetailLoaded":
            shown.set()

    async with app.run_test(size=(140, 45), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "alembic" not in sys.modules, "the console loaded Alembic before the key"
        if after_warm_up:
            while app.warm_up is None:
                await pilot.pause(0.05)
            await asyncio.to_thread(app.warm_up.join)
        sample = await time_to_frame(pilot, "m", shown)
        await pilot.press("q")
    await context.database.dispose()
    return sample


if __name__ == "__main__":
    location, url, data_dir = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    after_warm_up = sys.argv[4:] == ["--after-warm-up"]
    wall, cpu = asyncio.run(first_open(location, url, data_dir, after_warm_up))
    print(f"{wall * 1000:.1f} {cpu * 1000:.1f}")
