"""Where the Routes screen sends requests: --api-url, the embedded server, or in-process."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from backend.services.probe_client import ProbeTarget
from console.context import ConsoleContext

if TYPE_CHECKING:
    from fastapi import FastAPI

SERVER_WAIT_SECONDS = 30


async def probe_target(context: ConsoleContext, *, serving: bool) -> ProbeTarget:
    """--api-url, else the embedded server once it is up (`serving`), else the app in-process.

    Raises TimeoutError when the embedded server does not come up in time.
    """
    if context.probe_api_url is not None:
        return ProbeTarget(context.probe_api_url)
    if not serving:
        await context.schema_checked.wait()
        return ProbeTarget.in_process(await asyncio.to_thread(_in_process_app, context))
    async with asyncio.timeout(SERVER_WAIT_SECONDS):
        await context.api_started.wait()
    assert context.api_url is not None
    return ProbeTarget(context.api_url)


def _in_process_app(context: ConsoleContext) -> FastAPI:
    """The API without a server (--no-server), built in a thread: without the embedded
    server, FastAPI is not imported yet (~0.5 s), and its OpenAPI document, generated on
    the first request for it, took ~0.1 s more of the loop."""
    from backend.main import create_app

    app = create_app(context.settings, database=context.database)
    app.openapi()
    return app
