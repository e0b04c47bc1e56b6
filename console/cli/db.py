"""`backend-console db ...`: plan, lint, run, roll back and inspect the Alembic migrations.

Runs show their plan and lint findings first (stderr), ask before a destructive step
(or take --yes; without a terminal they refuse), and report each step on stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.cli.db_report import (
    echo_event,
    echo_findings,
    echo_plan,
    plan_document,
    state_documents,
)
from console.cli.errors import CliError
from console.cli.output import note, print_json, print_table
from console.cli.state import UPGRADE_HINT, CliState, open_database, run, state_of

if TYPE_CHECKING:
    from backend.database import Database
    from backend.services.migrations import Direction, Plan, ReviewedPlan, RunResult

app = typer.Typer(help="Run, roll back and inspect database migrations.", no_args_is_help=True)

SqlOption = Annotated[
    bool, typer.Option("--sql", help="Print the SQL instead of running it (no connection).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Run destructive steps without asking.")
]
PAST = {"upgrade": "Upgraded", "downgrade": "Downgraded"}


@app.command()
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.", metavar="[REV]")] = "head",
    sql: SqlOption = False,
    yes: YesOption = False,
) -> None:
    """Migrate up to REVISION (default: head), showing the plan and lint first."""
    _migrate(state_of(ctx), "upgrade", revision, sql=sql, yes=yes)


@app.command()
def downgrade(
    ctx: typer.Context,
    revision: Annotated[
        str,
        typer.Argument(
            help='Target revision, "base" to empty the schema, or -N after "--".',
            metavar="REV",
        ),
    ],
    sql: SqlOption = False,
    yes: YesOption = False,
) -> None:
    """Migrate down to REVISION, showing the plan and lint first."""
    _migrate(state_of(ctx), "downgrade", revision, sql=sql, yes=yes)


@app.command()
def stamp(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="The revision to record.", metavar="REV")],
    sql: SqlOption = False,
    yes: YesOption = False,
) -> None:
    """Record REVISION as applied without running any migration (asks to confirm)."""
    state = state_of(ctx)
    if sql:
        _print_offline(state, "stamp", revision)
        return
    state.require_writable("stamp the database")
    _confirm(
        f"Record {revision} as the database's revision without running any migration?",
        yes=yes,
        refusal="Stamping asks to confirm; pass --yes to stamp without a terminal.",
    )
    before, after, where = run(_stamp(state, revision))
    typer.echo(f"Stamped the database at {where} from {_join(before)} to {_join(after)}.")


@app.command()
def plan(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="head, a revision, base, +N or -N.")],
    as_json: JsonOption = False,
) -> None:
    """Show what migrating to TARGET would do: its steps, their SQL and lint findings."""
    reviewed, _where = run(_review(state_of(ctx), target))
    if as_json:
        print_json(plan_document(reviewed))
        return
    echo_plan(reviewed, err=False)
    for step in reviewed.preview.steps:
        typer.echo(f"\n-- {step.step.direction.value} {step.step.label}")
        typer.echo(step.sql.strip() if step.error is None else f"-- not available: {step.error}")


@app.command()
def lint(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(help="Lint the plan to TARGET (default: every revision, from base)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check migrations for data loss and locks; exit 1 on a destructive finding."""
    state = state_of(ctx)
    reviewed = _review_all(state) if target is None else run(_review(state, target))[0]
    findings = reviewed.lint.findings
    if as_json:
        print_json(plan_document(reviewed)["findings"])
    else:
        echo_findings(findings, err=False)
    if reviewed.lint.destructive:
        count = len(reviewed.lint.destructive)
        raise CliError(
            f"{count} destructive finding(s); a run needs --yes or a typed confirmation."
        )


