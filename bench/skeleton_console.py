"""The floor bench_startup.py compares against: a bare Textual app serving FastAPI with uvicorn.

Paints one line (holding the markers bench_startup waits for), serves GET /health on
API_PORT from the same event loop, and quits on q. No database, no CLI, no screens.
"""

from __future__ import annotations

import asyncio
import os
from typing import ClassVar

import uvicorn
from fastapi import FastAPI
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

api = FastAPI()


@api.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


class SkeletonConsole(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("q", "quit_all", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        config = uvicorn.Config(api, port=int(os.environ["API_PORT"]), log_config=None, ws="none")
        self.server = uvicorn.Server(config)
        self.serving: asyncio.Task[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("backend-console: 0 logins, 0 failed")

    def on_mount(self) -> None:
        self.serving = asyncio.create_task(self.server.serve())

    async def action_quit_all(self) -> None:
        self.server.should_exit = True
        if self.serving is not None:
            await self.serving
        self.exit()


if __name__ == "__main__":
    SkeletonConsole().run()
