"""Temporary copies of the script directory with extra revisions: broken, slow, branchy."""

from __future__ import annotations

import asyncio
import shutil
import sys
import textwrap
from pathlib import Path

from backend.services import migrations
from backend.services.migrations import MigrationProject
from backend.services.migrations.project import PROJECT_ROOT

# Our own history, oldest first; tests count on its shape, not on its length.
OURS = [
    script.revision for script in reversed(list(migrations.script_directory().walk_revisions()))
]
HEAD = OURS[-1]
BELOW_HEAD = OURS[-2]


def revision_source(
    revision: str,
    down: str | tuple[str, ...] | None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    *,
    labels: tuple[str, ...] = (),
    extra: str = "",
) -> str:
    """A revision file's text; `upgrade` and `downgrade` are the bodies of the functions."""
    return (
        f'"""Test revision {revision}.\n\nRevision ID: {revision}\nCreate Date: 2030-01-01\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels or None!r}\ndepends_on = None\n{extra}\n\n"
        f"def upgrade() -> None:\n{textwrap.indent(textwrap.dedent(upgrade).strip(), '    ')}\n\n\n"
        f"def downgrade() -> None:\n{textwrap.indent(textwrap.dedent(downgrade).strip(), '    ')}\n"
    )


# Two branches above our head, labelled, and their merge: 0101 and 0102, then 0103.
BRANCHES = {
    "0101_left.py": revision_source(
        "0101",
        HEAD,
        'op.create_table("left_t", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("left_t")',
        labels=("left",),
    ),
    "0102_right.py": revision_source(
        "0102",
        HEAD,
        'op.create_table("right_t", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("right_t")',
        labels=("right",),
    ),
    "0103_merge.py": revision_source("0103", ("0101", "0102")),
}


def project_with(tmp_path: Path, revisions: dict[str, str]) -> MigrationProject:
    """A copy of alembic/ with `revisions` (file name -> source) added to versions/."""
    location = tmp_path / "alembic"
    shutil.copytree(
        PROJECT_ROOT / "alembic", location, ignore=shutil.ignore_patterns("__pycache__")
    )
    for name, source in revisions.items():
        (location / "versions" / name).write_text(source, encoding="utf-8")
    return MigrationProject(location)


async def start_runner(
    source: str, url: str, project: MigrationProject
) -> asyncio.subprocess.Process:
    """Another process running `source` (Python) with the database URL and the script
    directory as arguments, as a second deploy would; its stdin and stdout are pipes."""
    runner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        source,
        url,
        str(project.script_location),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    assert runner.stdout is not None
    return runner
