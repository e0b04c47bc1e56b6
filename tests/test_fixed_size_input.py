"""FixedSizeInput: typing redraws the field only; its text still scrolls within it."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from console.widgets.fixed_size_input import FixedSizeInput


class TwoInputs(App[None]):
    CSS = "Input { width: 12; height: 1; }"

    def compose(self) -> ComposeResult:
        yield FixedSizeInput(compact=True, id="fixed")
        yield Input(compact=True, id="plain")


async def test_typing_needs_no_layout_and_the_text_still_scrolls() -> None:
    app = TwoInputs()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        layouts = 0
        refresh_layout = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            nonlocal layouts
            layouts += 1
            refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

        screen._refresh_layout = counted  # type: ignore[method-assign]
        fixed = app.query_one("#fixed", FixedSizeInput)
        fixed.focus()
        await pilot.pause()
        layouts = 0
        await pilot.press(*"a long filter typed in")
        assert (layouts, fixed.value) == (0, "a long filter typed in")
        assert fixed.scroll_offset.x > 0  # the cursor at the end is in view
        app.query_one("#plain", Input).focus()
        await pilot.press(*"abc")
        assert layouts > 0  # what the plain Input costs
