"""The Migrations screen and plans on a project with 200 revisions (a temporary script dir).

1. Opening the screen (key m) on a SQLite database half-way up the history: the time
   from the key to the first frame with the graph and the selected revision's upgrade
   and downgrade SQL (target: 300 ms), the first time in a process (every revision file
   read, bytecode cached as the installed console has it), again (the files kept,
   unchanged), and the first time in a console just started (first_open.py: Alembic and
   the screen's modules are imported by that key, as start-up leaves them out) and in
   one up for a second (its background warm-up has imported them); beside
   them the Tokens screen, a light screen with no database work on opening, for scale.
   They take turns, a new console each.
2. A plan + SQL preview for the whole history (base -> head) and for the last 10 steps,
   against Alembic's own offline run of the same steps (`upgrade --sql`), interleaved;
   medians and the difference (target: within 100 ms of Alembic's).

    uv run python bench/bench_migrations.py [--revisions 200] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.environment import EnvironmentContext
from first_open import SECRET_KEY, time_to_frame
from textual import events
from textual.message import Message

from backend.config import load_settings
from backend.database import Database
from backend.services import audit_key, migrations
from backend.services.actor import Actor
from backend.services.migrations import MigrationProject
from backend.services.migrations.project import PROJECT_ROOT
from console.app import BackendConsoleApp
from console.context import ConsoleContext
from console.screens.migrations import MigrationsScreen

Sample = tuple[float, float]  # seconds: wall, CPU
REVISION = '''"""Generated revision {n}.

Revision ID: {rev}
Create Date: 2030-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "t_{n}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(40))
    )
    op.create_index("ix_t_{n}_v", "t_{n}", ["v"])


def downgrade() -> None:
    op.drop_index("ix_t_{n}_v", table_name="t_{n}")
    op.drop_table("t_{n}")
