"""Free-form request headers: a name and a value per row, added and removed at will.

The route's documented headers have fields of their own; these are any others
(X-Request-ID, Accept-Language...). They stay while other routes are picked. A
secret header's value (Authorization, Cookie, X-Api-Key...) is masked unless revealed.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from backend.services.probe_headers import HeaderProblem, is_secret_header
from console.widgets.fixed_size_input import FixedSizeInput
from console.widgets.tokens.field_error import FieldError


class HeaderRow(Vertical):
    """One header: its name, its value, a remove button and the problem under them."""

    def __init__(self, name: str, value: str, *, revealed: bool) -> None:
        super().__init__(classes="header-row")
        self._header_name, self._header_value, self._revealed = name, value, revealed

    def compose(self) -> ComposeResult:
        with Horizontal(classes="header-fields"):
            yield FixedSizeInput(
                self._header_name, placeholder="Name", compact=True, classes="header-name"
            )
            yield FixedSizeInput(
                self._header_value,
                placeholder="value (enter: another header)",
                password=is_secret_header(self._header_name) and not self._revealed,
                compact=True,
                classes="header-value",
            )
            yield Button("✕", compact=True, classes="header-remove", tooltip="Remove this header")
        yield FieldError(classes="header-error")

    @property
    def pair(self) -> tuple[str, str]:
        return self.query_one(".header-name", Input).value, self.query_one(
            ".header-value", Input
        ).value

    def mask(self, *, revealed: bool) -> None:
        """Mask the value while the name says it is a secret, unless `revealed`."""
        self._revealed = revealed
        name = self.query_one(".header-name", Input).value
        self.query_one(".header-value", Input).password = is_secret_header(name) and not revealed

    def show_problem(self, message: str | None) -> None:
        self.query_one(FieldError).show(message)

    @on(Input.Changed, ".header-name")
    def _name_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.mask(revealed=self._revealed)

    @on(Input.Submitted, ".header-name")
    def _to_value(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(".header-value", Input).focus()


class HeadersEditor(Vertical):
    """The rows of typed headers; `pairs()` reads them, `show_problems` marks them."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._revealed = False

    def compose(self) -> ComposeResult:
        yield Label("Other headers", classes="headers-title")
        yield Vertical(id="headers-rows")
        yield Button("+ header", compact=True, id="headers-add")

    @property
    def rows(self) -> list[HeaderRow]:
        return list(self.query_one("#headers-rows").query_children(HeaderRow))

    def pairs(self) -> list[tuple[str, str]]:
        """Every row's (name, value) as typed, in order."""
        return [row.pair for row in self.rows]

    async def add_row(self, name: str = "", value: str = "", *, focus: bool = True) -> HeaderRow:
        row = HeaderRow(name, value, revealed=self._revealed)
        await self.query_one("#headers-rows").mount(row)
        if focus:
            row.query_one(".header-name", Input).focus()
        return row

    async def fill(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Replace the rows with `pairs` (a replayed request's)."""
        await self.query_one("#headers-rows").remove_children()
        for name, value in pairs:
            await self.add_row(name, value, focus=False)

    def show_problems(self, problems: Sequence[HeaderProblem], *, focus: bool = True) -> None:
        """Each problem under its row; rows without one are cleared."""
        by_row = {problem.row: problem.message for problem in problems}
        for index, row in enumerate(self.rows):
            row.show_problem(by_row.get(index))
        first = min(by_row, default=None)
        if first is not None and focus:
            self.rows[first].query_one(".header-name", Input).focus()

    def set_revealed(self, revealed: bool) -> None:
        """Show (or mask again) the values of secret headers."""
        self._revealed = revealed
        for row in self.rows:
            row.mask(revealed=revealed)

    @on(Button.Pressed, "#headers-add")
    async def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.add_row()

    @on(Button.Pressed, ".header-remove")
    async def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        row = next((a for a in event.button.ancestors if isinstance(a, HeaderRow)), None)
        if row is not None:
            await row.remove()

    @on(Input.Submitted, ".header-value")
    async def _value_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.add_row()
