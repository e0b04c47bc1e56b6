"""CSV export of a user listing, streamed page by page: never the whole table in memory.

The columns are the ones an operator needs; passwords, hashes and tokens are never
exported. Cells that a spreadsheet would run as a formula are defused (OWASP's CSV
injection advice): a leading =, +, -, @, tab or carriage return gets a ' in front.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from backend.private_files import create_private_text_file
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.user_search import UserQuery, UserRow, page_user_rows

EXPORT_COLUMNS = (
    "id",
    "email",
    "full_name",
    "role",
    "is_active",
    "locked_until",
    "last_login_at",
    "created_at",
)
EXPORT_PAGE_SIZE = 500
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def open_export_file(path: Path) -> TextIO:
    """A new file for an export, readable by its owner only (0600): it holds personal data.

    Never an existing file (FileExistsError): an export must not overwrite one.
    """
    return create_private_text_file(path)


async def export_users_csv(
    session: AsyncSession,
    actor: Actor,
    query: UserQuery,
    out: TextIO,
    *,
    on_progress: Callable[[int], None] | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
    audit: bool = True,
) -> int:
    """Write every user matching `query`, in its order, as CSV to `out`; return the count.

    `on_progress` is called after each page with the number of rows written so far.
    The export is audited (`user.export`, with the filters and the count) unless
    `audit` is off: a read-only console writes nothing at all to the database.
    Raises PermissionDenied (not staff), InvalidInput.
    """
    permissions.require_staff(actor)
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    written = 0
    after: str | None = None
    while True:
        page = await page_user_rows(session, actor, query, limit=page_size, after=after)
        writer.writerows(_csv_row(row) for row in page.rows)
        written += len(page.rows)
        if on_progress is not None:
            on_progress(written)
        if page.after is None:
            break
        after = page.after
    if audit:
        await _record_export(session, actor, query, written)
    return written


async def _record_export(session: AsyncSession, actor: Actor, query: UserQuery, count: int) -> None:
    filters = {
        "search": query.search_term or None,
        "role": query.role.value if query.role else None,
        "is_active": query.is_active,
        "locked": query.locked,
        "sort": query.sort.value,
        "descending": query.descending,
    }
    described = {name: value for name, value in filters.items() if value is not None}
    record_event(session, actor, "user.export", "", {"count": count, "filters": described})
    await session.commit()


def _csv_row(row: UserRow) -> list[str]:
    return [
        str(row.id),
        defused(row.email),
        defused(row.full_name),
        row.role,
        "true" if row.is_active else "false",
        _moment(row.locked_until),
        _moment(row.last_login_at),
        _moment(row.created_at),
    ]


def _moment(value: dt.datetime | None) -> str:
    return "" if value is None else value.isoformat()


def defused(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
