"""One step down where the history branches and merges (the temporary script directory
with 0101 and 0102 above our head and their merge 0103): in the service, the CLI and
the console.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from unittest.mock import patch

import pytest
from console_users_kit import running_console, text_of
from migration_kit import BRANCHES, project_with
from test_console_migrations import (
    SIZE,
    context_on,
    open_migrations,
    plan_dialog,
    run_ends,
    until,
)
from textual.widgets import Input

from backend.database import Database
from backend.services import migrations
from backend.services.errors import InvalidInput
from backend.services.migrations import MigrationProject
from console.cli import root
from console.screens.migration_head_dialog import HeadChoiceDialog

TWO_HEADS = (
    "The database is at 2 heads (0101, 0102), so one step down is ambiguous: name the head "
    "to step down, 0101@-1 or 0102@-1."
)


async def at(database: Database, project: MigrationProject, target: str) -> None:
    """The database moved to `target` (up or down) in the branchy project."""
    plan = await migrations.plan_target(database.engine, target, project=project)
    await migrations.run_plan(database.engine, plan, project=project)


async def test_one_step_down_from_a_merge_point_undoes_the_merge(
    fresh: Database, tmp_path: Path
) -> None:
    project = project_with(tmp_path, BRANCHES)
    await at(fresh, project, "heads")
    down = await migrations.plan_target(fresh.engine, "-1", project=project)
    assert [step.revision for step in down.steps] == ["0103"]
    assert down.describe() == "downgrade 0103 -> 0101,0102 (1 step)"
    await migrations.run_plan(fresh.engine, down, project=project)
    assert (await migrations.load_state(fresh.engine, project)).current == ("0101", "0102")

    with pytest.raises(InvalidInput) as several:
        await migrations.plan_target(fresh.engine, "-1", project=project)
    assert several.value.message == TWO_HEADS
    right = await migrations.plan_target(fresh.engine, "0102@-1", project=project)
    assert right.describe() == "downgrade 0101,0102 -> 0101 (1 step)"


async def test_further_down_past_a_merge_point_says_how_to_get_there(
    fresh: Database, tmp_path: Path
) -> None:
    project = project_with(tmp_path, BRANCHES)
    await at(fresh, project, "heads")
    with pytest.raises(InvalidInput) as caught:
        await migrations.plan_target(fresh.engine, "-2", project=project)
    assert caught.value.message == (
        "-2 passes merge point 0103, below which the history splits (0101, 0102): step down "
        "to its parents first (-1), then one branch at a time (0101@-1 or 0102@-1)."
    )
    with pytest.raises(InvalidInput) as relative:
        await migrations.plan_target(fresh.engine, "0101@-1", project=project)
    assert "0101@-1 is ambiguous from 0103" in relative.value.message
    await at(fresh, project, "base")
    with pytest.raises(InvalidInput) as empty:
        await migrations.plan_target(fresh.engine, "-1", project=project)
    assert (
        empty.value.message == "The database is at base: there is nothing below it to go down to."
    )


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[object, str, str]:
    """The real command line in this process, (exit status, stdout, stderr); in a thread,
    as it runs an event loop of its own."""

    def run() -> object:
        with (
            patch.object(sys, "argv", ["backend-console", *args]),
            pytest.raises(SystemExit) as exited,
        ):
            root.main()
        return exited.value.code

    code = await asyncio.to_thread(run)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fresh", ["sqlite"], indirect=True)
async def test_the_cli_steps_down_from_a_merge_and_names_the_heads_after(
    fresh: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = project_with(tmp_path, BRANCHES)
    await at(fresh, project, "heads")
    monkeypatch.setattr(migrations.DEFAULT_PROJECT, "script_location", project.script_location)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    args = ("--database-url", fresh.url, "db", "downgrade", "--", "-1")

    code, out, err = await cli(capsys, *args)
    assert code == 0, err
    assert err.startswith("Plan: downgrade 0103 -> 0101,0102 (1 step)\n")
    assert out.strip().endswith("from 0103 to 0101,0102.")
    assert await cli(capsys, *args) == (1, "", f"Error: {TWO_HEADS}\n")


async def test_the_console_asks_which_head_to_step_down(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'branches.db'}")
    project = project_with(tmp_path, BRANCHES)
    await at(database, project, "heads")
    context = context_on(database, tmp_path, migration_scripts=project.script_location)
    async with running_console(context, size=SIZE) as (pilot, app):
        screen = await open_migrations(pilot)
        await plan_dialog(pilot, "b")  # from the merge point: one plan, no choice
        assert text_of(app, ".dialog-title") == "Plan: downgrade 0103 -> 0101,0102 (1 step)"
        await pilot.click("#plan-run")
        await run_ends(pilot, screen)
        assert text_of(app, "#migrations-summary").startswith("Database at 0101,0102")

        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, HeadChoiceDialog))
        assert text_of(app, "#head-list").splitlines() == [
            "0101  Test revision 0101.",
            "0102  Test revision 0102.",
        ]
        await pilot.click("#head-0102")
        dialog = await plan_dialog(pilot)
        assert text_of(app, ".dialog-title") == "Plan: downgrade 0101,0102 -> 0101 (1 step)"
        assert dialog.expected == "0102"  # it drops right_t: the id typed to confirm
        dialog.query_one("#plan-typed", Input).value = "0102"
        await pilot.press("enter")
        await run_ends(pilot, screen)
        assert (await migrations.load_state(database.engine, project)).current == ("0101",)
        assert text_of(app, "#migrations-summary").startswith("Database at 0101 ")
    await database.dispose()
