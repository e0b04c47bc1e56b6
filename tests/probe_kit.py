"""A test app for the route probe: slow, lying, undocumented and very large answers, and
one that echoes the headers it got."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from backend.server import EmbeddedServer

BIG_BODY_BYTES = 10 * 1024 * 1024


class Item(BaseModel):
    id: int
    name: str


def odd_app() -> FastAPI:
    """Routes that misbehave on purpose: slow, lying, undocumented statuses, huge."""
    app = FastAPI()

    @app.get("/sleep", tags=["odd"])
    async def sleep(seconds: float = 5) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"slept": "yes"}

    @app.get("/liar", response_model=None, responses={200: {"model": Item}}, tags=["odd"])
    async def liar() -> JSONResponse:
        # Documents Item; answers something else entirely.
        return JSONResponse({"id": "seven", "extra": True})

    @app.get("/teapot", tags=["odd"])
    async def teapot() -> JSONResponse:
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @app.get("/many", tags=["odd"])
    async def many() -> dict[str, list[int]]:
        return {"items": list(range(300))}

    @app.get("/large-json", tags=["odd"])
    async def large_json() -> dict[str, list[dict[str, object]]]:
        # About 900 KB: kept whole, laid out in a thread.
        return {"items": [{"n": n, "text": "x" * 40} for n in range(15_000)]}

    @app.get("/echo", tags=["odd"])
    async def echo(request: Request) -> dict[str, str]:
        # The headers as received, so a test sees what the probe sent.
        return dict(request.headers)

    @app.get("/big", tags=["odd"])
    async def big() -> PlainTextResponse:
        return PlainTextResponse("x" * BIG_BODY_BYTES)

    return app


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on a free port; yields its base URL."""
    server = EmbeddedServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()
