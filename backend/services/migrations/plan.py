"""A plan: the ordered steps a target means from where the database stands.

One Plan drives the SQL preview, the lint, the confirmation and the run, so what is
shown is what runs. Targets are Alembic's: head, heads, a revision (or a unique
prefix), base, +N, -N, label@head.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from backend.services.errors import InvalidInput
from backend.services.migrations.graph import MigrationState, applied_revisions, parents_of
from backend.services.migrations.project import one_sentence

_DOWNWARD = re.compile(r"^(base|-\d+|.+@-\d+)$")
_STEPS_DOWN = re.compile(r"^-(\d+)$")
_UPWARD = re.compile(r"^(heads?|\+\d+|.+@(head|\+\d+))$")
TARGET_HELP = "head, heads, a revision, base, +N or -N"


class Direction(StrEnum):
    UP = "upgrade"
    DOWN = "downgrade"


@dataclass(frozen=True, slots=True)
class PlanStep:
    revision: str
    direction: Direction
    down_revisions: tuple[str, ...]
    message: str

    @property
    def label(self) -> str:
        below = ",".join(self.down_revisions) or "base"
        if self.direction is Direction.UP:
            return f"{below} -> {self.revision}"
        return f"{self.revision} -> {below}"


@dataclass(frozen=True, slots=True)
class Plan:
    target: str  # as asked for
    direction: Direction
    start: tuple[str, ...]  # the version table's revisions when planned
    end: tuple[str, ...]  # what it will hold once every step has run
    steps: tuple[PlanStep, ...]

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def describe(self) -> str:
        """E.g. "upgrade base -> 0002 (2 steps)"."""
        count = len(self.steps)
        noun = "step" if count == 1 else "steps"
        moves = f"{_revisions(self.start)} -> {_revisions(self.end)}"
        return f"{self.direction.value} {moves} ({count} {noun})"


def _revisions(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions) or "base"


def make_plan(scripts: ScriptDirectory, state: MigrationState, target: str) -> Plan:
    """The steps from the database's revisions to `target`, in the order they run.

    Raises InvalidInput for an unknown or unreachable target, and when the database
    records a revision these scripts do not know.
    """
    target = target.strip()
    if not target:
        raise InvalidInput(f"Give a target: {TARGET_HELP}.")
    if state.unknown:
        raise InvalidInput(
            f"The database is at {', '.join(state.unknown)}, which these migrations do not "
            "know (stamped by a newer release?); stamp a known revision first."
        )
    direction = _direction(scripts, state, target)
    if direction is Direction.DOWN and not state.current and target != "base":
        raise InvalidInput("The database is at base: there is nothing below it to go down to.")
    walked_to = _walk_down(scripts, state.current, target)
    steps = _alembic_steps(scripts, state.current, walked_to, direction)
    plan_steps = tuple(_plan_step(step) for step in steps)
    return Plan(
        target=target,
        direction=direction,
        start=state.current,
        end=heads_after(scripts, state.current, plan_steps),
        steps=plan_steps,
    )


def _direction(scripts: ScriptDirectory, state: MigrationState, target: str) -> Direction:
    if _DOWNWARD.match(target):
        return Direction.DOWN
    if _UPWARD.match(target):
        return Direction.UP
    try:
        wanted = {script.revision for script in scripts.get_revisions(target) if script}
    except CommandError as error:
        raise InvalidInput(one_sentence(error)) from None
    below_current = applied_revisions(scripts, state.current) - set(state.current)
    return Direction.DOWN if wanted and wanted <= below_current else Direction.UP


def _walk_down(scripts: ScriptDirectory, current: tuple[str, ...], target: str) -> str:
    """`-N` as the revision to go down to, where Alembic's own walk is ambiguous.

    Alembic walks -N down one line of parents: it refuses at a merge point ("Ambiguous
    walk") and, from several heads, takes one of them (warning that it will refuse).
    Undoing a merge point is one step all the same, after which the database is at its
    parents; past that, or from several heads, the operator names the branch.
    Raises InvalidInput naming the choices.
    """
    if (match := _STEPS_DOWN.match(target)) is None:
        return target
    count = int(match.group(1))
    what = "one step down" if count == 1 else target
    if len(current) > 1:
        raise InvalidInput(
            f"The database is at {len(current)} heads ({', '.join(current)}), so {what} is "
            f"ambiguous: name the head to step down, {_branch_choices(current, '-1')}."
        )
    revision = current[0]
    for taken in range(1, count + 1):
        parents = parents_of(scripts.get_revision(revision))
        if len(parents) > 1:
            if taken == count:
                return parents[0]  # down to one parent: the merge point alone is undone
            raise InvalidInput(
                f"{target} passes merge point {revision}, below which the history splits "
                f"({', '.join(parents)}): step down to its parents first (-{taken}), then "
                f"one branch at a time ({_branch_choices(parents, '-1')})."
            )
        if not parents:
            break  # past base: Alembic says how far it got
        revision = parents[0]
    return target


def _branch_choices(heads: Iterable[str], relative: str) -> str:
    return " or ".join(f"{head}@{relative}" for head in heads)


def _alembic_steps(
    scripts: ScriptDirectory, current: tuple[str, ...], target: str, direction: Direction
) -> list[RevisionStep]:
    try:
        if direction is Direction.UP:
            steps = scripts._upgrade_revs(target, current)  # type: ignore[arg-type]
        else:
            steps = scripts._downgrade_revs(target, current)  # type: ignore[arg-type]
    except CommandError as error:
        if str(error).startswith("Ambiguous walk"):  # a branch-relative target (x@-1)
            raise InvalidInput(
                f"{target} is ambiguous from {','.join(current) or 'base'}, where the history "
                "branches or merges: give a revision instead (see the history)."
            ) from None
        raise InvalidInput(one_sentence(error)) from None
    return steps


def _plan_step(step: RevisionStep) -> PlanStep:
    script = step.revision
    return PlanStep(
        revision=script.revision,
        direction=Direction.UP if step.is_upgrade else Direction.DOWN,
        down_revisions=parents_of(script),
        message=script.doc or "",
    )


def revision_steps(scripts: ScriptDirectory, steps: Iterable[PlanStep]) -> list[RevisionStep]:
    """Alembic's own step objects for `steps`, to run or render exactly those."""
    return [
        RevisionStep(
            scripts.revision_map,
            scripts.get_revision(step.revision),
            step.direction is Direction.UP,
        )
        for step in steps
    ]


def heads_after(
    scripts: ScriptDirectory, start: tuple[str, ...], steps: Iterable[PlanStep]
) -> tuple[str, ...]:
    """The version table's revisions once `steps` have run from `start`."""
    applied = applied_revisions(scripts, start)
    for step in steps:
        if step.direction is Direction.UP:
            applied.add(step.revision)
        else:
            applied.discard(step.revision)
    parents = {
        parent for revision in applied for parent in parents_of(scripts.get_revision(revision))
    }
    return tuple(sorted(applied - parents))


def single_step(scripts: ScriptDirectory, revision: str, direction: Direction) -> Plan:
    """One revision up from its parents, or down to them: the screen's SQL preview."""
    script = scripts.get_revision(revision)
    if script is None:
        raise InvalidInput(f"There is no revision {revision}.")
    parents = parents_of(script)
    step = PlanStep(script.revision, direction, parents, script.doc or "")
    start = parents if direction is Direction.UP else (script.revision,)
    end = (script.revision,) if direction is Direction.UP else parents
    return Plan(target=revision, direction=direction, start=start, end=end, steps=(step,))


def reverse_plan(scripts: ScriptDirectory, plan: Plan) -> Plan:
    """The plan that would undo `plan`: its steps backwards, each the other way."""
    other = Direction.DOWN if plan.direction is Direction.UP else Direction.UP
    steps = tuple(replace(step, direction=other) for step in reversed(plan.steps))
    return Plan(
        target=_revisions(plan.start), direction=other, start=plan.end, end=plan.start, steps=steps
    )
