"""The selected revision: what it is, its lint findings, its upgrade and downgrade SQL,
and (once checked) the drift between the models and the live schema."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from backend.services.migrations import DriftReport, LintReport, StepSql
from backend.services.migrations.graph import RevisionNode
from console.widgets.migrations.findings import findings_text
from console.widgets.migrations.revision_table import node_tags

# A revision's upgrade SQL, its downgrade SQL, and the findings of both.
Detail = tuple[StepSql, StepSql, LintReport]


class RevisionDetail(VerticalScroll):
    """Scrolls as one: the SQL is shown whole, however long."""

    def compose(self) -> ComposeResult:
        yield Static(id="revision-detail")
        yield Static(id="revision-findings")
        yield Static("Upgrade SQL", classes="pane-title")
        yield Static(id="up-sql", classes="sql")
        yield Static("Downgrade SQL", classes="pane-title")
        yield Static(id="down-sql", classes="sql")
        yield Static(id="drift-panel")

    def on_mount(self) -> None:
        self.query_one("#drift-panel").display = False

    def show_node(self, node: RevisionNode) -> None:
        text = Text.assemble((node.revision, "bold"), f"  {node_tags(node)}\n", node.message)
        text.append(f"\nDown: {', '.join(node.down_revisions) or 'base'}", style="dim")
        if node.create_date:
            text.append(f" · created {node.create_date}", style="dim")
        self.query_one("#revision-detail", Static).update(text)

    def show_unknown(self, revision: str) -> None:
        self.query_one("#revision-detail", Static).update(
            Text(
                f"{revision}: the database records it, these migrations do not know it "
                "(a newer release?).",
                style="red",
            )
        )
        self.show_sql(None)

    def show_sql(self, detail: Detail | None, note: str = "") -> None:
        findings = self.query_one("#revision-findings", Static)
        up_pane = self.query_one("#up-sql", Static)
        down_pane = self.query_one("#down-sql", Static)
        if detail is None:
            findings.update(note)
            up_pane.update("")
            down_pane.update("")
            return
        up, down, report = detail
        findings.update(findings_text(report.findings))
        up_pane.update(highlighted_sql(_sql_of(up)))
        down_pane.update(highlighted_sql(_sql_of(down)))

    def show_drift(self, report: DriftReport) -> None:
        panel = self.query_one("#drift-panel", Static)
        panel.display = True
        panel.update(drift_text(report))
        self.scroll_end(animate=False)


def highlighted_sql(sql: str) -> Syntax:
    """SQL highlighted by Pygments (loaded with Alembic already): cheaper to draw than a
    TextArea, of which the screen would need two per revision."""
    return Syntax(sql, "sql", theme="ansi_dark", word_wrap=True, background_color="default")


def _sql_of(step: StepSql) -> str:
    if step.error is not None:
        return f"-- No offline SQL: {step.error}"
    return step.sql.strip() or "-- Nothing to run."


def drift_text(report: DriftReport) -> Text:
    lines = report.lines()
    if not lines:
        heads = ",".join(report.heads)
        return Text(
            f"Drift: none. The schema matches the models; one head ({heads}).", style="green"
        )
    text = Text("Drift:", style="bold yellow")
    for line in lines:
        text.append(f"\n  {line}")
    return text
