"""How the Migrations screen looks: the graph, a destructive plan, a run under way, a
failure, the drift panel, read-only, the choice of a head to step down. Regenerate with
--snapshot-update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from console_users_kit import freeze_cursors, settle
from migration_kit import BRANCHES, HEAD, project_with
from sqlalchemy import text
from test_console_migrations import BROKEN, until
from test_console_snapshots import DATABASE_URL, SnapCompare, _run_in_fresh_thread, console
from textual.pilot import Pilot

from backend.config import Settings
from backend.database import Database
from backend.services import migrations
from backend.services.migrations import PlanStep, StepStarted
from console.screens.migration_head_dialog import HeadChoiceDialog
from console.screens.migration_plan_dialog import PlanDialog
from console.screens.migrations import MigrationsScreen

SIZE = (140, 45)
Step = Callable[[Pilot[Any]], Awaitable[None]]


def prepared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, revision: str) -> Settings:
    """Settings on a SQLite file (a relative URL, as the status bar shows it) at `revision`."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL, Path("data"))

    async def migrate() -> None:
        database = Database(DATABASE_URL)
        await migrations.upgrade(database.engine, revision)
        if revision == HEAD:
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP INDEX ix_users_role_email"))
        await database.dispose()

    _run_in_fresh_thread(migrate)
    return settings


def prepared_at_two_heads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a SQLite file at both branches of BRANCHES (0101 and 0102, not merged)."""
    monkeypatch.chdir(tmp_path)
    project = project_with(tmp_path, BRANCHES)

    async def migrate() -> None:
        database = Database(DATABASE_URL)
        await migrations.upgrade(database.engine, "heads", project=project)
        await migrations.downgrade(database.engine, "0102", project=project)
        await database.dispose()

    _run_in_fresh_thread(migrate)
    return make_settings(DATABASE_URL, Path("data"))


def on_migrations(*steps: Step) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        for step in steps:
            await step(pilot)
        await pilot.pause()
        freeze_cursors(pilot)

    return run


def press(*keys: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await settle(pilot)

    return step


async def open_plan(pilot: Pilot[Any]) -> None:
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, PlanDialog))
    await pilot.pause()


async def choose_a_head(pilot: Pilot[Any]) -> None:
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, HeadChoiceDialog))
    await pilot.pause()


async def run_to_failure(pilot: Pilot[Any]) -> None:
    await pilot.press("g")
    await until(pilot, lambda: isinstance(pilot.app.screen, PlanDialog))
    await pilot.click("#plan-run")
    await until(pilot, lambda: isinstance(pilot.app.screen, MigrationsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MigrationsScreen)
    await until(pilot, lambda: not screen.running)
    await settle(pilot)


async def a_step_under_way(pilot: Pilot[Any]) -> None:
    """What a run shows half-way (its messages, without the clock of a real one)."""
    screen = pilot.app.screen
    assert isinstance(screen, MigrationsScreen)
    step = PlanStep(HEAD, migrations.Direction.UP, ("0001",), "Indexes for the Users screen.")
    screen.running = True
    screen.refresh_bindings()
    log = await screen.run_log()
    log.begin(f"upgrade 0001 -> {HEAD} (1 step)", 1)
    log.show_event(StepStarted(1, 1, step))
    await pilot.pause()


def test_the_revision_graph_with_a_pending_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared(tmp_path, monkeypatch, "0001"))
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations())


def test_the_plan_dialog_of_a_destructive_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared(tmp_path, monkeypatch, "0001"))
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations(open_plan))


def test_a_migration_under_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared(tmp_path, monkeypatch, "0001"))
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations(a_step_under_way))


def test_a_failed_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    settings = prepared(tmp_path, monkeypatch, HEAD)
    app = console(settings)
    app.context.migration_scripts = project_with(
        tmp_path, {"0099_broken.py": BROKEN}
    ).script_location
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations(run_to_failure))


def test_the_drift_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared(tmp_path, monkeypatch, HEAD))
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations(press("c")))


def test_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared(tmp_path, monkeypatch, "0001"), read_only=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations())


def test_one_step_down_from_two_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: SnapCompare
) -> None:
    app = console(prepared_at_two_heads(tmp_path, monkeypatch))
    app.context.migration_scripts = tmp_path / "alembic"
    assert snap_compare(app, terminal_size=SIZE, run_before=on_migrations(choose_a_head))
