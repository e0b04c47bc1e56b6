"""The `backend-console` executable: its first step, before anything heavy is imported.

Without arguments it opens the console straight away; with any, the command line
(Typer) takes over.

Python told not to write bytecode (PYTHONDONTWRITEBYTECODE=1, as in many containers
and on the CI machines) compiles every module it imports at every launch: the
console took 2.4 s to be up instead of 1 s. uv's `compile-bytecode` setting avoided
that at install time, but then re-checks every file of the environment on each
`uv run` (astral-sh/uv#12202): 0.12 s and a line on stderr per command. So the
executable keeps the bytecode itself, in a cache of its own, never beside the sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

BYTECODE_DIR_NAME = "pycache"
INTERRUPTED_EXIT_STATUS = 130  # 128 + SIGINT, as shells report it


def main() -> None:
    """Cache bytecode where it may go, then open the console or run the command given."""
    cache_bytecode()
    try:
        if len(sys.argv) > 1:
            from console.cli.root import main as run_command_line

            run_command_line()
        else:
            from console.cli.open_console import main_without_arguments

            main_without_arguments()
    except KeyboardInterrupt:
        # Ctrl+C while the console is still starting (Textual has not taken the keys
        # yet) or while a command runs: stop quietly, with the shell's code for it.
        raise SystemExit(INTERRUPTED_EXIT_STATUS) from None


def cache_bytecode() -> None:
    """Write bytecode to a cache folder when Python was told not to write it beside sources.

    In a virtual environment the cache is a folder of the environment (it goes with
    it); elsewhere it is in the user's cache directory. An explicit
    PYTHONPYCACHEPREFIX, or Python's ordinary caching, is left as it is.
    """
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return
    sys.pycache_prefix = str(bytecode_cache_dir())
    sys.dont_write_bytecode = False


def bytecode_cache_dir() -> Path:
    """Where cache_bytecode() keeps the compiled modules."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / BYTECODE_DIR_NAME
    from platformdirs import user_cache_path

    return user_cache_path("backend-console", appauthor=False) / BYTECODE_DIR_NAME
