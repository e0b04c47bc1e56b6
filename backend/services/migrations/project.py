"""Where the migrations live: the Alembic config and script directory of a project.

The project's own `alembic/` is the default; tests and the benchmark point a
MigrationProject at a temporary copy (a broken revision, branches, 200 revisions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# The revision files' own word on a lint rule: {"rule": "why it is safe here"}.
ACKNOWLEDGED_ATTRIBUTE = "lint_acknowledged"


@dataclass(eq=False)
class MigrationProject:
    """A script directory (env.py and versions/) and the config that runs it."""

    script_location: Path = PROJECT_ROOT / "alembic"
    _scripts: ScriptDirectory | None = field(default=None, init=False, repr=False)

    def config(self, url: str | None = None) -> Config:
        """The Alembic config; `url` overrides the settings URL (offline SQL)."""
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(self.script_location))
        if url is not None:
            # ConfigParser would read "%" as interpolation.
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def scripts(self) -> ScriptDirectory:
        """The script directory with every revision read, once (200 files take a while)."""
        if self._scripts is None:
            scripts = ScriptDirectory.from_config(self.config())
            scripts.get_heads()  # reads the revision files now, not on first use
            self._scripts = scripts
        return self._scripts


DEFAULT_PROJECT = MigrationProject()


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
