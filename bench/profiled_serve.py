"""`serve` with one worker, profiling a fixed number of requests: bench_api.py --profile.

The same app, logging and uvicorn options as `backend-console serve`. pyinstrument
starts at the first request to PATH and stops when REQUESTS of them have been
answered; the server then writes the report as text (the call tree, then the
functions by their own time) to PROFILE_PATH and exits. Two reports then compare in
seconds: each covers the same number of requests, and nothing of the start-up.

    python bench/profiled_serve.py PORT PROFILE_PATH REQUESTS PATH
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from pyinstrument import Profiler
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.main import create_app
from console.cli.serve import _log_config

FLAT_LINES = 45


class ProfileRequests:
    """Profiles the app from the first request to `path` until `requests` are answered."""

    def __init__(self, app: ASGIApp, path: str, requests: int, server: uvicorn.Server) -> None:
        self.app, self.path, self.left, self.server = app, path, requests, server
        self.profiler = Profiler(interval=0.0005, async_mode="disabled")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = scope["type"] == "http" and scope["path"] == self.path and self.left > 0
        if counted and not self.profiler.is_running:
            self.profiler.start()
        await self.app(scope, receive, send)
        if counted:
            self.left -= 1
            if self.left == 0:
                self.profiler.stop()
                self.server.should_exit = True

    def report(self) -> str:
        tree = self.profiler.output_text(unicode=True)
        flat = self.profiler.output_text(unicode=True, flat=True).splitlines()[:FLAT_LINES]
        return f"{tree}\nBy own time:\n" + "\n".join(flat)


def main() -> None:
    port, report_path, requests, path = sys.argv[1:5]
    app = create_app()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(port),
        ws="none",
        log_config=_log_config(),
        access_log=False,
    )
    server = uvicorn.Server(config)
    profiled = ProfileRequests(app, path, int(requests), server)
    config.app = profiled
    server.run()
    Path(report_path).write_text(profiled.report())


if __name__ == "__main__":
    main()
