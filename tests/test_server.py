"""The embedded uvicorn server, run for real on the test's event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from backend.server import EmbeddedServer, ServerStartError

pytestmark = pytest.mark.asyncio

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class RecordingHandler(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


def make_app(events: list[str], *, fail_startup: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if fail_startup:
            raise RuntimeError("database unreachable")
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def client(server: EmbeddedServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=5)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 with another listener on it."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


@pytest.fixture
def stderr_uvicorn_loggers() -> Iterator[None]:
    """uvicorn's loggers as a plain `uvicorn.run` leaves them: writing to stderr."""
    saved = {name: logging.getLogger(name).handlers[:] for name in UVICORN_LOGGERS}
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).handlers = [logging.StreamHandler(sys.stderr)]
    yield
    for name, handlers in saved.items():
        logging.getLogger(name).handlers = handlers


@pytest_asyncio.fixture
async def make_server() -> AsyncIterator[Callable[..., EmbeddedServer]]:
    """Build EmbeddedServers that are stopped after the test, whatever happens."""
    made: list[EmbeddedServer] = []

    def factory(app: FastAPI, port: int = 0, **kwargs: logging.Handler) -> EmbeddedServer:
        server = EmbeddedServer(app, "127.0.0.1", port, **kwargs)
        made.append(server)
        return server

    yield factory
    for server in made:
        await server.stop()


async def test_starts_answers_and_stops_cleanly(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    events: list[str] = []
    server = make_server(make_app(events))
    assert not server.running

    await server.start()

    assert server.running
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith(":0")
    assert events == ["startup"]
    async with client(server) as http:
        response = await http.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"pong": "yes"}

    await server.stop()

    assert not server.running
    assert events == ["startup", "shutdown"]
    async with client(server) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/ping")


async def test_stop_is_idempotent(make_server: Callable[..., EmbeddedServer]) -> None:
    events: list[str] = []
    server = make_server(make_app(events))
    await server.stop()  # never started

    await server.start()
    await asyncio.gather(server.stop(), server.stop())
    await server.stop()

    assert events == ["startup", "shutdown"]
    assert not server.running


async def test_port_is_free_again_after_stop(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    first = make_server(make_app([]))
    await first.start()
    async with client(first) as http:
        assert (await http.get("/ping")).status_code == 200
    await first.stop()
    port = int(first.url.rsplit(":", 1)[1])

    second = make_server(make_app([]), port)
    await second.start()

    assert second.url == first.url
    async with client(second) as http:
        assert (await http.get("/ping")).status_code == 200


async def test_restart_after_stop(make_server: Callable[..., EmbeddedServer]) -> None:
    events: list[str] = []
    server = make_server(make_app(events))

    await server.start()
    await server.stop()
    await server.start()

    assert server.running
    async with client(server) as http:
        assert (await http.get("/ping")).status_code == 200
    await server.stop()
    assert events == ["startup", "shutdown", "startup", "shutdown"]


async def test_start_twice_is_refused(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server(make_app([]))
    await server.start()

    with pytest.raises(RuntimeError, match="already started"):
        await server.start()
    assert server.running


async def test_taken_port_raises_start_error_not_system_exit(
    make_server: Callable[..., EmbeddedServer],
    taken_port: int,
    capfd: pytest.CaptureFixture[str],
) -> None:
    events: list[str] = []
    server = make_server(make_app(events), taken_port)

    with pytest.raises(ServerStartError) as caught:
        await server.start()

    message = str(caught.value)
    assert message == (
        f"Port {taken_port} on 127.0.0.1 is already in use; pass --port or --no-server."
    )
    assert not server.running
    assert events == ["startup", "shutdown"]  # the app was told to release what it opened
    # The loop survived: the same app can still be served elsewhere.
    other = make_server(make_app([]))
    await other.start()
    async with client(other) as http:
        assert (await http.get("/ping")).status_code == 200
    assert capfd.readouterr() == ("", "")


async def test_address_not_on_this_machine_raises_start_error(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = EmbeddedServer(make_app([]), "203.0.113.7", 0)  # TEST-NET-3, never local

    with pytest.raises(ServerStartError, match=r"^Address 203\.0\.113\.7 is not on this machine"):
        await server.start()
    assert not server.running


async def test_unresolvable_host_raises_start_error() -> None:
    server = EmbeddedServer(make_app([]), "no-such-host.invalid", 0)  # RFC 6761: never resolves

    with pytest.raises(ServerStartError, match=r"^Host 'no-such-host\.invalid' cannot be resolved"):
        await server.start()


async def test_failed_lifespan_startup_raises_start_error(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    handler = RecordingHandler()
    server = make_server(make_app([], fail_startup=True), log_handler=handler)

    with pytest.raises(ServerStartError, match="failed to start; see the server log"):
        await server.start()

    assert not server.running
    assert any("database unreachable" in message for message in handler.messages())


async def test_signal_handlers_are_left_alone(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    # uvicorn only installs handlers from the main thread: make sure the check means something.
    assert threading.current_thread() is threading.main_thread()
    before = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
    server = make_server(make_app([]))

    await server.start()
    during = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
    async with client(server) as http:
        await http.get("/ping")
    await server.stop()
    after = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}

    assert during == before
    assert after == before


async def test_cancelled_start_can_still_be_stopped(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    events: list[str] = []
    server = make_server(make_app(events))
    starting = asyncio.create_task(server.start())
    await asyncio.sleep(0)  # start() is now waiting for uvicorn's startup

    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await server.stop()

    assert not server.running
    assert events == ["startup", "shutdown"]


async def test_cancelled_start_on_a_taken_port_stops_quietly(
    make_server: Callable[..., EmbeddedServer], taken_port: int
) -> None:
    server = make_server(make_app([]), taken_port)
    starting = asyncio.create_task(server.start())
    await asyncio.sleep(0)

    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await server.stop()  # the start error has nobody left to tell

    assert not server.running


@pytest.mark.usefixtures("stderr_uvicorn_loggers")
async def test_logs_go_to_the_handler_only(
    make_server: Callable[..., EmbeddedServer],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = RecordingHandler()
    server = make_server(make_app([]), log_handler=handler)

    with caplog.at_level(logging.DEBUG):
        await server.start()
        async with client(server) as http:
            await http.get("/ping")
        await server.stop()

    assert capfd.readouterr() == ("", "")
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]  # no propagation
    messages = handler.messages()
    assert "Application startup complete." in messages
    assert "Application shutdown complete." in messages
    # Access lines are the app's own (redacted); uvicorn's would carry the raw query.
    assert not [r for r in handler.records if r.name == "uvicorn.access"]


@pytest.mark.usefixtures("stderr_uvicorn_loggers")
async def test_no_output_without_a_handler_even_on_errors(
    make_server: Callable[..., EmbeddedServer],
    taken_port: int,
    capfd: pytest.CaptureFixture[str],
) -> None:
    server = make_server(make_app([]), taken_port)

    with pytest.raises(ServerStartError):
        await server.start()  # uvicorn logs an ERROR: logging's lastResort must not print it

    assert capfd.readouterr() == ("", "")


async def test_url_of_a_wildcard_bind_is_connectable() -> None:
    assert EmbeddedServer(make_app([]), "0.0.0.0", 8000).url == "http://127.0.0.1:8000"
    assert EmbeddedServer(make_app([]), "::1", 8000).url == "http://[::1]:8000"
