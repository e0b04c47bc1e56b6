"""Lint findings as text: the plan dialog and the revision detail show them alike."""

from __future__ import annotations

from rich.text import Text

from backend.services.migrations import Finding, Severity

SEVERITY_STYLES = {
    Severity.DESTRUCTIVE: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "dim",
}


def findings_text(findings: tuple[Finding, ...]) -> Text:
    """One line per open finding, coloured by severity, with its statement below;
    acknowledged ones folded into one dim line per revision and rule."""
    if not findings:
        return Text("No lint findings.", style="green")
    lines: list[Text] = []
    folded: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.acknowledged:
            folded.setdefault((finding.revision, finding.rule), []).append(finding)
            continue
        line = Text(
            f"{finding.severity.value} {finding.rule}", style=SEVERITY_STYLES[finding.severity]
        )
        line.append(f" {finding.revision} ({finding.direction.value}): {finding.why}")
        if finding.statement:
            line.append(f"\n    {finding.statement}", style="dim")
        lines.append(line)
    for (revision, rule), group in folded.items():
        times = f" x{len(group)}" if len(group) > 1 else ""
        lines.append(
            Text(f"acknowledged {rule}{times} {revision}: {group[0].acknowledged}", style="dim")
        )
    return Text("\n").join(lines)
