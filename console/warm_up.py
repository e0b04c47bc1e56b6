"""The heavier areas' code, loaded in the background once the console is up.

Start-up loads only what the first screen needs (tests/test_startup_imports.py), so
the first opening of Migrations would import Alembic and read every revision file
(~0.5 s more than any later opening, at 200 revisions), and the first of Routes or
Tokens their own libraries. A while after start-up, a daemon thread does
that work instead: the first opening then costs what the later ones do. A daemon, so
that quitting never waits for it; an import it has not finished is simply done again
by the screen that needs it. Once done, it freezes what it loaded for the collector.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
from pathlib import Path

# How long the console has been up before the warm-up starts: start-up's own figures
# (first frame, the API answering) are never shared with it.
WARM_UP_DELAY_SECONDS = 1.0
# The areas whose first opening imports the most: Alembic (~0.4 s), jsonschema and
# tree-sitter (~0.2 s), the Tokens screen's widgets (~0.1 s).
AREA_MODULES = (
    "console.screens.migrations",
    "console.screens.routes",
    "console.screens.tokens",
)

logger = logging.getLogger(__name__)


def start_warm_up(migration_scripts: Path | None) -> threading.Thread:
    """Import AREA_MODULES and read the migration scripts in a daemon thread."""
    thread = threading.Thread(
        target=_warm_up, args=(migration_scripts,), name="console-warm-up", daemon=True
    )
    thread.start()
    return thread


def _warm_up(migration_scripts: Path | None) -> None:
    try:
        for name in AREA_MODULES:
            importlib.import_module(name)
        from backend.services.migrations import DEFAULT_PROJECT, MigrationProject

        project = MigrationProject(migration_scripts) if migration_scripts else DEFAULT_PROJECT
        project.fresh_scripts()
        # What was just loaded (modules, classes, the revision graph) lives as long as
        # the console: frozen, as start-up's objects are, it is never rescanned. Under
        # load, full collections had paused the loop 20-35 ms, mostly rescanning it.
        gc.freeze()
    except Exception:
        # Only a head start: the screen that needs the module or the scripts does the
        # same work again and reports what fails there, where the operator sees it.
        logger.debug("warming up the console's areas failed", exc_info=True)
