"""Lint: what in a plan loses data, locks a busy table or cannot be rolled back.

Each step's offline SQL (on the configured dialect) is read statement by statement;
every finding names the revision, the statement and why. Indexes and constraints on
a table the same step creates are harmless (nobody uses it yet), and so is a table
rebuilt under its own name (SQLite's way to alter one) as such. What a batch block
changes in a rebuilt table (a dropped column, a new type) is not in that SQL: it is
read from the block's operations (batch_ops.py) and named as the operation. A
revision may acknowledge a rule, after review, in a module-level mapping (see
alembic/script.py.mako):

    lint_acknowledged = {"index-not-concurrent": "users is empty when this runs"}

Acknowledged findings are still listed, with the reason, but block nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from alembic.script import ScriptDirectory

from backend.services.migrations.batch_ops import BatchOperation
from backend.services.migrations.plan import Direction
from backend.services.migrations.preview import PlanPreview, StepSql
from backend.services.migrations.project import ACKNOWLEDGED_ATTRIBUTE


class Severity(StrEnum):
    DESTRUCTIVE = "destructive"  # loses data: the revision id must be typed (or --yes)
    WARNING = "warning"  # locks, rewrites, breaks running code, or cannot be undone
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    why: str
    postgresql_only: bool = False


RULES = {
    rule.id: rule
    for rule in (
        Rule("drop-table", Severity.DESTRUCTIVE, "drops the table and every row in it"),
        Rule("drop-column", Severity.DESTRUCTIVE, "drops the column and its data"),
        Rule("column-type", Severity.WARNING, "rewrites the table under an exclusive lock"),
        Rule(
            "not-null-without-default",
            Severity.WARNING,
            "adds a NOT NULL column with no server default: fails on a table with rows",
        ),
        Rule(
            "set-not-null",
            Severity.WARNING,
            "scans the whole table under an exclusive lock; fails if any row is NULL",
        ),
        Rule(
            "index-not-concurrent",
            Severity.WARNING,
            "builds the index without CONCURRENTLY: writes to the table wait until it is done",
            postgresql_only=True,
        ),
        Rule(
            "constraint-not-valid",
            Severity.WARNING,
            "adds the constraint without NOT VALID: checks every row under a lock",
            postgresql_only=True,
        ),
        Rule("rename", Severity.WARNING, "renames what running code still uses by its old name"),
        Rule(
            "table-rebuild", Severity.WARNING, "rebuilds the table: copies every row under a lock"
        ),
        Rule("downgrade-raises", Severity.WARNING, "cannot be rolled back: its downgrade raises"),
        Rule(
            "downgrade-empty", Severity.WARNING, "cannot be rolled back: its downgrade does nothing"
        ),
        Rule("no-preview", Severity.INFO, "has no offline SQL, so lint could not read it"),
    )
}

_NAME = r'("?[\w.]+"?)'
_CREATE_TABLE = re.compile(rf"^CREATE TABLE (?:IF NOT EXISTS )?{_NAME}", re.IGNORECASE)
_DROP_TABLE = re.compile(rf"^DROP TABLE (?:IF EXISTS )?{_NAME}", re.IGNORECASE)
_ALTER_TABLE = re.compile(rf"^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?{_NAME} (.*)$", re.IGNORECASE)
_CREATE_INDEX = re.compile(
    rf"^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?{_NAME}? ?ON (?:ONLY )?{_NAME}",
    re.IGNORECASE,
)
_RENAME_TABLE = re.compile(rf"^RENAME TO {_NAME}", re.IGNORECASE)
_ALTER_CLAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("drop-column", re.compile(r"\bDROP COLUMN\b", re.IGNORECASE)),
    ("column-type", re.compile(r"\bALTER COLUMN \S+ (SET DATA )?TYPE\b", re.IGNORECASE)),
    ("set-not-null", re.compile(r"\bALTER COLUMN \S+ SET NOT NULL\b", re.IGNORECASE)),
    ("rename", re.compile(r"\bRENAME (COLUMN )?\S+ TO\b", re.IGNORECASE)),
)
_ADD_COLUMN = re.compile(r"\bADD (COLUMN )?(?!CONSTRAINT\b)\S+ .*\bNOT NULL\b", re.IGNORECASE)
_ADD_CONSTRAINT = re.compile(r"\bADD (CONSTRAINT \S+ )?(FOREIGN KEY|CHECK)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Finding:
    revision: str
    direction: Direction
    rule: str
    severity: Severity
    statement: str  # the statement, on one line ("" for what concerns the whole step)
    why: str
    acknowledged: str | None = None  # the revision's reviewed reason, when it has one

    @property
    def blocks(self) -> bool:
        """Needs the revision id typed (console) or --yes (CLI)."""
        return self.severity is Severity.DESTRUCTIVE and self.acknowledged is None

    def describe(self) -> str:
        where = f": {self.statement}" if self.statement else ""
        step = f"{self.revision} ({self.direction.value})"
        text = f"{self.severity.value} {self.rule} in {step}{where} - {self.why}"
        if self.acknowledged:
            text += f" [acknowledged: {self.acknowledged}]"
        return text


@dataclass(frozen=True, slots=True)
class LintReport:
    findings: tuple[Finding, ...]

    @property
    def destructive(self) -> tuple[Finding, ...]:
        """The findings that need a typed confirmation."""
        return tuple(finding for finding in self.findings if finding.blocks)

    @property
    def open_findings(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.acknowledged is None)

    def for_revision(self, revision: str) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.revision == revision)


def lint_preview(
    scripts: ScriptDirectory, preview: PlanPreview, reverse: PlanPreview | None = None
) -> LintReport:
    """Findings for every step of `preview`; `reverse` (the undoing plan) checks rollbacks."""
    opposite = {step.step.revision: step for step in reverse.steps} if reverse else {}
    findings: list[Finding] = []
    for step in preview.steps:
        raw = list(_step_findings(step, preview.dialect))
        if step.step.direction is Direction.UP and step.step.revision in opposite:
            raw += _rollback_findings(step, opposite[step.step.revision])
        findings += _acknowledge(scripts, raw)
    return LintReport(tuple(findings))


def _finding(step: StepSql, rule_id: str, statement: str = "") -> Finding:
    rule = RULES[rule_id]
    return Finding(
        step.step.revision, step.step.direction, rule.id, rule.severity, statement, rule.why
    )


def _step_findings(step: StepSql, dialect: str) -> Iterator[Finding]:
    if step.error is not None:
        if step.step.direction is Direction.DOWN:
            yield _finding(step, "downgrade-raises", step.error)
        else:
            yield _finding(step, "no-preview", step.error)
    statements = [" ".join(statement.split()) for statement in step.statements()]
    created = {_bare(m.group(1)) for s in statements if (m := _CREATE_TABLE.match(s))}
    rebuilt = _rebuilt_tables(statements)
    seen: set[tuple[str, str]] = set()  # (rule, table) the SQL shows
    for statement in statements:
        for rule_id in _statement_rules(statement, created, rebuilt):
            if dialect == "postgresql" or not RULES[rule_id].postgresql_only:
                altered = _ALTER_TABLE.match(statement)
                seen.add((rule_id, _bare(altered.group(1)) if altered else ""))
                yield _finding(step, rule_id, statement)
    for operation in step.batch:
        for rule_id in _batch_rules(operation):
            table = operation.table.lower()
            if (rule_id, table) not in seen and table not in created:
                yield _finding(step, rule_id, operation.describe())


def _statement_rules(statement: str, created: set[str], rebuilt: set[str]) -> Iterator[str]:
    if match := _DROP_TABLE.match(statement):
        table = _bare(match.group(1))
        if table in rebuilt:
            yield "table-rebuild"
        elif table not in created:
            yield "drop-table"
        return
    if match := _CREATE_INDEX.match(statement):
        if not match.group(1) and _bare(match.group(3)) not in created:
            yield "index-not-concurrent"
        return
    match = _ALTER_TABLE.match(statement)
    if match is None or _bare(match.group(1)) in created:
        return
    rest = match.group(2)
    renamed = _RENAME_TABLE.match(rest)
    if renamed and _bare(renamed.group(1)) in rebuilt:
        return  # the rebuilt table taking its old name back
    for rule_id, pattern in _ALTER_CLAUSES:
        if pattern.search(rest) or (rule_id == "rename" and renamed):
            yield rule_id
    if _ADD_COLUMN.search(rest) and " DEFAULT " not in f" {rest.upper()} ":
        yield "not-null-without-default"
    if _ADD_CONSTRAINT.search(rest) and "NOT VALID" not in rest.upper():
        yield "constraint-not-valid"


def _batch_rules(operation: BatchOperation) -> Iterator[str]:
    """The rules a batch operation breaks, whatever SQL it becomes (ALTER or a rebuild)."""
    if operation.operation == "drop_column":
        yield "drop-column"
    elif operation.operation == "alter_column":
        if operation.new_type is not None:
            yield "column-type"
        if operation.nullable is False:
            yield "set-not-null"
        if operation.new_name is not None:
            yield "rename"
    elif operation.operation == "add_column" and not (
        operation.nullable or operation.server_default
    ):
        yield "not-null-without-default"


def _rebuilt_tables(statements: list[str]) -> set[str]:
    """Tables dropped and then replaced by a renamed copy within the same step."""
    dropped = {_bare(m.group(1)) for s in statements if (m := _DROP_TABLE.match(s))}
    renamed_to = set()
    for statement in statements:
        if (match := _ALTER_TABLE.match(statement)) and (to := _RENAME_TABLE.match(match.group(2))):
            renamed_to.add(_bare(to.group(1)))
    return dropped & renamed_to


def _rollback_findings(up: StepSql, down: StepSql) -> Iterator[Finding]:
    if down.error is not None:
        yield _finding(down, "downgrade-raises", down.error)
    elif up.error is None and up.statements() and not down.statements():
        # An upgrade that does nothing here (another dialect's revision) needs no downgrade.
        yield _finding(down, "downgrade-empty")


def _acknowledge(scripts: ScriptDirectory, findings: Iterable[Finding]) -> list[Finding]:
    result = []
    for finding in findings:
        reasons = acknowledgments(scripts, finding.revision)
        if finding.rule in reasons:
            finding = replace(finding, acknowledged=reasons[finding.rule])
        result.append(finding)
    return result


def acknowledgments(scripts: ScriptDirectory, revision: str) -> dict[str, str]:
    """The revision's reviewed `lint_acknowledged` mapping (rule -> reason)."""
    script = scripts.get_revision(revision)
    mapping = getattr(script.module, ACKNOWLEDGED_ATTRIBUTE, None) if script else None
    if not isinstance(mapping, dict):
        return {}
    return {str(rule): str(reason) for rule, reason in mapping.items()}


def _bare(name: str) -> str:
    return name.strip('"').split(".")[-1].lower()
