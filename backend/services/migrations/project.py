"""Where the migrations live: the Alembic config and script directory of a project.

The project's own `alembic/` is the default; tests and the benchmark point a
MigrationProject at a temporary copy (a broken revision, branches, 200 revisions).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# The revision files' own word on a lint rule: {"rule": "why it is safe here"}.
ACKNOWLEDGED_ATTRIBUTE = "lint_acknowledged"
# Script directories read in this process, by location (tests and benches use a few).
_READ_LIMIT = 8
# What versions/ held when it was read: (file name, mtime in ns, size) of each file.
VersionsStamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class _Read:
    stamp: VersionsStamp
    scripts: ScriptDirectory


_read: dict[Path, _Read] = {}
# Threads read too (the screen's worker, the console's warm-up): one changes _read at a time.
_read_lock = threading.Lock()


@dataclass(eq=False)
class MigrationProject:
    """A script directory (env.py and versions/) and the config that runs it."""

    script_location: Path = PROJECT_ROOT / "alembic"

    def config(self, url: str | None = None) -> Config:
        """The Alembic config; `url` overrides the settings URL (offline SQL)."""
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(self.script_location))
        if url is not None:
            # ConfigParser would read "%" as interpolation.
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def scripts(self) -> ScriptDirectory:
        """The script directory with every revision read, once per process and location.

        200 revision files take a while to read: what was read is kept. Call
        `fresh_scripts` where a change to the files must show (the graph, a plan).
        """
        read = _read.get(self.script_location)
        return read.scripts if read is not None else self._read().scripts

    def fresh_scripts(self) -> ScriptDirectory:
        """The script directory, read again if a revision file was added, removed or changed."""
        read = _read.get(self.script_location)
        if read is None or read.stamp != versions_stamp(read.scripts):
            read = self._read()
        return read.scripts

    def _read(self) -> _Read:
        scripts = ScriptDirectory.from_config(self.config())
        stamp = versions_stamp(scripts)  # before reading: a file changed meanwhile reads again
        scripts.get_heads()  # reads the revision files now, not on first use
        read = _Read(stamp, scripts)
        with _read_lock:
            _read.pop(self.script_location, None)
            _read[self.script_location] = read
            while len(_read) > _READ_LIMIT:
                del _read[next(iter(_read))]  # the least recently read
        return read


DEFAULT_PROJECT = MigrationProject()


def versions_stamp(scripts: ScriptDirectory) -> VersionsStamp:
    """The name, modification time and size of every file in the versions folder."""
    with os.scandir(scripts.versions) as entries:
        files = [(entry.name, entry.stat()) for entry in entries if entry.is_file()]
    return tuple(sorted((name, stat.st_mtime_ns, stat.st_size) for name, stat in files))


def one_sentence(error: BaseException) -> str:
    """The first line of an error's text, ending with a full stop."""
    text = str(error).strip()
    first = text.splitlines()[0].rstrip() if text else type(error).__name__
    return first if first.endswith((".", "?", "!")) else first + "."


def dialect_filter(dialect_name: str) -> Callable[..., bool]:
    """An Alembic `include_object` hook that skips objects meant for another dialect.

    Objects tagged `info["dialect"]` (e.g. PostgreSQL's trigram indexes) exist only there.
    """

    def include(obj: Any, _name: str | None, _type: str, _reflected: bool, _other: Any) -> bool:
        wanted = getattr(obj, "info", {}).get("dialect")
        return wanted is None or wanted == dialect_name

    return include
