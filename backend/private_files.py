"""Files only their owner may read: the data folder, the SQLite database, the server log,
CSV exports.

The embedded database holds bcrypt hashes, emails and the audit trail; an export holds
personal data. Created with the default umask they would be readable by every account
on the machine (0644).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# SQLite creates these beside the database, with the database file's own mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path) -> None:
    """Create the folder `path` (with its parents) as 0700; an existing one is left as is."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)  # exact, whatever the umask


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it, or make an existing one so.

    SQLite gives the -wal, -shm and -journal files it creates later the database file's
    mode, so they are 0600 too; ones left from before are tightened here.
    """
    make_private_file(path)
    for suffix in SQLITE_COMPANIONS:
        _tighten(path.with_name(path.name + suffix))


def make_private_file(path: Path) -> None:
    """Create `path` 0600 (in a 0700 folder) if absent, or make an existing one so."""
    make_private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    _tighten(path)


def _tighten(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):  # gone, or not ours
        if path.stat().st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE_MODE)


def create_private_text_file(path: Path) -> TextIO:
    """A new file (never an existing one: FileExistsError) only its owner may read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
