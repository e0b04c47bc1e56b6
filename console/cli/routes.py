"""`backend-console routes`: every API route, from the app's own OpenAPI document."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.output import print_json, print_table
from console.cli.state import state_of


def routes(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the API's routes: method, path, whether they need a token, who may call, summary."""
    from backend.main import create_app
    from backend.services.routes_catalog import describe_routes

    # Building the app opens no connection: the OpenAPI document is computed in memory.
    catalog = describe_routes(create_app(state_of(ctx).settings).openapi())
    if as_json:
        print_json([route.to_dict() for route in catalog])
        return
    print_table(
        ("method", "path", "auth", "roles", "tags", "summary"),
        [
            (
                r.method,
                r.path,
                "token" if r.requires_auth else "-",
                ",".join(r.roles) or "-",
                ",".join(r.tags),
                r.summary,
            )
            for r in catalog
        ],
    )
