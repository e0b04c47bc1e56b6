"""`backend-console serve`: the API alone, with uvicorn, any number of workers."""

from __future__ import annotations

import copy
import errno
import os
import socket
from typing import Annotated, Any

import typer

from console.cli.errors import CliError
from console.cli.state import CliState, open_database, run, state_of

APP_FACTORY = "backend.main:create_app"
_BIND_ERRORS = {
    errno.EADDRINUSE: "Port {port} on {host} is already in use; pass another --port.",
    errno.EACCES: "Port {port} on {host} needs privileges; pass a port above 1023.",
    errno.EADDRNOTAVAIL: "Address {host} is not on this machine; pass another --host.",
}


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Listen address (default: API_HOST).", metavar="H")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Listen port (default: API_PORT).", metavar="P", min=0, max=65535),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", metavar="N", min=1)] = 1,
) -> None:
    """Serve the API only (no console); the embedded SQLite database is migrated first."""
    state = state_of(ctx)
    state.require_writable("serve the API")
    settings = state.settings
    settings.validate_for_startup()
    host = host or state.host or settings.api_host
    port = _first_given(port, state.port, settings.api_port)
    run(_prepare_schema(state))
    _check_port_free(host, port)
    _start_uvicorn(state, host, port, workers)


def _first_given(*ports: int | None) -> int:
    return next(port for port in ports if port is not None)


async def _prepare_schema(state: CliState) -> None:
    # open_database migrates the embedded default and insists any other is at head.
    async with open_database(state.settings):
        pass


def _check_port_free(host: str, port: int) -> None:
    """Fail with one sentence now rather than with uvicorn's log line and exit."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option uvicorn sets, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise CliError(f"Host {host!r} cannot be resolved; pass another --host.") from None
        except OSError as error:
            template = _BIND_ERRORS.get(
                error.errno or 0, "Cannot listen on {host}:{port} ({reason})."
            )
            message = template.format(host=host, port=port, reason=error.strerror or error)
            raise CliError(message) from None


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the app's redacted access log in place of uvicorn's own.

    uvicorn's access log prints the raw query string (a token or password passed there
    would land in the log); backend.access redacts it and adds the request id.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    # A plain formatter: uvicorn's copies every record to colour its level name, which
    # costs more than the rest of the line on a hot endpoint.
    config["formatters"]["backend"] = {"format": "%(levelname)s:     %(message)s"}
    config["handlers"]["backend"] = {
        "class": "logging.StreamHandler",
        "formatter": "backend",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["backend"] = {"handlers": ["backend"], "level": "INFO", "propagate": False}
    return config


def _start_uvicorn(state: CliState, host: str, port: int, workers: int) -> None:
    import uvicorn

    if state.database_url is not None:
        # Workers build their own settings from the environment (create_app's factory).
        os.environ["DATABASE_URL"] = state.database_url
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws="none",  # the API has no WebSocket routes
        log_config=_log_config(),
        access_log=False,
    )
