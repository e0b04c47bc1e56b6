"""The Migrations screen driven by Pilot: the graph, plans and runs, failures, stamp, drift,
read-only, help and the palette.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import make_settings
from console_users_kit import console_context, notices, running_console, settle, text_of
from migration_kit import BELOW_HEAD, HEAD, project_with, revision_source
from sqlalchemy import select, text
from textual.pilot import Pilot
from textual.widgets import Button, Input

from backend.database import Database
from backend.models import AuditEvent
from backend.services import migrations
from backend.services.migrations.guard import SQLITE_CAVEAT
from backend.services.schema import current_revision
from console.commands import ConsoleCommands
from console.context import ConsoleContext
from console.screens.dialogs import TypedConfirmDialog
from console.screens.help import HelpDialog
from console.screens.migration_plan_dialog import PlanDialog
from console.screens.migrations import MigrationsScreen
from console.widgets.migrations.revision_table import RevisionTable

BROKEN = revision_source(
    "0099",
    HEAD,
    'op.create_table("half_made", sa.Column("id", sa.Integer, primary_key=True))\n'
    'op.execute("INSERT INTO no_such_table VALUES (1)")',
    'op.drop_table("half_made")',
)
SIZE = (140, 45)


async def until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    """Pause until `condition` holds (a dialog open, a run ended): settle waits on workers,
    and the run's worker waits on the dialog."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def open_migrations(pilot: Pilot[Any]) -> MigrationsScreen:
    await pilot.press("m")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MigrationsScreen)
    return screen


async def plan_dialog(pilot: Pilot[Any], *keys: str) -> PlanDialog:
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(pilot.app.screen, PlanDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, PlanDialog)
    return dialog


async def run_ends(pilot: Pilot[Any], screen: MigrationsScreen) -> None:
    await until(pilot, lambda: pilot.app.screen is screen and not screen.running)
    await settle(pilot)


def context_on(database: Database, tmp_path: Path, **changes: Any) -> ConsoleContext:
    context = console_context(make_settings(database.url, tmp_path / "data"), database)
    for name, value in changes.items():
        setattr(context, name, value)
    return context