'''


def generated_project(root: Path, count: int) -> Path:
    """A copy of alembic/ with `count` revisions above our head."""
    location = root / "alembic"
    shutil.copytree(
        PROJECT_ROOT / "alembic", location, ignore=shutil.ignore_patterns("__pycache__")
    )
    down = migrations.head_revision()
    for n in range(1, count + 1):
        rev = f"g{n:04d}"
        source = REVISION.format(n=n, rev=rev, down=down)
        (location / "versions" / f"{rev}_generated.py").write_text(source, encoding="utf-8")
        down = rev
    return location


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Opening(Enum):
    FIRST = "first open (the revision files read)"
    AGAIN = "open again (the files unchanged)"
    NEW_CONSOLE = "first open in a new console (Alembic and the screen imported then)"
    NEW_CONSOLE_WARMED = "first open in a new console after its warm-up (1 s after start)"
    TOKENS = "the Tokens screen (for scale)"


# The message after which the next frame shows what is timed: the selected revision's
# SQL (the graph comes before it), or the Tokens screen.
_SHOWN_BY: dict[Opening, type[Message]] = {
    Opening.FIRST: MigrationsScreen.DetailLoaded,
    Opening.AGAIN: MigrationsScreen.DetailLoaded,
    Opening.TOKENS: events.ScreenResume,
}


async def new_console_open(
    location: Path, url: str, data_dir: Path, *, after_warm_up: bool
) -> Sample:
    """The first opening in a console of its own (first_open.py, a new interpreter)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": sys.pycache_prefix or ""}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT_ROOT / "bench" / "first_open.py"),
        str(location),
        url,
        str(data_dir),
        *(["--after-warm-up"] if after_warm_up else []),
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    out, _ = await child.communicate()
    wall, cpu = (float(ms) / 1000 for ms in out.split())
    return wall, cpu


async def screen_open(location: Path, url: str, data_dir: Path, opening: Opening) -> Sample:
    if opening in (Opening.NEW_CONSOLE, Opening.NEW_CONSOLE_WARMED):
        warmed = opening is Opening.NEW_CONSOLE_WARMED
        return await new_console_open(location, url, data_dir, after_warm_up=warmed)
    return await open_in_this_process(location, url, data_dir, opening)


async def open_in_this_process(
    location: Path, url: str, data_dir: Path, opening: Opening
) -> Sample:
    """Seconds (wall, CPU) from the key to the first frame with the graph and the selected
    revision's SQL (the Tokens screen's first frame, for scale).

    A new console each time. FIRST touches a revision file first, so the screen reads
    every file again, as the first opening in a process does; AGAIN finds them as read
    before.
    """
    settings = load_settings(database_url=url, secret_key=SECRET_KEY, data_dir=data_dir)
    database = Database(url)
    context = ConsoleContext.from_settings(settings)
    context.database = database
    context.actor = Actor.console("bench")
    context.migration_scripts = location
    app = BackendConsoleApp(context, server=None)
    shown = asyncio.Event()

    def on_message(message: Message) -> None:
        if isinstance(message, _SHOWN_BY[opening]):
            shown.set()

    async with app.run_test(size=(140, 45), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if opening is Opening.FIRST:
            touched = next((location / "versions").glob("g0001_*.py"))
            os.utime(touched, ns=(time.time_ns(), time.time_ns()))
        shown.clear()  # the Dashboard's own ScreenResume came before
        key = "t" if opening is Opening.TOKENS else "m"
        sample = await time_to_frame(pilot, key, shown)
        await pilot.press("q")
    await database.dispose()
    return sample


def report(label: str, samples: list[Sample]) -> None:
    walls, cpus = [wall for wall, _ in samples], [cpu for _, cpu in samples]
    print(
        f"  {label}: median {median_ms(walls):.0f} ms (best {min(walls) * 1000:.0f}, worst "
        f"{max(walls) * 1000:.0f}); CPU median {median_ms(cpus):.0f} ms (best "
        f"{min(cpus) * 1000:.0f})"
    )


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def alembic_offline(project: MigrationProject, url: str, start: str, end: str) -> None:
    config = project.config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, f"{start}:{end}", sql=True)


def alembic_offline_warm(project: MigrationProject, url: str, start: str, end: str) -> None:
    """Alembic's own offline run on the script directory already read (as ours is)."""
    scripts = project.scripts()
    config = project.config(url)
    config.output_buffer = io.StringIO()

    def upgrade(rev: Any, _context: Any) -> Any:
        return scripts._upgrade_revs(end, rev)

    with EnvironmentContext(
        config, scripts, fn=upgrade, as_sql=True, starting_rev=start, destination_rev=end
    ):
        scripts.run_env()


def plan_and_preview(project: MigrationProject, url: str, start: tuple[str, ...]) -> None:
    scripts = project.scripts()
    plan = migrations.make_plan(scripts, migrations.state_for(scripts, start), "head")
    migrations.preview_plan(project, plan, url)


def compare_previews(location: Path, url: str, rounds: int) -> None:
    project = MigrationProject(location)
    scripts = project.scripts()
    head = scripts.get_current_head() or ""
    chain = [script.revision for script in scripts.walk_revisions()]  # newest first
    for label, start in (("base -> head", ()), ("last 10 steps", (chain[10],))):
        ours: list[float] = []
        theirs: list[float] = []
        warm: list[float] = []
        begin = start[0] if start else "base"
        for _ in range(rounds):
            ours.append(timed(partial(plan_and_preview, project, url, start)))
            theirs.append(timed(partial(alembic_offline, project, url, begin, head)))
            warm.append(timed(partial(alembic_offline_warm, project, url, begin, head)))
        mine, alembic, alembic_warm = median_ms(ours), median_ms(theirs), median_ms(warm)
        print(
            f"  {label:14} plan + preview {mine:6.1f} ms; alembic upgrade --sql {alembic:6.1f} ms"
            f" (difference {mine - alembic:+6.1f}), on the scripts already read "
            f"{alembic_warm:6.1f} ms (difference {mine - alembic_warm:+6.1f})"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-migrations-"))
    # As the installed console runs (console/launcher.py): bytecode cached, in a folder of
    # its own. Without it each of the 200 revision files is compiled at every read.
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(root / "pycache")
    try:
        location = generated_project(root, args.revisions)
        url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
        # The audit chain's key: never one generated in the user's own data dir.
        audit_key.use_settings(load_settings(secret_key=SECRET_KEY))
        database = Database(url)
        project = MigrationProject(location)
        await migrations.upgrade(database.engine, f"g{args.revisions // 2:04d}", project=project)
        await database.dispose()
        print(f"{args.revisions} generated revisions (+ ours), a SQLite database half-way up")
        print("the key to the first frame with the graph and the selected revision's SQL:")
        samples: dict[Opening, list[Sample]] = {opening: [] for opening in Opening}
        for _ in range(args.rounds):  # taking turns: a slower spell slows all alike
            for opening in Opening:
                samples[opening].append(await screen_open(location, url, root / "data", opening))
        for opening, taken in samples.items():
            report(opening.value, taken)
        for dialect_url in (url, "postgresql+asyncpg://bench@localhost/bench"):
            print(f"plan + SQL preview on {dialect_url.split(':')[0]} (offline, no connection):")
            compare_previews(location, dialect_url, args.rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
