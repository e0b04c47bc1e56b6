"""The `backend-console` command: root options, the console, and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli import audit, call, db, routes, serve, tokens, users
from console.cli.errors import reporting_errors
from console.cli.open_console import open_console
from console.cli.state import CliState
from console.cli.usage import SentenceGroup

app = typer.Typer(
    name="backend-console",
    help="A terminal console for the backend's users, tokens, migrations and routes.",
    add_completion=False,
    cls=SentenceGroup,  # usage errors as one sentence (exit 2), as every other error
    # Locals may hold settings and passwords: a bug's traceback must not print them.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="token")
app.add_typer(audit.app, name="audit")
app.command("serve")(serve.serve)
app.command("routes")(routes.routes)
app.command("call")(call.call)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Async SQLAlchemy URL; overrides DATABASE_URL.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="Where the API listens (default: API_HOST).", metavar="H"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="The API's port (default: API_PORT).", metavar="P", min=0, max=65535),
    ] = None,
    no_server: Annotated[
        bool, typer.Option("--no-server", help="Run the console without the embedded API.")
    ] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Browse only: refuse every write.")
    ] = False,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="The route probe talks to this server instead of the embedded API.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Without a command: open the console, with the API served alongside it."""
    ctx.obj = CliState(
        database_url=database_url,
        host=host,
        port=port,
        no_server=no_server,
        read_only=read_only,
        api_url=api_url,
    )
    if ctx.invoked_subcommand is None:
        open_console(ctx.obj)


def main() -> None:
    """Run the command line; expected failures are printed as one sentence."""
    reporting_errors(app)