async def test_a_pending_revision_shows_and_upgrading_to_head_runs_the_plan(
    fresh: Database, tmp_path: Path
) -> None:
    await migrations.upgrade(fresh.engine, BELOW_HEAD)
    async with running_console(context_on(fresh, tmp_path), size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        assert (
            text_of(app, "#migrations-summary")
            == f"Database at {BELOW_HEAD} · head {HEAD} · 1 pending"
        )
        assert text_of(app, "#status-schema") == f"schema {BELOW_HEAD} (head {HEAD})"
        table = screen.query_one(RevisionTable)
        assert table.selected_revision == BELOW_HEAD  # the current revision, to start with
        assert [table.row_cells(i)[2] for i in range(2)] == ["pending · head", "current"]
        dialog = await plan_dialog(pilot, "g")
        assert text_of(app, ".dialog-title") == f"Plan: upgrade {BELOW_HEAD} -> {HEAD} (1 step)"
        assert not dialog.query_one("#plan-run", Button).disabled  # nothing destructive
        # What SQLite cannot undo is said before the run (and in its log), only there.
        caveats = [text_of(app, "#plan-caveat")] if dialog.query("#plan-caveat") else []
        assert caveats == ([SQLITE_CAVEAT] if fresh.dialect == "sqlite" else [])
        await pilot.click("#plan-run")
        await run_ends(pilot, screen)
        assert f"Migrated from {BELOW_HEAD} to {HEAD}." in notices(app)
        assert text_of(app, "#status-schema") == "schema at head"
        assert text_of(app, "#migrations-summary").endswith("up to date")
        async with fresh.session() as session:
            event = (await session.scalars(select(AuditEvent))).one()
        assert (event.actor, event.action) == ("console:tester", "migration.upgrade")
        await pilot.press("u")  # the Users screen keeps working on the migrated schema
        await settle(pilot)
        assert type(app.screen).__name__ == "UsersScreen"


async def test_a_destructive_step_runs_only_once_the_revision_id_is_typed(
    fresh: Database, tmp_path: Path
) -> None:
    await migrations.upgrade(fresh.engine, "0001")
    async with running_console(context_on(fresh, tmp_path), size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        dialog = await plan_dialog(pilot, "b")
        assert dialog.expected == "0001"
        assert "destructive drop-table 0001" in text_of(app, "#plan-findings")
        run = dialog.query_one("#plan-run", Button)
        assert run.disabled
        await pilot.press(*"000")
        assert run.disabled
        await pilot.press("1")
        assert not run.disabled
        await pilot.press("enter")
        await run_ends(pilot, screen)
        assert await current_revision(fresh.engine) is None
        assert text_of(app, "#status-schema") == f"schema empty (head {HEAD})"


async def test_cancelling_the_plan_changes_nothing(fresh: Database, tmp_path: Path) -> None:
    await migrations.upgrade(fresh.engine, "0001")
    async with running_console(context_on(fresh, tmp_path), size=SIZE) as (pilot, _app):
        screen = await open_migrations(pilot)
        await plan_dialog(pilot, "g")
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen)
        assert await current_revision(fresh.engine) == "0001"


async def test_a_failed_run_names_the_revision_and_stays_at_the_last_good_one(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}")
    await migrations.upgrade(database.engine)
    project = project_with(tmp_path, {"0099_broken.py": BROKEN})
    context = context_on(database, tmp_path, migration_scripts=project.script_location)
    async with running_console(context, size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        await plan_dialog(pilot, "g")
        await pilot.click("#plan-run")
        await run_ends(pilot, screen)
        (failure,) = notices(app, "error")
        assert failure.startswith("Revision 0099 (upgrade) failed at `INSERT INTO no_such_table")
        assert failure.endswith(f"the database is at {HEAD}.")
        assert text_of(app, "#migrations-summary").startswith(f"Database at {HEAD}")
    await database.dispose()


async def test_reload_shows_revision_files_added_or_edited_while_the_console_runs(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reload.db'}")
    await migrations.upgrade(database.engine)
    project = project_with(tmp_path, {})
    added = project.script_location / "versions" / "0099_added.py"
    context = context_on(database, tmp_path, migration_scripts=project.script_location)
    async with running_console(context, size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        assert text_of(app, "#migrations-summary").endswith(f"head {HEAD} · up to date")
        added.write_text(revision_source("0099", HEAD), encoding="utf-8")
        await pilot.press("l")
        await settle(pilot)
        assert text_of(app, "#migrations-summary").endswith("head 0099 · 1 pending")
        table = screen.query_one(RevisionTable)
        assert table.row_cells(0)[1:] == ("0099", "pending · head", "Test revision 0099.")
        edited = added.read_text(encoding="utf-8").replace("Test revision", "Adds the reports")
        added.write_text(edited, encoding="utf-8")
        await pilot.press("l")
        await settle(pilot)
        assert table.row_cells(0)[3] == "Adds the reports 0099."
        added.unlink()
        await pilot.press("l")
        await settle(pilot)
        assert text_of(app, "#migrations-summary").endswith(f"head {HEAD} · up to date")
    await database.dispose()


async def test_stamp_needs_the_id_typed(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'stamp.db'}")
    await migrations.upgrade(database.engine)
    async with running_console(context_on(database, tmp_path), size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        screen.query_one(RevisionTable).move_cursor(row=1)  # the one below the head
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog))
        app.screen.query_one("#typed", Input).value = BELOW_HEAD
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert await current_revision(database.engine) == BELOW_HEAD
        assert f"Stamped the database from {HEAD} to {BELOW_HEAD}." in notices(app)
    await database.dispose()


async def test_the_drift_check_lists_each_difference(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}")
    await migrations.upgrade(database.engine)
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_users_role_email"))
    async with running_console(context_on(database, tmp_path), size=SIZE) as (pilot, app):
        await open_migrations(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert text_of(app, "#drift-panel") == ("Drift:\n  add index ix_users_role_email on users")
    await database.dispose()


async def test_read_only_binds_no_run_stamp_or_downgrade(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'ro.db'}")
    await migrations.upgrade(database.engine, "0001")
    context = context_on(database, tmp_path, read_only=True)
    async with running_console(context, size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        actions = {active.binding.action for active in screen.active_bindings.values()}
        assert actions.isdisjoint({"upgrade_head", "migrate_selected", "step_down", "stamp"})
        assert "drift" in actions
        await pilot.press("g", "b", "x", "s")
        await settle(pilot)
        assert app.screen is screen
        titles = {hit.text async for hit in ConsoleCommands(screen).discover()}
        assert "Drift check" in titles
        assert titles.isdisjoint({"Upgrade to head", "One step down", "Stamp", "To selected"})
        assert await current_revision(database.engine) == "0001"
    await database.dispose()


async def test_help_and_the_palette_list_the_screens_actions(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'help.db'}")
    await migrations.upgrade(database.engine)
    async with running_console(context_on(database, tmp_path), size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        titles = {hit.text async for hit in ConsoleCommands(screen).discover()}
        wanted = {"Upgrade to head", "To selected", "One step down", "Stamp", "Drift check"}
        assert wanted <= titles
        await pilot.press("question_mark")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HelpDialog)
        assert wanted <= {item.description for item in dialog.keys}
    await database.dispose()


async def test_an_unknown_revision_in_the_database_is_shown_and_refuses_a_plan(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}")
    await migrations.upgrade(database.engine)
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    async with running_console(context_on(database, tmp_path), size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        assert text_of(app, "#migrations-summary").endswith("unknown revision f00d")
        assert screen.query_one(RevisionTable).row_cells(0)[1] == "f00d"
        await pilot.press("g")
        await settle(pilot)
        assert app.screen is screen  # no plan to show
        (refusal,) = notices(app, "error")
        assert "f00d, which these migrations do not know" in refusal
    await database.dispose()
