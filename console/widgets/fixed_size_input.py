"""An Input whose box never changes size, so typing in it needs no layout of the screen."""

from __future__ import annotations

from typing import Self

from textual.geometry import Region
from textual.widgets import Input


class FixedSizeInput(Input):
    """An Input sized by CSS alone (a fixed height and width), for filters typed into.

    Textual 8.2.8 gives an Input a new virtual size with every keystroke, and a new
    virtual size lays out the whole screen (~2 ms a keystroke beside the route catalog,
    more with a form on screen). This box cannot grow or shrink, so a keystroke only
    redraws it.
    """

    _value_changing = False

    def _watch_value(self, value: str) -> None:
        self._value_changing = True
        try:
            super()._watch_value(value)
        finally:
            self._value_changing = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        layout = layout and not self._value_changing
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
