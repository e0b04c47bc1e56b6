"""Where the Routes screen sends requests: --api-url, the embedded server, or in-process."""

from __future__ import annotations

import asyncio

from backend.services.probe_client import ProbeTarget
from console.context import ConsoleContext

SERVER_WAIT_SECONDS = 30


async def probe_target(context: ConsoleContext, *, serving: bool) -> ProbeTarget:
    """--api-url, else the embedded server once it is up (`serving`), else the app in-process.

    Raises TimeoutError when the embedded server does not come up in time.
    """
    if context.probe_api_url is not None:
        return ProbeTarget(context.probe_api_url)
    if not serving:
        await context.schema_checked.wait()
        from backend.main import create_app

        return ProbeTarget.in_process(create_app(context.settings, database=context.database))
    async with asyncio.timeout(SERVER_WAIT_SECONDS):
        await context.api_started.wait()
    assert context.api_url is not None
    return ProbeTarget(context.api_url)
