"""The plan before a run: its steps, direction, lint findings and SQL; confirm to run.

A plan with a destructive finding runs only once the revision id it concerns is typed.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static, TextArea

from backend.services.migrations import ReviewedPlan
from console.screens.base import ConsoleDialog
from console.screens.dialogs import FIELD_FOCUS_BINDINGS
from console.widgets.migrations.findings import findings_text

PLAN_WIDTH = 100


class PlanDialog(ConsoleDialog[bool]):
    """Returns True when the operator confirms the run."""

    BINDINGS = FIELD_FOCUS_BINDINGS
    DEFAULT_CSS = """
    /* The steps, findings and SQL scroll; the title and the buttons stay in view. */
    .plan-dialog #plan-body {
        height: auto;
        max-height: 30;
    }
    .plan-dialog #plan-findings {
        margin: 1 0;
    }
    .plan-dialog #plan-caveat {
        margin-top: 1;
        color: $text-warning;
    }
    .plan-dialog #plan-sql {
        height: 12;
    }
    """

    def __init__(self, reviewed: ReviewedPlan) -> None:
        super().__init__()
        self.reviewed = reviewed
        destructive = reviewed.lint.destructive
        self.expected = destructive[0].revision if destructive else None

    def compose(self) -> ComposeResult:
        plan = self.reviewed.plan
        steps = "\n".join(
            f"{index}. {step.direction.value} {step.label}  {step.message}"
            for index, step in enumerate(plan.steps, start=1)
        )
        with Vertical(classes="dialog plan-dialog"):
            yield Static(f"Plan: {plan.describe()}", classes="dialog-title", markup=False)
            with VerticalScroll(id="plan-body"):
                yield Static(steps, id="plan-steps", markup=False)
                if self.reviewed.caveat is not None:
                    yield Static(self.reviewed.caveat, id="plan-caveat", markup=False)
                yield Static(findings_text(self.reviewed.lint.findings), id="plan-findings")
                yield TextArea(
                    self.reviewed.preview.script().strip(),
                    language="sql",
                    read_only=True,
                    show_line_numbers=False,
                    id="plan-sql",
                )
            if self.expected is not None:
                yield Label(
                    Text.assemble(
                        ("This plan loses data. ", "bold red"),
                        "Type ",
                        (self.expected, "bold"),
                        " to confirm:",
                    )
                )
                yield Input(id="plan-typed")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Run",
                    variant="error" if self.expected else "primary",
                    id="plan-run",
                    disabled=self.expected is not None,
                    compact=True,
                )
                yield Button("Cancel", id="plan-cancel", compact=True)

    def on_mount(self) -> None:
        # Wider than the other dialogs, for the SQL: inline, as the app's .dialog rule
        # outranks a widget's DEFAULT_CSS.
        self.query_one(".plan-dialog").styles.width = PLAN_WIDTH
        self.query_one("#plan-sql", TextArea).cursor_blink = False
        if self.expected is not None:
            self.query_one("#plan-typed", Input).focus()
        else:
            self.query_one("#plan-cancel", Button).focus()

    @on(Input.Changed, "#plan-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#plan-run", Button).disabled = event.value.strip() != self.expected

    @on(Input.Submitted, "#plan-typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)

    @on(Button.Pressed, "#plan-run")
    def _run(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#plan-cancel")
    def _cancel(self) -> None:
        self.dismiss(False)
