"""The command palette (ctrl+p): every area, and every action of the current screen.

Actions come from the screen's and the app's key bindings, so the palette and the
keys never drift apart; an action the screen disables (read-only, nothing selected)
is left out, as its key is. Textual's own commands (theme, screenshot, ...) follow
them: this is the palette's one provider, so the console's commands come first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

from console.screens.registry import AREAS


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], object]
    discoverable: bool = True  # listed before anything is typed


class ConsoleCommands(Provider):
    """Areas first ("Go to Users"), then the current screen's actions, then Textual's."""

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.discoverable:
                yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)

    def _commands(self) -> Iterator[PaletteCommand]:
        app = self.app
        for area in AREAS:
            yield PaletteCommand(
                f"Go to {area.title}",
                f"{area.purpose} (key {area.key})",
                partial(app.switch_mode, area.mode),
            )
        actions = list(_binding_commands(self.screen))
        yield from actions
        # Textual's own, but for those the bindings gave already (Quit).
        titles = {action.title for action in actions}
        for system in app.get_system_commands(self.screen):
            if system.title not in titles:
                yield PaletteCommand(system.title, system.help, system.callback, system.discover)


def _binding_commands(screen: Screen[Any]) -> Iterator[PaletteCommand]:
    """A command per described key binding of `screen` or the app, active and enabled.

    Bindings of the focused widget itself (a table's cursor keys) are not actions.
    """
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if (
            active.node not in (screen, screen.app)
            or not active.enabled
            or not binding.description
            or binding.action in seen
            or binding.action.startswith(("switch_mode", "command_palette"))
        ):
            continue
        seen.add(binding.action)
        key = binding.key_display or binding.key
        yield PaletteCommand(
            binding.description,
            active.tooltip or binding.tooltip or f"key {key}",
            partial(_run_action, active.node, binding.action),
        )


def _run_action(node: DOMNode, action: str) -> None:
    # Resolved against the node that owns the binding, as the key would be.
    node.app.call_later(node.app.run_action, action, node)
