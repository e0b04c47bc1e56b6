"""The key bar at the foot of every screen: the keys the screen offers now.

One widget drawing one line, instead of Textual's Footer, which mounts a widget per
key (19 on the Users screen) and restyled each as it built: that was about 70 ms of
the console's start-up. The keys come from the screen's active bindings, as the
Footer's do (`show=False` ones stay out, unavailable ones are dimmed), and are
redrawn only when they change. A click presses the key; hovering one shows its
tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

PALETTE_DIVIDER = "│"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class KeyItem:
    """One key as the bar shows it."""

    key: str  # what a click presses
    display: str
    description: str
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        return cell_len(self.label)

    @property
    def label(self) -> str:
        return f"{self.key_part}{self.description_part}"

    @property
    def key_part(self) -> str:
        return f" {self.display} "

    @property
    def description_part(self) -> str:
        return f"{self.description} " if self.description else ""


class KeyBar(Widget, can_focus=False):
    """The current screen's keys on one line; the command palette's key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--hover",
        "key-bar--disabled",
        "key-bar--divider",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: tuple[KeyItem, ...] = ()
        self.palette: KeyItem | None = None
        self._hovered: KeyItem | None = None
        # Where each item was drawn in the last render: (start, end, item).
        self._spans: list[tuple[int, int, KeyItem]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        items, palette = self._collect(screen)
        if (items, palette) != (self.items, self.palette):
            self.items, self.palette = items, palette
            self.refresh()

    def _collect(self, screen: Screen[Any]) -> tuple[tuple[KeyItem, ...], KeyItem | None]:
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        items: list[KeyItem] = []
        palette: KeyItem | None = None
        actions_shown: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding: Binding = active.binding
            if key == palette_key:
                palette = self._item(binding, active.enabled, active.tooltip)
            elif binding.show and binding.action not in actions_shown:
                # Several keys for one action: the first one speaks for them.
                actions_shown.add(binding.action)
                items.append(self._item(binding, active.enabled, active.tooltip))
        return tuple(items), palette

    def _item(self, binding: Binding, enabled: bool, tooltip: str) -> KeyItem:
        return KeyItem(
            key=binding.key,
            display=self.app.get_key_display(binding),
            description=binding.description,
            enabled=enabled,
            tooltip=tooltip or binding.tooltip or binding.description,
        )

    # --- drawing -------------------------------------------------------------------

    def render(self) -> Text:
        width = self.size.width
        palette = self.palette
        palette_width = 0 if palette is None else cell_len(PALETTE_DIVIDER) + palette.width
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        room = width - palette_width - len(ELLIPSIS)
        for item in self.items:
            if line.cell_len + item.width > room:
                # Say that keys are left out: help (?) and the palette list them all.
                line.append(ELLIPSIS, self.get_component_rich_style("key-bar--key"))
                break
            self._append(line, item)
        if palette is not None and palette_width < width:
            line.append(" " * max(0, width - palette_width - line.cell_len))
            line.append(PALETTE_DIVIDER, self.get_component_rich_style("key-bar--divider"))
            self._append(line, palette)
        return line

    def _append(self, line: Text, item: KeyItem) -> None:
        start = line.cell_len
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        line.append(item.key_part, key_style)
        line.append(item.description_part, description_style)
        end = line.cell_len
        if not item.enabled:
            line.stylize(self.get_component_rich_style("key-bar--disabled"), start, end)
        if item == self._hovered:
            line.stylize(self.get_component_rich_style("key-bar--hover"), start, end)
        self._spans.append((start, end, item))

    # --- the mouse -----------------------------------------------------------------

    def item_at(self, x: int) -> KeyItem | None:
        """The key drawn at column `x` in the last render, if any."""
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self.item_at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self.item_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, item: KeyItem | None) -> None:
        if item == self._hovered:
            return
        self._hovered = item
        self.tooltip = None if item is None else item.tooltip
        self.refresh()
