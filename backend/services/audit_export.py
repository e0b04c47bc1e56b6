"""CSV export of a filtered audit listing, newest first, streamed page by page."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit import MAX_PAGE, AuditFilter, AuditRecord, list_events, record_event
from backend.services.export import defused

AUDIT_EXPORT_COLUMNS = ("id", "at", "actor", "action", "target", "changes", "chain_seq")
EXPORT_ACTION = "audit.export"


async def export_events_csv(
    session: AsyncSession,
    actor: Actor,
    filters: AuditFilter,
    out: TextIO,
    *,
    on_progress: Callable[[int], None] | None = None,
    page_size: int = MAX_PAGE,
    audit: bool = True,
) -> int:
    """Write every event matching `filters`, newest first, as CSV to `out`; return the count.

    `on_progress` is called after each page with the rows written so far. The export is
    itself audited (`audit.export`, with the filters and the count) unless `audit` is
    off (a read-only console). Raises PermissionDenied (not an admin).
    """
    permissions.require_admin(actor, "export the audit log")
    writer = csv.writer(out)
    writer.writerow(AUDIT_EXPORT_COLUMNS)
    written, before = 0, None
    while True:
        page = await list_events(session, filters, limit=page_size, before_id=before)
        writer.writerows(_csv_row(event) for event in page)
        written += len(page)
        if on_progress is not None:
            on_progress(written)
        if len(page) < page_size:
            break
        before = page[-1].id
    if audit:
        changes = {"count": written, "filters": filters.described()}
        record_event(session, actor, EXPORT_ACTION, "", changes)
        await session.commit()
    return written


def _csv_row(event: AuditRecord) -> list[str]:
    return [
        str(event.id),
        event.at.isoformat(),
        defused(event.actor),
        event.action,
        defused(event.target),
        defused(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)),
        "" if event.chain_seq is None else str(event.chain_seq),
    ]
