"""The Migrations screen (issue 11): see, plan, preview, lint, run and roll back.

The revision list marks current, applied, pending and unknown revisions; the selected
one shows its details, lint findings and upgrade/downgrade SQL. Every run first shows
its plan (PlanDialog) and streams its steps into the run log. Alembic keeps its
context in module globals, so nothing else of Alembic's runs while a run is under way:
SQL previews already made stay shown, new ones wait until it ends.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from backend.services import migrations
from backend.services.errors import DomainError
from backend.services.migrations import (
    Direction,
    DriftReport,
    MigrationEvent,
    MigrationProject,
    MigrationState,
    RevisionNode,
)
from console.notify import describe_error
from console.screens.base import ConsoleScreen
from console.screens.dialogs import TypedConfirmDialog
from console.screens.migration_head_dialog import HeadChoiceDialog
from console.screens.migration_plan_dialog import PlanDialog
from console.widgets.migrations.revision_detail import Detail, RevisionDetail
from console.widgets.migrations.revision_table import RevisionTable
from console.widgets.migrations.run_log import RunLog

RUN_ACTIONS = frozenset({"upgrade_head", "migrate_selected", "step_down", "stamp"})


class MigrationsScreen(ConsoleScreen):
    """The revision graph, the selected revision's SQL and lint, and safe runs."""

    # DEFAULT_CSS rather than a CSS_PATH: a screen's CSS file makes Textual re-parse
    # every stylesheet of the app when it opens (~0.15 s); this is parsed alone.
    DEFAULT_CSS = """
    #migrations-summary {
        height: 1;
        padding: 0 1;
    }
    #migrations-body {
        height: 1fr;
    }
    #revisions-pane {
        width: 1fr;
        min-width: 40;
    }
    #revision-table {
        height: 1fr;
    }
    #detail-pane {
        width: 1fr;
        padding: 0 1;
    }
    #detail-pane .pane-title, RunLog .pane-title {
        color: $text-muted;
        margin-top: 1;
    }
    #detail-pane .sql {
        height: auto;
        background: $boost;
        padding: 0 1;
    }
    #revision-findings {
        margin-top: 1;
    }
    #drift-panel {
        margin-top: 1;
    }
    RunLog {
        height: 10;
        border-top: solid $primary;
        padding: 0 1;
    }
    RunLog .pane-title {
        margin-top: 0;
    }
    RunLog #run-lines {
        height: 1fr;
    }
    """
    area_title = "Migrations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "upgrade_head", "Upgrade to head", id="migrations.upgrade_head"),
        Binding(
            "s",
            "migrate_selected",
            "To selected",
            tooltip="Upgrade or downgrade to the selected revision",
            id="migrations.to_selected",
        ),
        Binding("b", "step_down", "One step down", id="migrations.step_down"),
        Binding(
            "x", "stamp", "Stamp", tooltip="Record the selected revision", id="migrations.stamp"
        ),
        Binding("c", "drift", "Drift check", id="migrations.drift"),
        Binding("l", "reload", "Reload", id="migrations.reload"),
    ]

    class StateLoaded(Message):
        def __init__(self, state: MigrationState) -> None:
            super().__init__()
            self.state = state

    class DetailLoaded(Message):
        def __init__(self, revision: str, detail: Detail) -> None:
            super().__init__()
            self.revision = revision
            self.detail = detail

    class RunEvent(Message):
        def __init__(self, event: MigrationEvent) -> None:
            super().__init__()
            self.event = event

    class RunEnded(Message):
        def __init__(self, message: str, *, ok: bool) -> None:
            super().__init__()
            self.message = message
            self.ok = ok

    class DriftChecked(Message):
        def __init__(self, report: DriftReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self) -> None:
        super().__init__()
        self.state: MigrationState | None = None
        self.running = False
        self._details: dict[str, Detail] = {}
        self._project: MigrationProject | None = None

    @property
    def project(self) -> MigrationProject:
        if self._project is None:
            scripts = self.context.migration_scripts
            self._project = MigrationProject(scripts) if scripts else migrations.DEFAULT_PROJECT
        return self._project

    def compose_content(self) -> ComposeResult:
        yield Static("Reading the revisions…", id="migrations-summary")
        with Horizontal(id="migrations-body"):
            with Vertical(id="revisions-pane"):
                yield RevisionTable(id="revision-table")
            yield RevisionDetail(id="detail-pane")

    def on_mount(self) -> None:
        self.load_state()

    # --- loading -------------------------------------------------------------------

    @work(exclusive=True, group="migrations-state", exit_on_error=False)
    async def load_state(self) -> None:
        await self.context.schema_checked.wait()
        # Reading the revision files (again, if they changed) is file work: off the loop.
        await asyncio.to_thread(self.project.fresh_scripts)
        state = await migrations.load_state(self.context.database.engine, self.project)
        self.post_message(self.StateLoaded(state))

    def on_migrations_screen_state_loaded(self, event: StateLoaded) -> None:
        self.state = event.state
        table = self.query_one(RevisionTable)
        selected = table.selected_revision
        if selected is None:
            current = event.state.known_current
            selected = current[0] if current else None
        self.query_one("#migrations-summary", Static).update(_summary(event.state))
        table.show(event.state, selected)  # its Highlighted shows the revision's detail
        self.refresh_bindings()

    def on_revision_table_highlighted(self, event: RevisionTable.Highlighted) -> None:
        self.show_revision(event.revision)
        self.refresh_bindings()

    def show_revision(self, revision: str) -> None:
        """The revision's details now, its SQL and lint as soon as they are rendered."""
        pane = self.query_one(RevisionDetail)
        node = self.state.node(revision) if self.state else None
        if node is None:
            pane.show_unknown(revision)
            return
        pane.show_node(node)
        if revision in self._details:
            pane.show_sql(self._details[revision])
        elif self.running:
            pane.show_sql(None, "The SQL preview waits until the run ends.")
        else:
            self.render_detail(revision)

    @work(exclusive=True, group="migrations-detail", exit_on_error=False)
    async def render_detail(self, revision: str) -> None:
        # Offline rendering runs on the loop (Alembic's context is a module global).
        detail = migrations.review_revision(revision, self.context.database.url, self.project)
        self.post_message(self.DetailLoaded(revision, detail))

    def on_migrations_screen_detail_loaded(self, event: DetailLoaded) -> None:
        self._details[event.revision] = event.detail
        if self.query_one(RevisionTable).selected_revision == event.revision:
            self.query_one(RevisionDetail).show_sql(event.detail)

    # --- actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in RUN_ACTIONS and self.context.read_only:
            return False
        if action in RUN_ACTIONS | {"drift", "reload"}:
            return None if self.running or self.state is None else True
        return True

    def action_upgrade_head(self) -> None:
        """Plan the upgrade to head (every head, should there be several)."""
        target = "heads" if self.state and len(self.state.heads) > 1 else "head"
        self.plan_and_run(target, None)

    def action_migrate_selected(self) -> None:
        """Plan up or down to the selected revision."""
        if (revision := self.query_one(RevisionTable).selected_revision) is not None:
            self.plan_and_run(revision, None)

    def action_step_down(self) -> None:
        """Plan one step down; from several heads (branches), the operator picks one first."""
        nodes = [self.state.node(head) for head in self.state.current] if self.state else []
        heads = tuple(node for node in nodes if node is not None)
        if len(heads) > 1:
            self.step_down_one_of(heads)
        else:
            self.plan_and_run("-1", Direction.DOWN)

    @work(exclusive=True, group="migrations-run", exit_on_error=False)
    async def step_down_one_of(self, heads: tuple[RevisionNode, ...]) -> None:
        head = await self.app.push_screen_wait(HeadChoiceDialog(heads))
        if head is not None:
            await self._plan_and_run(f"{head}@-1", Direction.DOWN)

    def action_reload(self) -> None:
        self._details.clear()
        self.load_state()

    @work(exclusive=True, group="migrations-run", exit_on_error=False)
    async def plan_and_run(self, target: str, direction: Direction | None) -> None:
        await self._plan_and_run(target, direction)

    async def _plan_and_run(self, target: str, direction: Direction | None) -> None:
        """Plan, show the plan and its lint, and run it once confirmed."""
        engine = self.context.database.engine
        plan = await migrations.plan_target(
            engine, target, project=self.project, direction=direction
        )
        if plan.is_empty:
            self.notify(f"Nothing to do: the database is already at {_join(plan.end)}.")
            return
        reviewed = migrations.review(plan, self.context.database.url, self.project)
        if not await self.app.push_screen_wait(PlanDialog(reviewed)):
            return
        await self._run(reviewed)

    async def _run(self, reviewed: migrations.ReviewedPlan) -> None:
        plan = reviewed.plan
        self.running = True
        self.refresh_bindings()
        (await self.run_log()).begin(plan.describe(), len(plan.steps), reviewed.caveat)
        guard = migrations.guard_options_from(self.context.settings)
        try:
            result = await migrations.run_plan(
                self.context.database.engine,
                plan,
                project=self.project,
                actor=self.context.actor,
                guard=guard,
                on_event=self._relay,
            )
        except (DomainError, OSError) as error:
            self.post_message(self.RunEnded(describe_error(error)[1], ok=False))
        else:
            self.post_message(
                self.RunEnded(
                    f"Migrated from {_join(result.before)} to {_join(result.after)}.", ok=True
                )
            )
        finally:
            self.running = False

    def _relay(self, event: MigrationEvent) -> None:
        # Called from the run (on the loop, between statements): the handler owns the UI.
        self.post_message(self.RunEvent(event))

    async def run_log(self) -> RunLog:
        """The run log, mounted with the first run (the screen opens faster without it)."""
        logs = self.query(RunLog)
        if logs:
            return logs.first()
        log = RunLog(id="run-log")
        await self.mount(log, before=self.query_one("KeyBar"))
        return log

    def on_migrations_screen_run_event(self, event: RunEvent) -> None:
        self.query_one(RunLog).show_event(event.event)

    def on_migrations_screen_run_ended(self, event: RunEnded) -> None:
        self.query_one(RunLog).end(event.message, ok=event.ok)
        if event.ok:
            self.notify(event.message, title="Migration finished")
        else:
            self.notify(
                event.message, title="Migration failed", severity="error", timeout=10, markup=False
            )
        self.refresh_bindings()
        self._after_change()

    def _after_change(self) -> None:
        self._details.clear()
        self.load_state()
        self.update_status_bar()

    @work(exclusive=True, group="migrations-status", exit_on_error=False)
    async def update_status_bar(self) -> None:
        """The status bar's "schema at head" follows the database after a change."""
        from backend.services import schema
        from console.app import BackendConsoleApp  # the app imports the screens' registry

        revision = await schema.current_revision(self.context.database.engine)
        if isinstance(self.app, BackendConsoleApp):
            self.app.show_schema(revision, schema.REQUIRED_REVISION)

    def action_stamp(self) -> None:
        """Record the selected revision without running anything (the id typed to confirm)."""
        if (revision := self.query_one(RevisionTable).selected_revision) is not None:
            self.stamp(revision)

    @work(exclusive=True, group="migrations-run", exit_on_error=False)
    async def stamp(self, revision: str) -> None:
        dialog = TypedConfirmDialog(
            f"Stamp {revision}",
            "Records the revision in the database without running any migration: "
            "the schema itself does not change.",
            revision,
            "Stamp",
        )
        if not await self.app.push_screen_wait(dialog):
            return
        before, after = await migrations.stamp_revision(
            self.context.database.engine,
            revision,
            project=self.project,
            actor=self.context.actor,
            guard=migrations.guard_options_from(self.context.settings),
        )
        self.notify(f"Stamped the database from {_join(before)} to {_join(after)}.")
        self._after_change()

    def action_drift(self) -> None:
        """Compare the models with the live schema, and check for a single head."""
        self.check_drift()

    @work(exclusive=True, group="migrations-drift", exit_on_error=False)
    async def check_drift(self) -> None:
        report = await migrations.check_drift(self.context.database.engine, self.project)
        self.post_message(self.DriftChecked(report))

    def on_migrations_screen_drift_checked(self, event: DriftChecked) -> None:
        self.query_one(RevisionDetail).show_drift(event.report)


def _join(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions) or "base"


def _summary(state: MigrationState) -> Text:
    pending = sum(1 for node in state.nodes if not node.is_applied)
    text = Text.assemble(
        "Database at ",
        (state.describe_current(), "bold"),
        " · head ",
        (",".join(state.heads) or "none", "bold"),
    )
    if state.unknown:
        text.append(f" · unknown revision {', '.join(state.unknown)}", style="bold red")
    elif pending:
        text.append(f" · {pending} pending", style="bold yellow")
    else:
        text.append(" · up to date", style="green")
    return text
