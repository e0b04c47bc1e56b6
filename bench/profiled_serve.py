"""`serve` with one worker under pyinstrument: bench_api.py --profile runs this.

The same app, logging and uvicorn options as `backend-console serve`; the profile of
everything the server did while it ran is written as text to the path given, when
the server stops (SIGTERM): the call tree, then the functions by their own time.

    python bench/profiled_serve.py PORT PROFILE_PATH
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import uvicorn
from pyinstrument import Profiler

from backend.main import create_app
from console.cli.serve import _log_config

FLAT_LINES = 45


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    # uvicorn re-raises the SIGTERM it stopped on, once stopped: let that one pass, so
    # that the report below is still written.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        uvicorn.run(
            create_app(),
            host="127.0.0.1",
            port=port,
            ws="none",
            log_config=_log_config(),
            access_log=False,
        )
    finally:
        profiler.stop()
        tree = profiler.output_text(unicode=True)
        flat = profiler.output_text(unicode=True, flat=True).splitlines()[:FLAT_LINES]
        path.write_text(f"{tree}\nBy own time:\n" + "\n".join(flat))


if __name__ == "__main__":
    main()
