"""`backend-console db ...`: run, roll back and inspect the Alembic migrations."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.cli.errors import CliError
from console.cli.output import note, print_json, print_table
from console.cli.state import (
    UPGRADE_HINT,
    CliState,
    open_database,
    run,
    state_of,
)

if TYPE_CHECKING:
    from backend.database import Database

app = typer.Typer(help="Run, roll back and inspect database migrations.", no_args_is_help=True)

SqlOption = Annotated[
    bool, typer.Option("--sql", help="Print the SQL instead of running it (no connection).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command()
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.", metavar="[REV]")] = "head",
    sql: SqlOption = False,
) -> None:
    """Migrate up to REVISION (default: head)."""
    _migrate(state_of(ctx), "upgrade", revision, sql=sql)


@app.command()
def downgrade(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Argument(help='Target revision; "base" empties the schema.', metavar="REV")
    ],
    sql: SqlOption = False,
) -> None:
    """Migrate down to REVISION."""
    _migrate(state_of(ctx), "downgrade", revision, sql=sql)


@app.command()
def stamp(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="The revision to record.", metavar="REV")],
    sql: SqlOption = False,
) -> None:
    """Record REVISION as applied without running any migration."""
    _migrate(state_of(ctx), "stamp", revision, sql=sql)


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
        ("revision", "parent", "applied", "head", "message"),
        [
            (
                r["revision"],
                r["down_revision"] or "base",
                r["is_applied"],
                r["is_head"],
                r["message"],
            )
            for r in revisions
        ],
    )


@app.command()
def check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Exit 1 unless the database is at head and matches the models."""
    status = run(_check(state_of(ctx)))
    if as_json:
        print_json(status)
    else:
        for difference in status["differences"]:
            typer.echo(difference)
    if not status["is_head"]:
        where = status["revision"] or "no revision"
        raise CliError(f"The database is at {where}, not at head {status['head']}; {UPGRADE_HINT}.")
    if status["differences"]:
        count = len(status["differences"])
        raise CliError(f"The models differ from the schema in {count} way(s); add a migration.")
    if not as_json:
        typer.echo(f"The database is at head {status['head']} and matches the models.")


def _migrate(state: CliState, command: str, revision: str, *, sql: bool) -> None:
    from backend.services import migrations

    if sql:
        url = state.settings.resolved_database_url
        from backend.database import unusable_url_errors

        with unusable_url_errors(url):
            typer.echo(migrations.offline_sql(command, revision, url))
        return
    state.require_writable("run migrations")
    before, after, where = run(_run_migration(state, command, revision))
    past = {"upgrade": "Upgraded", "downgrade": "Downgraded", "stamp": "Stamped"}[command]
    if before == after:
        note(f"The database at {where} is already at {after or 'base'}; nothing changed.")
    else:
        typer.echo(f"{past} the database at {where} from {before or 'base'} to {after or 'base'}.")


async def _run_migration(
    state: CliState, command: str, revision: str
) -> tuple[str | None, str | None, str]:
    from backend.services import migrations, schema

    async with open_database(state.settings, require_head=False) as database:
        before = await schema.current_revision(database.engine)
        await getattr(migrations, command)(database.engine, revision)
        after = await schema.current_revision(database.engine)
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
        revisions = await migrations.history(database.engine)
    return [asdict(revision) for revision in revisions]


async def _check(state: CliState) -> dict[str, Any]:
    from backend.services import migrations

    async with open_database(state.settings, require_head=False) as database:
        status = await _status_of(database)
        differences = []
        if status["is_head"]:
            differences = await migrations.pending_model_changes(database.engine)
    return {**status, "differences": differences}
