"""`backend-console audit ...`: list, verify and prune the audit log."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.cli.errors import CliError
from console.cli.output import note, print_json, print_table
from console.cli.state import CliState, open_database, run, state_of

if TYPE_CHECKING:
    from backend.services.audit import AuditFilter, AuditRecord, PruneResult
    from backend.services.audit_chain import ChainReport
    from backend.services.audit_reanchor import Reanchored
    from backend.services.audit_relink import ChainSurvey

app = typer.Typer(help="List, verify, prune and re-anchor the audit log.", no_args_is_help=True)

MAX_LIST_LIMIT = 100_000


@app.command("list")
def list_events(
    ctx: typer.Context,
    actor: Annotated[
        str | None, typer.Option(help="Only this actor, e.g. cli:alice.", metavar="A")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. user.update.", metavar="X")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="From this time: 2026-12-01, 2026-12-01T10:00 or 2h, 3d, 1w ago.", metavar="T"
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(help="Show at most this many.", min=1, max=MAX_LIST_LIMIT)
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List audit events, newest first."""
    from backend.services.audit import AuditFilter

    filters = AuditFilter(actor=actor, action=action, since=parse_since(since))
    events = run(_list(state_of(ctx), filters, limit))
    if as_json:
        print_json({"items": [event_document(event) for event in events]})
        return
    print_table(
        ("id", "at", "actor", "action", "target", "changes"),
        [
            (e.id, _moment(e.at), e.actor, e.action, e.target or "-", _compact(e.changes))
            for e in events
        ],
    )
    note(f"Showed {len(events):,} event(s).")


def parse_since(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """An ISO date or time (UTC unless it says otherwise), or a span ago such as 2h or 3d."""
    from console.time_input import EXAMPLES, parse_moment

    if text is None:
        return None
    try:
        return parse_moment(text, now or dt.datetime.now(dt.UTC))
    except ValueError:
        raise CliError(f"Invalid --since {text!r}: give {EXAMPLES}.") from None


async def _list(state: CliState, filters: AuditFilter, limit: int) -> list[AuditRecord]:
    from backend.services.audit import MAX_PAGE, list_events

    events: list[AuditRecord] = []
    async with open_database(state.settings) as database, database.session() as session:
        before: int | None = None
        while len(events) < limit:
            wanted = min(limit - len(events), MAX_PAGE)
            page = await list_events(session, filters, limit=wanted, before_id=before)
            events.extend(page)
            if len(page) < wanted:
                break
            before = page[-1].id
    return events


def event_document(event: AuditRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "changes": event.changes,
        "chain_seq": event.chain_seq,
    }


def _moment(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _compact(changes: dict[str, Any]) -> str:
    return json.dumps(changes, separators=(",", ":"), ensure_ascii=False) if changes else "-"


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check the hash chain; exit 1 at the first event that does not match."""
    report = run(_verify(state_of(ctx)))
    if report.broken is not None:
        raise CliError(f"The audit chain is broken: {report.broken.reason}.")
    typer.echo(f"The audit chain is intact: {report.checked:,} event(s) verified.")


async def _verify(state: CliState) -> ChainReport:
    from backend.services.audit_chain import verify_chain

    async with open_database(state.settings) as database, database.session() as session:
        return await verify_chain(session)


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            help="Delete events older than this many days.",
            metavar="DAYS",
            show_default=False,
        ),
    ],
) -> None:
    """Delete old events (itself audited); the rest of the chain stays verifiable."""
    state = state_of(ctx)
    state.require_writable("prune the audit log")
    result = run(_prune(state, older_than))
    typer.echo(
        f"Deleted {result.deleted:,} audit event(s) older than {_moment(result.cutoff)} UTC."
    )


async def _prune(state: CliState, days: int) -> PruneResult:
    from backend.services.actor import Actor
    from backend.services.audit import prune_events

    async with open_database(state.settings) as database, database.session() as session:
        return await prune_events(session, Actor.cli(), days)


@app.command()
def reanchor(
    ctx: typer.Context,
    previous_key_stdin: Annotated[
        bool,
        typer.Option(
            "--previous-key-stdin",
            help="Read the previous SECRET_KEY from stdin's first line: links signed with it "
            "are checked before they are signed again.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Sign again what cannot be checked, without asking.")
    ] = False,
) -> None:
    """Sign the audit chain again with this SECRET_KEY (after changing it); audited."""
    state = state_of(ctx)
    state.require_writable("re-anchor the audit chain")
    previous = _read_previous_key() if previous_key_stdin else None
    survey = run(_survey(state, previous))
    if survey.up_to_date:
        typer.echo("The audit chain is signed with this SECRET_KEY already: nothing to do.")
        return
    if survey.needs_acceptance and not yes:
        _ask_to_accept(survey, stdin_is_free=not previous_key_stdin)  # shows the survey
    else:
        note(_survey_line(survey))
    result = run(_reanchor(state, previous, survey.needs_acceptance))
    typer.echo(f"Signed {result.signed:,} link(s) of the audit chain again with this SECRET_KEY.")


def _read_previous_key() -> str:
    key = sys.stdin.readline().strip()
    if not key:
        raise CliError("No previous SECRET_KEY on stdin's first line.")
    return key


def _survey_line(survey: ChainSurvey) -> str:
    line = (
        f"{survey.links:,} link(s): {survey.checked:,} checked, {survey.unverifiable:,} signed "
        f"with a key not given; {survey.older_unlinked:,} older event(s) to link in front; "
        f"{survey.strays:,} written outside the chain."
    )
    return line if survey.problem is None else f"{line} First problem: {survey.problem}."


def _ask_to_accept(survey: ChainSurvey, *, stdin_is_free: bool) -> None:
    from backend.services.audit_reanchor import refusal

    if not (stdin_is_free and sys.stdin.isatty()):
        raise CliError(f"{refusal(survey)} Pass --yes to sign it as it stands.")
    note(_survey_line(survey))
    if not typer.confirm("Sign what cannot be checked as it stands?", default=False, err=True):
        raise CliError("Nothing was changed.")


async def _survey(state: CliState, previous: str | None) -> ChainSurvey:
    from backend.services.audit_reanchor import survey_for_reanchor

    async with open_database(state.settings) as database, database.session() as session:
        return await survey_for_reanchor(session, previous)


async def _reanchor(state: CliState, previous: str | None, accept: bool) -> Reanchored:
    from backend.services.actor import Actor
    from backend.services.audit_reanchor import reanchor_chain

    async with open_database(state.settings) as database, database.session() as session:
        return await reanchor_chain(
            session, Actor.cli(), previous_secret_key=previous, accept=accept
        )
