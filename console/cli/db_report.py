"""How `db` shows plans, lint findings and progress: text for people, dicts for --json."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from backend.services.migrations import (
        Finding,
        MigrationEvent,
        MigrationState,
        ReviewedPlan,
    )


def plan_document(reviewed: ReviewedPlan) -> dict[str, Any]:
    """The plan, each step's SQL and the findings, as one JSON document."""
    plan = reviewed.plan
    return {
        "target": plan.target,
        "direction": plan.direction.value,
        "from": list(plan.start),
        "to": list(plan.end),
        "dialect": reviewed.preview.dialect,
        "steps": [
            {
                "revision": step.step.revision,
                "direction": step.step.direction.value,
                "message": step.step.message,
                "sql": step.sql,
                "error": step.error,
            }
            for step in reviewed.preview.steps
        ],
        "findings": [finding_document(finding) for finding in reviewed.lint.findings],
        "destructive": bool(reviewed.lint.destructive),
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    return {
        "revision": finding.revision,
        "direction": finding.direction.value,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "statement": finding.statement,
        "why": finding.why,
        "acknowledged": finding.acknowledged,
    }


def state_documents(state: MigrationState) -> list[dict[str, Any]]:
    """`db history --json`: every revision, newest first."""
    return [
        {
            "revision": node.revision,
            "down_revision": ",".join(node.down_revisions) or None,
            "down_revisions": list(node.down_revisions),
            "message": node.message,
            "create_date": node.create_date,
            "branch_labels": list(node.branch_labels),
            "is_head": node.is_head,
            "is_applied": node.is_applied,
            "mark": node.mark.value,
            "is_branch_point": node.is_branch_point,
            "is_merge_point": node.is_merge_point,
        }
        for node in state.nodes
    ]


def echo_plan(reviewed: ReviewedPlan, *, err: bool) -> None:
    """The plan's steps and findings, for a person (on stderr before a run)."""
    plan = reviewed.plan
    typer.echo(f"Plan: {plan.describe()}", err=err)
    for index, step in enumerate(plan.steps, start=1):
        typer.echo(f"  {index}. {step.direction.value} {step.label}  {step.message}", err=err)
    if reviewed.caveat is not None and not plan.is_empty:
        typer.echo(reviewed.caveat, err=err)
    echo_findings(reviewed.lint.findings, err=err)


def echo_findings(findings: tuple[Finding, ...], *, err: bool) -> None:
    if not findings:
        typer.echo("Lint: no findings.", err=err)
        return
    typer.echo(f"Lint: {len(findings)} finding(s):", err=err)
    for finding in findings:
        typer.echo(f"  {finding.describe()}", err=err)


def echo_event(event: MigrationEvent) -> None:
    """A run's progress on stderr: each step as it starts and ends, and lock waits."""
    from backend.services.migrations import LockWaiting, StepFinished, StepStarted

    if isinstance(event, StepStarted):
        step = event.step
        typer.echo(f"[{event.index}/{event.total}] {step.direction.value} {step.label} …", err=True)
    elif isinstance(event, StepFinished):
        typer.echo(
            f"[{event.index}/{event.total}] {event.step.revision} done in {event.elapsed:.2f} s",
            err=True,
        )
    elif isinstance(event, LockWaiting):
        typer.echo(
            f"Waiting for the migration lock, held by {event.holder} ({event.waited:.0f} s)…",
            err=True,
        )
