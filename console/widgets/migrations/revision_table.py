"""The revision graph as a list, newest first, with a mark per revision.

◉ current (in the version table), ● applied, ○ pending, ? unknown (the database records
it, these scripts do not). Branch and merge points and labels are named beside it.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from backend.services.migrations import MigrationState
from backend.services.migrations.graph import Mark, RevisionNode

GLYPHS = {
    Mark.CURRENT: ("◉", "bold green"),
    Mark.APPLIED: ("●", "green"),
    Mark.PENDING: ("○", "yellow"),
}
MESSAGE_LIMIT = 48


def node_tags(node: RevisionNode) -> str:
    """E.g. "current · head · merge"."""
    tags = [node.mark.value]
    if node.is_head:
        tags.append("head")
    if node.is_branch_point:
        tags.append("branch point")
    if node.is_merge_point:
        tags.append("merge")
    tags += [f"@{label}" for label in node.branch_labels]
    return " · ".join(tags)


class RevisionTable(DataTable[Text | str]):
    """One row per revision; the row key is the revision id."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        self.add_column("", key="glyph", width=1)
        self.add_column("Revision", key="revision")
        self.add_column("Marks", key="marks")
        self.add_column("Message", key="message")

    def show(self, state: MigrationState, selected: str | None) -> None:
        """Fill the table from `state`, keeping `selected` under the cursor."""
        self.clear()
        for unknown in state.unknown:
            self.add_row(
                Text("?", style="bold red"),
                Text(unknown, style="red"),
                Text("unknown: not in these migrations", style="red"),
                "",
                key=unknown,
            )
        for node in state.nodes:
            glyph, style = GLYPHS[node.mark]
            self.add_row(
                Text(glyph, style=style),
                node.revision,
                node_tags(node),
                _shorten(node.message),
                key=node.revision,
            )
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    @property
    def selected_revision(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)


def _shorten(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"
