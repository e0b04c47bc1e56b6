"""The Dashboard: is everything all right? Backend, accounts, live requests, audit.

Timers start workers that read (the API's own /health, the database's figures, the
accounts, the newest audit events and the chain's new links) and post messages; the
handlers here own what the panels show. The live request log is an in-memory read,
done on its one-second timer. While the database is down the panels keep their last
figures under the app's banner, and everything is read again once it answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker

from backend.database import is_unreachable
from backend.services import dashboard
from backend.services.audit import AuditRecord, list_events
from backend.services.audit_chain import ChainBreak, ChainPoint, ChainReport, verify_chain
from backend.services.dashboard import AccountFigures, DatabaseFigures
from console.notify import describe_error, notify_error
from console.screens.base import ConsoleScreen
from console.widgets.dashboard.panels import (
    WARNING_MARK,
    AccountsPanel,
    BackendPanel,
    BackendView,
    HealthCheck,
)
from console.widgets.dashboard.request_log_view import RequestLogView

if TYPE_CHECKING:
    import httpx

REQUESTS_SECONDS = 1.0
BACKEND_SECONDS = 5.0
ACCOUNTS_SECONDS = 30.0
AUDIT_SECONDS = 5.0
RECENT_EVENTS = 6
HEALTH_TIMEOUT_SECONDS = 2.0


def administrator_warning(admins: int, read_only: bool) -> str:
    """For fewer than two active administrators: one is a lost password away from none,
    and none (a new database) leaves the API nobody who may manage accounts."""
    if admins == 1:
        return "Only one active administrator: promote a second one."
    if read_only:  # no n here: the CLI makes one
        return "No active administrator: `users create --role admin`."
    return "No active administrator: create one (Users: n)."


class _Refresh:
    """Start a refresh worker, unless the one started last is still running."""

    def __init__(self, start: Callable[[], Worker[None]]) -> None:
        self._start = start
        self._worker: Worker[None] | None = None

    def __call__(self) -> None:
        if self._worker is None or self._worker.is_finished:
            self._worker = self._start()


class DashboardScreen(ConsoleScreen):
    """The first screen: the backend's health, the accounts, live requests, recent events."""

    area_title = "Dashboard"
    CSS_PATH = "dashboard.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    AUTO_FOCUS = "#dashboard-audit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_path",
            "Filter path",
            key_display="/",
            priority=True,
            tooltip="Show only requests whose path contains a text",
            id="dashboard.path",
        ),
        Binding(
            "s", "cycle_status", "Status", tooltip="All, 2xx, 3xx, 4xx, 5xx", id="dashboard.status"
        ),
        Binding(
            "p", "toggle_pause", "Pause", tooltip="Freeze the request log", id="dashboard.pause"
        ),
        Binding("enter", "open_event", "Open event", tooltip="Open the event in Audit", show=False),
        Binding(
            "w",
            "show_warnings",
            "Warnings",
            tooltip="Every warning in full (a short panel shows the first ones)",
            show=False,
            id="dashboard.warnings",
        ),
        Binding("ctrl+r", "reload", "Reload", show=False, id="dashboard.reload"),
        Binding("escape", "leave_field", "Back", show=False, id="dashboard.back"),
    ]

    class BackendChecked(Message):
        def __init__(
            self,
            health: HealthCheck | None,
            figures: DatabaseFigures | None,
            error: BaseException | None,
        ) -> None:
            super().__init__()
            self.health = health
            self.figures = figures
            self.error = error

    class AccountsLoaded(Message):
        def __init__(self, figures: AccountFigures) -> None:
            super().__init__()
            self.figures = figures

    class AuditLoaded(Message):
        def __init__(self, events: list[AuditRecord], report: ChainReport | None) -> None:
            super().__init__()
            self.events = events
            self.report = report

    def __init__(self) -> None:
        super().__init__()
        self._health: HealthCheck | None = None
        self._database: DatabaseFigures | None = None
        self._database_problem: str | None = None
        self._accounts: AccountFigures | None = None
        self._chain_point: ChainPoint | None = None
        self._chain_break: ChainBreak | None = None
        self._http: httpx.AsyncClient | None = None
        # Each refresh starts again only once it has finished: at a million events the
        # first chain check takes longer than its timer's period.
        self._backend = _Refresh(self.refresh_backend)
        self._accounts_refresh = _Refresh(self.refresh_accounts)
        self._audit = _Refresh(self.refresh_audit)

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="dashboard-top"):
            yield BackendPanel(id="dashboard-backend")
            yield AccountsPanel(id="dashboard-accounts")
        yield RequestLogView(zone=self.context.display_timezone, id="dashboard-requests")
        yield OptionList(id="dashboard-audit")

    def on_mount(self) -> None:
        self.query_one("#dashboard-backend").border_title = "Backend"
        self.query_one("#dashboard-accounts").border_title = "Accounts"
        self.query_one("#dashboard-requests").border_title = "Live requests"
        self.query_one("#dashboard-audit").border_title = "Recent audit events (enter: open)"
        self._show_backend()
        self.set_interval(REQUESTS_SECONDS, self._show_requests)
        self.set_interval(BACKEND_SECONDS, self._when_visible(self._backend))
        self.set_interval(ACCOUNTS_SECONDS, self._when_visible(self._accounts_refresh))
        self.set_interval(AUDIT_SECONDS, self._when_visible(self._audit))
        self.watch(self.app, "database_down", self._database_state_changed, init=False)
        self.action_reload()

    async def on_unmount(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def _when_visible(self, refresh: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            # Hidden behind another area, or waiting for the database: nothing to read.
            if self.app.screen is self and getattr(self.app, "database_down", None) is None:
                refresh()

        return run

    def _database_state_changed(self, reason: str | None) -> None:
        if reason is None:
            self._database_problem = None
            self.action_reload()

    # --- workers: they read and post; the handlers below show ---------------------------

    @work(exclusive=True, group="dashboard-backend", exit_on_error=False)
    async def refresh_backend(self) -> None:
        context = self.context
        await context.schema_checked.wait()
        health = await self._check_health(context.api_url)
        try:
            figures = await dashboard.database_figures(context.database)
        except Exception as error:
            if not is_unreachable(error):
                raise
            self.post_message(self.BackendChecked(health, None, error))
            return
        self.post_message(self.BackendChecked(health, figures, None))

    async def _check_health(self, api_url: str | None) -> HealthCheck | None:
        if api_url is None:
            return None
        if self._http is None:
            self._http = await asyncio.to_thread(_health_client)
        import httpx

        started = time.perf_counter()
        try:
            response = await self._http.get(f"{api_url}/health")
        except httpx.HTTPError as error:
            return HealthCheck(None, 0.0, type(error).__name__)
        latency_ms = (time.perf_counter() - started) * 1000
        problem = "" if response.status_code == 200 else str(response.json().get("database", ""))
        return HealthCheck(response.status_code, latency_ms, problem)

    @work(exclusive=True, group="dashboard-accounts", exit_on_error=False)
    async def refresh_accounts(self) -> None:
        context = self.context
        await context.schema_checked.wait()
        async with context.database.session() as session:
            figures = await dashboard.account_figures(session, context.clock())
        self.post_message(self.AccountsLoaded(figures))

    @work(exclusive=True, group="dashboard-audit", exit_on_error=False)
    async def refresh_audit(self) -> None:
        context = self.context
        await context.schema_checked.wait()
        if not context.schema_at_head:
            # The audit table may lack the chain's columns until the migrations run.
            self.post_message(self.AuditLoaded([], None))
            return
        async with context.database.session() as session:
            events = await list_events(session, limit=RECENT_EVENTS)
            # Only the links added since the last check: the first check walks them all.
            report = await verify_chain(session, since=self._chain_point)
            if report.broken is not None and self._chain_point is not None:
                # Re-anchored or pruned meanwhile? The whole chain decides.
                report = await verify_chain(session)
        self.post_message(self.AuditLoaded(events, report))

    # --- handlers ------------------------------------------------------------------------

    def on_dashboard_screen_backend_checked(self, event: BackendChecked) -> None:
        self._health = event.health
        if event.error is not None:
            self._database_problem = describe_error(event.error)[1]
            notify_error(self, event.error)  # the app's banner
        else:
            self._database, self._database_problem = event.figures, None
        self._show_backend()

    def on_dashboard_screen_accounts_loaded(self, event: AccountsLoaded) -> None:
        self._accounts = event.figures
        self.query_one(AccountsPanel).show(event.figures)
        self._show_backend()

    def on_dashboard_screen_audit_loaded(self, event: AuditLoaded) -> None:
        report = event.report
        if report is not None and report.broken is None:
            self._chain_point, self._chain_break = report.end, None
        elif report is not None:
            self._chain_break = report.broken
        options = self.query_one("#dashboard-audit", OptionList)
        shown = [option.id for option in options.options]
        if shown and shown == [str(e.id) for e in event.events]:
            self._show_backend()
            return  # the same events: the list stays as it is
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(Option(self._event_line(e), id=str(e.id)) for e in event.events)
        if not event.events:
            empty = "No audit event yet." if report else "Run the migrations to read the audit log."
            options.add_option(Option(Text(empty, style="dim"), disabled=True))
        if event.events:
            options.highlighted = min(highlighted or 0, len(event.events) - 1)
        self._show_backend()

    def _event_line(self, event: AuditRecord) -> Text:
        moment = self.context.local_time(event.at).strftime("%Y-%m-%d %H:%M:%S")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{moment}  ")
        line.append(f"{event.action:<20}", style="bold")
        line.append(f" {event.actor:<24} {event.target or '-'}")
        return line

    def _show_backend(self) -> None:
        context = self.context
        started = context.api_started_at
        view = BackendView(
            database_url=context.database.masked_url,
            api_url=context.api_url,
            health=self._health,
            uptime=None if started is None else context.clock() - started,
            traffic=None if context.request_log is None else context.request_log.summary(),
            database=self._database,
            database_problem=self._database_problem,
            warnings=self._warnings(),
        )
        self.query_one(BackendPanel).show(view)

    def _warnings(self) -> list[str]:
        """Most urgent first: a short panel shows the first ones and counts the rest."""
        warnings = []
        if self._database_problem is not None:
            warnings.append("The database does not answer.")
        if self._chain_break is not None:
            warnings.append(f"Audit chain broken: {self._chain_break.reason}.")
        database = self._database if self._database_problem is None else None
        if database is not None and not database.at_head:
            pending = database.pending_migrations
            warnings.append(f"{pending} migration(s) pending: m opens Migrations.")
        if self._accounts is not None and self._accounts.admins < 2:
            warnings.append(administrator_warning(self._accounts.admins, self.context.read_only))
        return warnings + dashboard.configuration_warnings(self.context.settings)

    def _show_requests(self) -> None:
        if self.app.screen is not self:
            return
        view = self.query_one(RequestLogView)
        view.request_log = self.context.request_log
        view.refresh_lines()
        if self.context.request_log is not None:
            self._show_backend()
        if self._health is None and self.context.api_url is not None:
            self._backend()  # the server has just started: check it at once

    # --- actions -------------------------------------------------------------------------

    def action_show_warnings(self) -> None:
        """Every warning, whole: the panel cuts long ones and counts those it has no room for."""
        warnings = self._warnings()
        if not warnings:
            self.notify("No warnings.", title="Warnings")
            return
        lines = "\n".join(WARNING_MARK + warning for warning in warnings)
        self.notify(lines, title="Warnings", severity="warning", timeout=15, markup=False)

    def action_reload(self) -> None:
        """Read everything again now (what is being read already is left to finish)."""
        self._backend()
        self._accounts_refresh()
        self._audit()
        self._show_requests()

    def action_focus_path(self) -> None:
        self.query_one("#requests-path", Input).focus()

    def action_leave_field(self) -> None:
        self.query_one("#dashboard-audit", OptionList).focus()

    def action_cycle_status(self) -> None:
        self.query_one(RequestLogView).cycle_status_class()

    def action_toggle_pause(self) -> None:
        view = self.query_one(RequestLogView)
        view.paused = not view.paused

    def action_open_event(self) -> None:
        options = self.query_one("#dashboard-audit", OptionList)
        if options.highlighted is not None:
            self._open_event(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#dashboard-audit")
    def _event_chosen(self, event: OptionList.OptionSelected) -> None:
        self._open_event(event.option.id)

    def _open_event(self, option_id: str | None) -> None:
        opener = getattr(self.app, "open_audit_at", None)
        if option_id is not None and opener is not None:
            self.app.call_later(opener, int(option_id))


def _health_client() -> httpx.AsyncClient:
    """Built off the loop: importing httpx and making its TLS context (the certificates
    read) took ~0.2 s, and the first request's import of anyio's asyncio backend ~50 ms
    more, a frozen Dashboard on its first refresh."""
    import anyio._backends._asyncio  # noqa: F401 (imported here, not by the first request)
    import httpx

    return httpx.AsyncClient(trust_env=False, timeout=HEALTH_TIMEOUT_SECONDS)
