"""The Dashboard's backend and accounts panels: they draw what the screen hands them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static

from backend.middleware.request_log import Traffic
from backend.services.dashboard import AccountFigures, DatabaseFigures
from console.widgets.formatting import count

WARNING_MARK = "▲ "
LABEL_WIDTH = 9


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """The embedded API's answer to its own /health, timed."""

    status: int | None  # None: no answer
    latency_ms: float
    problem: str = ""


@dataclass(frozen=True, slots=True)
class BackendView:
    database_url: str
    api_url: str | None = None
    health: HealthCheck | None = None
    uptime: dt.timedelta | None = None
    traffic: Traffic | None = None
    database: DatabaseFigures | None = None
    database_problem: str | None = None
    warnings: list[str] = field(default_factory=list)


def duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"


def _grid(rows: list[tuple[str, str | Text]]) -> Text:
    """A line per row: the label bold in a column, then the value, cut with an ellipsis.

    Plain Text rather than a Rich Table: the panels are drawn again every few seconds,
    and a table measures its columns each time (most of a backend refresh's CPU).
    """
    width = max(LABEL_WIDTH, *(len(label) for label, _value in rows))
    lines = []
    for label, value in rows:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(label.ljust(width), style="bold")
        line.append(" ")
        line.append_text(value if isinstance(value, Text) else Text(value))
        lines.append(line)
    return Text("\n", no_wrap=True, overflow="ellipsis").join(lines)


class BackendPanel(Static):
    """API, traffic, database, schema and warnings."""

    _view: BackendView | None = None
    _shown: tuple[BackendView, int] | None = None

    def show(self, view: BackendView) -> None:
        """Draw `view` (its size is fixed: no new layout), unless it is what is shown."""
        self._view = view
        room = self.content_size.height
        if (view, room) == self._shown:
            return
        self._shown = (view, room)
        rows: list[tuple[str, str | Text]] = [("API", _api_line(view))]
        if view.traffic is not None:
            traffic = view.traffic
            latency = f"p50 {traffic.p50_ms:.1f} ms  p95 {traffic.p95_ms:.1f} ms"
            rows.append(("Traffic", f"{traffic.rps:.1f} req/s  {latency}"))
        rows.append(("Database", view.database_url))
        rows.append(("", _database_line(view)))
        rows.append(("Schema", _schema_line(view.database)))
        rows.extend(warning_rows(view.warnings, room - len(rows)))
        self.update(_grid(rows), layout=False)

    def on_resize(self) -> None:
        if self._view is not None:
            self.show(self._view)


def warning_rows(warnings: list[str], room: int) -> list[tuple[str, str | Text]]:
    """The warnings (most urgent first) in the `room` rows left; when they do not all
    fit, the last row counts the rest. Before the first layout (no room yet), all."""
    if not warnings:
        return [("Warnings", Text("none", style="green"))]
    fits = room <= 0 or len(warnings) <= room
    shown = warnings if fits else warnings[: room - 1]
    lines = [WARNING_MARK + warning for warning in shown]
    if not fits:
        lines.append(f"{WARNING_MARK}{len(warnings) - len(shown)} more: w lists every warning")
    return [("Warnings" if n == 0 else "", Text(line, "yellow")) for n, line in enumerate(lines)]


def _api_line(view: BackendView) -> Text:
    if view.api_url is None:
        return Text("server off", style="dim")
    line = Text(view.api_url + "  ")
    health = view.health
    if health is None:
        line.append("checking…", style="dim")
    elif health.status == 200:
        line.append(f"/health 200 in {health.latency_ms:.1f} ms", style="green")
    else:
        answer = f"/health {health.status}" if health.status else "/health no answer"
        line.append(f"{answer} {health.problem}".rstrip(), style="bold red")
    if view.uptime is not None:
        line.append(f"  up {duration(view.uptime)}")
    return line


def _database_line(view: BackendView) -> Text:
    if view.database_problem is not None:
        return Text(f"unreachable: {view.database_problem}", style="bold red")
    figures = view.database
    if figures is None:
        return Text("checking…", style="dim")
    pool = (
        f"pool {figures.pool_in_use}/{figures.pool_size} in use"
        if figures.pool_size is not None
        else "no pool figures"
    )
    return Text(
        f"{figures.dialect} {figures.server_version}  round trip "
        f"{figures.round_trip_ms:.1f} ms  {pool}"
    )


def _schema_line(figures: DatabaseFigures | None) -> Text:
    if figures is None:
        return Text("checking…", style="dim")
    revision = figures.revision or "empty"
    if figures.at_head:
        return Text(f"{revision} (head)", style="green")
    return Text(
        f"{revision}, head {figures.head}: {figures.pending_migrations} pending",
        style="bold yellow",
    )


class AccountsPanel(Vertical):
    """Totals, logins of the last hour, and sign-ups per day as a sparkline."""

    def compose(self) -> ComposeResult:
        yield Static("checking…", id="accounts-figures")
        yield Label("Sign-ups, 30 days", id="accounts-signups-label")
        yield Sparkline([0.0, 0.0], id="accounts-signups", summary_function=max)

    def show(self, figures: AccountFigures) -> None:
        about = "about " if figures.total_is_estimate else ""
        active = f"{about}{count(figures.active)} active"
        logins = count(figures.logins_last_hour)
        rows: list[tuple[str, str | Text]] = [
            ("Total", f"{about}{count(figures.total)} ({active})"),
            ("Admins", count(figures.admins)),
            ("Locked now", count(figures.locked)),
            ("Last hour", f"{logins} logins, {count(figures.failed_logins_last_hour)} failed"),
        ]
        self.query_one("#accounts-figures", Static).update(_grid(rows), layout=False)
        per_day = figures.signups_per_day
        self.query_one("#accounts-signups-label", Label).update(
            f"Sign-ups, 30 days: {count(sum(per_day))} (most {count(max(per_day))}/day)",
            layout=False,
        )
        self.query_one("#accounts-signups", Sparkline).data = [float(n) for n in per_day]
