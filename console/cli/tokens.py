"""`backend-console token ...`: issue a token for a user, inspect any token."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from console.cli.output import note, print_json
from console.cli.state import CliState, open_database, run, state_of

if TYPE_CHECKING:
    from backend.services.jwt_codec import TokenCheck
    from backend.services.tokens import IssuedToken

app = typer.Typer(help="Issue and inspect access tokens (JWTs).", no_args_is_help=True)

# Far above any real token (jwt_codec rejects those over 8 KiB); bounds what is read.
MAX_STDIN_CHARS = 64 * 1024
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command()
def issue(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose token.", metavar="EMAIL", show_default=False)],
    minutes: Annotated[
        int | None,
        typer.Option(help="Lifetime (default: ACCESS_TOKEN_EXPIRE_MINUTES).", metavar="M"),
    ] = None,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            help="An extra claim; VALUE is JSON or text. Repeatable.", metavar="KEY=VALUE"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a token for EMAIL, as a login would; prints the token alone."""
    from backend.services.tokens import parse_claim_assignments

    state = state_of(ctx)
    state.require_writable("issue tokens")
    extra_claims = parse_claim_assignments(claim or [])
    issued = run(_issue(state, email, minutes, extra_claims))
    if as_json:
        print_json(
            {
                "access_token": issued.token,
                "jti": issued.jti,
                "expires_at": issued.expires_at.isoformat(),
                "claims": issued.claims,
            }
        )
    else:
        typer.echo(issued.token)


async def _issue(
    state: CliState, email: str, minutes: int | None, extra_claims: dict[str, object]
) -> IssuedToken:
    from backend.services.actor import Actor
    from backend.services.policy import AuthPolicy
    from backend.services.tokens import mint_token

    policy = AuthPolicy.from_settings(state.settings)
    async with open_database(state.settings) as database, database.session() as session:
        return await mint_token(
            session, Actor.cli(), email, policy, minutes=minutes, extra_claims=extra_claims
        )


@app.command()
def inspect(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Argument(
            help='The token; "-" or nothing reads it from stdin.', metavar="[TOKEN | -]"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a token as this backend would; exit 0 only when it is valid."""
    from console.cli.token_report import report_lines

    text = _read_token() if token in (None, "-") else token
    check = run(_inspect(state_of(ctx), text))
    if as_json:
        print_json(check.to_dict())
    else:
        for line in report_lines(check):
            typer.echo(line)
    if not check.valid:
        raise typer.Exit(1)


def _read_token() -> str:
    if sys.stdin.isatty():
        note("Paste the token, then press Ctrl-D.")
    # Pipes end with a newline; only the token itself is judged.
    return sys.stdin.read(MAX_STDIN_CHARS).strip()


async def _inspect(state: CliState, token: str) -> TokenCheck:
    from backend.services.policy import AuthPolicy
    from backend.services.tokens import inspect_token

    policy = AuthPolicy.from_settings(state.settings)
    async with open_database(state.settings) as database, database.session() as session:
        return await inspect_token(session, policy, token)