@app.command()
def current(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database's revision and the head."""
    status = run(_status(state_of(ctx)))
    if as_json:
        print_json(status)
        return
    revision, head = status["revision"], status["head"]
    if revision is None:
        typer.echo(f"empty (no migration applied; head is {head})")
    elif revision == head:
        typer.echo(f"{revision} (head)")
    else:
        typer.echo(f"{revision} (head is {head}; {UPGRADE_HINT})")


@app.command()
def history(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every revision, newest first, and whether it is applied."""
    revisions = run(_history(state_of(ctx)))
    if as_json:
        print_json(revisions)
        return
    print_table(
        ("revision", "parent", "mark", "head", "message"),
        [
            (r["revision"], r["down_revision"] or "base", r["mark"], r["is_head"], r["message"])
            for r in revisions
        ],
    )


@app.command()
def check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Exit 1 unless the database is at head, matches the models, and there is one head."""
    status = run(_check(state_of(ctx)))
    if as_json:
        print_json(status)
    else:
        for difference in status["differences"]:
            typer.echo(difference)
    if len(status["heads"]) != 1:
        raise CliError(f"The migrations have {len(status['heads'])} heads; merge them.")
    if not status["is_head"]:
        where = status["revision"] or "no revision"
        raise CliError(f"The database is at {where}, not at head {status['head']}; {UPGRADE_HINT}.")
    if status["differences"]:
        count = len(status["differences"])
        raise CliError(f"The models differ from the schema in {count} way(s); add a migration.")
    if not as_json:
        typer.echo(f"The database is at head {status['head']} and matches the models.")


def _migrate(state: CliState, command: str, target: str, *, sql: bool, yes: bool) -> None:
    from backend.services.migrations import Direction

    if sql:
        _print_offline(state, command, target)
        return
    state.require_writable("run migrations")
    reviewed, where = run(_review(state, target, Direction(command)))
    plan = reviewed.plan
    echo_plan(reviewed, err=True)
    if plan.is_empty:
        note(f"The database at {where} is already at {_join(plan.end)}; nothing changed.")
        return
    if reviewed.lint.destructive:
        revisions = ", ".join(sorted({finding.revision for finding in reviewed.lint.destructive}))
        _confirm(
            f"The plan loses data ({revisions}); run it?",
            yes=yes,
            refusal=f"The plan loses data ({revisions}); pass --yes to run it without a terminal.",
        )
    result = run(_execute(state, plan))
    typer.echo(
        f"{PAST[command]} the database at {where} from {_join(result.before)} "
        f"to {_join(result.after)}."
    )


def _confirm(question: str, *, yes: bool, refusal: str) -> None:
    """Go on with --yes or a "y" typed at a terminal; refuse without either."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(refusal)
    if not typer.confirm(question, default=False, err=True):
        raise CliError("Nothing was changed.")


def _join(revisions: tuple[str, ...] | list[str]) -> str:
    return ",".join(revisions) or "base"


def _print_offline(state: CliState, command: str, target: str) -> None:
    from backend.database import unusable_url_errors
    from backend.services import migrations

    url = state.settings.resolved_database_url
    with unusable_url_errors(url):
        typer.echo(migrations.offline_sql(command, target, url))


async def _review(
    state: CliState, target: str, direction: Direction | None = None
) -> tuple[ReviewedPlan, str]:
    from backend.services import migrations

    async with open_database(state.settings, require_head=False) as database:
        plan = await migrations.plan_target(database.engine, target, direction=direction)
        return migrations.review(plan, database.url), database.masked_url


def _review_all(state: CliState) -> ReviewedPlan:
    """Every revision from base up, planned without the database (lint of the history)."""
    from backend.services import migrations

    scripts = migrations.script_directory()
    plan: Plan = migrations.make_plan(scripts, migrations.state_for(scripts, ()), "heads")
    return migrations.review(plan, state.settings.resolved_database_url)


async def _execute(state: CliState, plan: Plan) -> RunResult:
    from backend.services import migrations
    from backend.services.actor import Actor

    guard = migrations.guard_options_from(state.settings)
    async with open_database(state.settings, require_head=False) as database:
        return await migrations.run_plan(
            database.engine, plan, actor=Actor.cli(), guard=guard, on_event=echo_event
        )


async def _stamp(state: CliState, revision: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    from backend.services import migrations
    from backend.services.actor import Actor

    guard = migrations.guard_options_from(state.settings)
    async with open_database(state.settings, require_head=False) as database:
        before, after = await migrations.stamp_revision(
            database.engine, revision, actor=Actor.cli(), guard=guard
        )
        return before, after, database.masked_url


async def _status(state: CliState) -> dict[str, Any]:
    async with open_database(state.settings, require_head=False) as database:
        return await _status_of(database)


async def _status_of(database: Database) -> dict[str, Any]:
    from backend.services import migrations, schema

    revision = await schema.current_revision(database.engine)
    head = migrations.head_revision()
    return {
        "database": database.masked_url,
        "revision": revision,
        "head": head,
        "is_head": revision == head,
    }


async def _history(state: CliState) -> list[dict[str, Any]]:
    from backend.services import migrations

    async with open_database(state.settings, require_head=False) as database:
        return state_documents(await migrations.load_state(database.engine))


async def _check(state: CliState) -> dict[str, Any]:
    from backend.services import migrations

    async with open_database(state.settings, require_head=False) as database:
        status = await _status_of(database)
        drift = await migrations.check_drift(database.engine)
    differences = list(drift.differences) if status["is_head"] else []
    return {**status, "differences": differences, "heads": list(drift.heads)}
