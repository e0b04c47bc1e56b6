"""`backend-console call METHOD PATH`: one API request from a script, as the Routes screen sends it.

Without --api-url the request goes to the app in-process (no server needed), on the
configured database. The body is printed (indented on a terminal, as received when
piped); -v adds the status, timing and schema findings on stderr. Exit status: 0 for
a 2xx answer, 1 for any other answer or none, 2 for a bad argument.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from console.cli.errors import print_error
from console.cli.output import note
from console.cli.state import open_database, run, state_of

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.database import Database
    from backend.services.probe_auth import ProbeAuth
    from backend.services.probe_client import ProbeRequest, ProbeResponse

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
USAGE_EXIT_STATUS = 2
# A script gets the whole body up to this size; beyond it the rest is counted, not kept.
CLI_BODY_KEEP_BYTES = 256 * 1024 * 1024


def call(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(help="GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.")],
    path: Annotated[
        str, typer.Argument(help="The path, e.g. /api/users/7 (a query may follow ?).")
    ],
    as_email: Annotated[
        str | None,
        typer.Option(
            "--as", help="Sign as this user (a token is minted, audited).", metavar="EMAIL"
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="Send this bearer token.", metavar="T")
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option("--query", help="A query parameter; repeat for more.", metavar="K=V"),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "-H",
            "--header",
            help="A request header, as curl's -H; repeat for more.",
            metavar="'N: V'",
        ),
    ] = None,
    json_body: Annotated[
        str | None, typer.Option("--json", help="A JSON request body.", metavar="BODY")
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json-file", help="Read the JSON body from a file (- for stdin).", metavar="F"
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Send to this server instead of in-process.", metavar="URL"),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Status, timing and findings on stderr.")
    ] = False,
) -> None:
    """Call one API route and print the answer's body."""
    from backend.services.errors import InvalidInput
    from backend.services.probe import parse_pairs
    from backend.services.probe_auth import AuthMode, ProbeAuth
    from backend.services.probe_headers import parse_header_arguments

    state = state_of(ctx)
    verb = method.upper()
    if verb not in METHODS:
        _usage(f"Unknown HTTP method {method!r}; use one of {', '.join(METHODS)}.")
    if not path.startswith("/"):
        _usage(f"The path must start with /, as in /api/users (got {path!r}).")
    if as_email is not None and token is not None:
        _usage("Give --as or --token, not both.")
    if state.read_only and verb not in ("GET", "HEAD", "OPTIONS"):
        _usage(f"Only GET requests can be sent with --read-only, not {verb}.")
    body = _body(json_body, json_file)
    target_url = api_url or state.api_url
    if target_url is not None and not target_url.startswith(("http://", "https://")):
        _usage(f"--api-url must start with http:// or https:// (got {target_url!r}).")
    try:
        pairs = parse_pairs(query or [], "--query")
        headers = parse_header_arguments(header or [])
    except InvalidInput as error:
        _usage(error.message)
    if (as_email or token) and any(name.lower() == "authorization" for name, _ in headers):
        _usage("Authorization is set by --as or --token: give one or the other.")
    request = dataclasses.replace(_request(verb, path, pairs, body), headers=headers)
    if as_email is not None:
        auth = ProbeAuth(AuthMode.AS_USER, email=as_email)
    elif token is not None:
        auth = ProbeAuth(AuthMode.TOKEN, token=token)
    else:
        auth = ProbeAuth()
    code = run(_call(state.settings, request, auth, target_url, verbose=verbose))
    raise typer.Exit(code)


def _usage(sentence: str) -> NoReturn:
    print_error(sentence)
    raise typer.Exit(USAGE_EXIT_STATUS)


def _body(json_body: str | None, json_file: Path | None) -> str | None:
    if json_body is not None and json_file is not None:
        _usage("Give --json or --json-file, not both.")
    if json_file is not None:
        try:
            text = sys.stdin.read() if str(json_file) == "-" else json_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            _usage(f"Cannot read --json-file {json_file}: {reason}.")
        source = f"--json-file {json_file}"
    elif json_body is not None:
        text, source = json_body, "--json"
    else:
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        _usage(
            f"{source} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        )
    return text


def _request(
    method: str, path: str, pairs: tuple[tuple[str, str], ...], body: str | None
) -> ProbeRequest:
    from urllib.parse import parse_qsl

    from backend.services.probe_client import ProbeRequest

    bare, _, inline_query = path.partition("?")
    query = (*parse_qsl(inline_query, keep_blank_values=True), *pairs)
    return ProbeRequest(method, bare, query=tuple(query), json_body=body)


async def _call(
    settings: Settings,
    request: ProbeRequest,
    auth: ProbeAuth,
    api_url: str | None,
    *,
    verbose: bool,
) -> int:
    from backend.services.probe_auth import AuthMode

    # The local database is needed to answer in-process, or to mint an --as token.
    if api_url is not None and auth.mode is not AuthMode.AS_USER:
        return await _send(settings, request, auth, api_url, None, verbose=verbose)
    async with open_database(settings) as database:
        return await _send(settings, request, auth, api_url, database, verbose=verbose)


async def _send(
    settings: Settings,
    request: ProbeRequest,
    auth: ProbeAuth,
    api_url: str | None,
    database: Database | None,
    *,
    verbose: bool,
) -> int:
    from backend.services import probe
    from backend.services.actor import Actor
    from backend.services.errors import NotFound
    from backend.services.policy import AuthPolicy
    from backend.services.probe_auth import token_for
    from backend.services.probe_client import ProbeFailed, ProbeTarget, send
    from backend.services.probe_history import ProbeHistory, entry_for

    policy = AuthPolicy.from_settings(settings)
    if api_url is not None:
        target = ProbeTarget(api_url)
    else:
        from backend.main import create_app

        assert database is not None
        target = ProbeTarget.in_process(create_app(settings, database=database))
    bearer = None
    if database is not None:
        try:
            bearer = await token_for(auth, database, Actor.cli(), policy)
        except NotFound as error:  # --as names nobody: a bad argument
            _usage(error.message)
    elif auth.token:
        bearer = auth.token.strip()
    history = ProbeHistory(settings.data_dir)
    timeout = settings.probe_timeout_seconds
    try:
        response = await send(
            target, request, bearer, timeout_seconds=timeout, keep_bytes=CLI_BODY_KEEP_BYTES
        )
    except ProbeFailed as failure:
        history.append(
            entry_for(request, auth.label, status=None, outcome=failure.message, elapsed_ms=None)
        )
        raise
    outcome = f"{response.status} {response.reason}".strip()
    history.append(
        entry_for(
            request,
            auth.label,
            status=response.status,
            outcome=outcome,
            elapsed_ms=response.elapsed_ms,
        )
    )
    _print_body(response)
    if verbose:
        note(f"{outcome} · {response.elapsed_ms:.0f} ms · {response.size} bytes")
        if not response.complete:
            note(
                f"The body was cut after {len(response.body)} bytes; {response.left_out} left out."
            )
        catalog = await probe.fetch_catalog(target, timeout_seconds=timeout)
        for finding in probe.check_answer(catalog, request, response):
            note(f"finding: {finding}")
    return 0 if response.is_success else 1


def _print_body(response: ProbeResponse) -> None:
    from backend.services.probe import pretty_body

    if sys.stdout.isatty():
        text = pretty_body(response)
        typer.echo(text)
        return
    sys.stdout.buffer.write(response.body)
    sys.stdout.flush()
