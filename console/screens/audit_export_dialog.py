"""Export the Audit screen's filtered view to CSV, with progress (the Users export's dialog)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from backend.services.audit import AuditFilter
from backend.services.audit_export import export_events_csv
from console.screens.export_dialog import ExportDialog


class AuditExportDialog(ExportDialog):
    """Asks for a file and writes the events the filters match, newest first."""

    noun = "events"
    hint = "Secrets were never recorded."

    def __init__(self, filters: AuditFilter, default_path: Path) -> None:
        super().__init__(None, None, default_path)
        self.filters = filters

    async def write_csv(
        self, session: AsyncSession, out: TextIO, progressed: Callable[[int], None]
    ) -> int:
        context = self.context
        return await export_events_csv(
            session,
            context.actor,
            self.filters,
            out,
            on_progress=progressed,
            audit=not context.read_only,
        )
