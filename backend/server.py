"""The embedded uvicorn server: serves the API inside the console's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")
# Quitting the console must not hang on a slow request or a streaming response.
_GRACEFUL_SHUTDOWN_SECONDS = 5
# Wildcard binds are reachable through loopback; `url` is meant to be connected to.
_LOOPBACK_FOR_WILDCARD = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104
_BIND_ERRORS = {
    errno.EADDRINUSE: "Port {port} on {host} is already in use; pass --port or --no-server.",
    errno.EACCES: "Port {port} on {host} needs privileges; pass --port or --no-server.",
    errno.EADDRNOTAVAIL: "Address {host} is not on this machine; pass --host or --no-server.",
}
_BIND_ERROR_DEFAULT = (
    "Cannot listen on {host}:{port} ({reason}); pass --host, --port or --no-server."
)


class ServerStartError(Exception):
    """The embedded server could not start; the message is one sentence for the user."""


class _HostedUvicorn(uvicorn.Server):
    """A uvicorn server that leaves the host application's signal handlers alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        # Set once the server listens, or once serving ended without getting there.
        self.startup_settled = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.startup_settled.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would replace SIGINT/SIGTERM for the whole process; the console owns
        # them and stops the server through EmbeddedServer.stop() instead.
        yield


class EmbeddedServer:
    """Serve an ASGI app with uvicorn on the running event loop, next to other work.

    Unlike ``uvicorn.run`` it never installs signal handlers, never writes to
    stdout/stderr (uvicorn's loggers go to ``log_handler`` only) and reports a
    failed start as ``ServerStartError`` rather than exiting the process.
    A stopped server can be started again.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        log_handler: logging.Handler | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._port = port
        self._log_handler = log_handler
        self._server: _HostedUvicorn | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Base URL to reach the server, with the real port once started on port 0."""
        host = _LOOPBACK_FOR_WILDCARD.get(self._host, self._host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def running(self) -> bool:
        """True while the server accepts connections and no stop was requested."""
        if self._server is None or self._task is None:
            return False
        return self._server.started and not self._server.should_exit and not self._task.done()

    async def start(self) -> None:
        """Start serving; return once connections are accepted.

        Raises ServerStartError when the address cannot be bound or the app's
        lifespan startup fails.
        """
        if self._task is not None:
            raise RuntimeError("The embedded server is already started; stop it first.")
        config = self._config()
        _route_uvicorn_logs(self._log_handler)  # after Config(), which resets access logging
        server = _HostedUvicorn(config)
        task = asyncio.create_task(
            self._serve(server), name=f"uvicorn {self._host}:{self._requested_port}"
        )
        # Kept from the start: a cancelled start() leaves a task that stop() must find.
        self._server, self._task = server, task
        try:
            await server.startup_settled.wait()
        except asyncio.CancelledError:
            server.should_exit = True  # the task then winds down on its own
            raise
        if not server.started:
            self._server = self._task = None
            await task  # a failed startup ends the task with ServerStartError
        self._port = _bound_port(server)

    async def stop(self) -> None:
        """Stop gracefully (lifespan shutdown included); safe to call at any time, repeatedly."""
        if self._server is None or self._task is None:
            return
        task = self._task
        self._server.should_exit = True
        try:
            # Shielded: a cancelled caller must not abort the shutdown half-way. A start
            # error can only surface here after a cancelled start(): nothing ran to stop.
            with contextlib.suppress(ServerStartError):
                await asyncio.shield(task)
        finally:
            if task.done():
                self._task = None

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self._app,
            host=self._host,
            port=self._requested_port,
            lifespan="on",
            # The API has no WebSocket routes; loading a WebSocket protocol cost start-up time.
            ws="none",
            log_config=None,
            # The app's edge middleware writes the access log with secrets redacted;
            # uvicorn's own would print the raw query string (?access_token=...).
            access_log=False,
            # No proxy sits in front of the console's server: X-Forwarded-For would be a lie.
            proxy_headers=False,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        )

    async def _serve(self, server: _HostedUvicorn) -> None:
        try:
            await server.serve()
        except SystemExit as exc:
            # uvicorn calls sys.exit() when startup fails; escaping a task, SystemExit
            # would stop the console's whole event loop.
            raise _start_error(self._host, self._requested_port, exc) from None
        finally:
            server.startup_settled.set()


def _route_uvicorn_logs(handler: logging.Handler | None) -> None:
    """Send uvicorn's log records to ``handler`` only: never to the console's screen."""
    # With no handler at all, logging's lastResort would print warnings to stderr.
    target = handler if handler is not None else logging.NullHandler()
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [target]
        logger.propagate = False
        logger.setLevel(logging.INFO)


def _bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def _start_error(host: str, port: int, exc: SystemExit) -> ServerStartError:
    """Explain a uvicorn startup exit in one sentence."""
    # uvicorn logs a bind failure and calls sys.exit() inside its `except OSError`
    # block, so the OSError is the implicit context of the SystemExit.
    cause = exc.__context__
    if isinstance(cause, socket.gaierror):
        return ServerStartError(f"Host {host!r} cannot be resolved; pass --host or --no-server.")
    if not isinstance(cause, OSError):
        return ServerStartError(
            "The API application failed to start; see the server log for the reason."
        )
    template = _BIND_ERRORS.get(cause.errno or 0, _BIND_ERROR_DEFAULT)
    return ServerStartError(template.format(host=host, port=port, reason=cause.strerror or cause))
