"""FilterChoice: a one-line choice among fixed options, one widget until it is opened.

Textual's Select composes six widgets (its list among them) whether or not the list is
ever opened: the Users filter bar's four cost ~50 ms of start-up. FilterChoice draws
its label itself and builds its list, as a small modal screen, only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

ChoiceOption = tuple[str, str]
"""One option: (label, value)."""

_ARROW = "▾"
# The open list's frame: a border cell and an option's padding cell on each side.
_MENU_FRAME = 4


class InvalidChoiceError(ValueError):
    """Raised when a FilterChoice is set to a value none of its options has."""


class FilterChoice(Widget, can_focus=True):
    """The current option's label and a ▾; enter, space, up, down or a click open the list.

    Setting `value` (by code or by picking from the list) posts `FilterChoice.Changed`
    when the value really changes.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space,down,up", "open_menu", "Open the list", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"filter-choice--arrow"}
    ALLOW_SELECT = False

    value: reactive[str] = reactive("", init=False)
    """The chosen option's value; setting an unknown one raises InvalidChoiceError."""

    class Changed(Message):
        """The value changed (posted only when it differs from the one before)."""

        def __init__(self, choice: FilterChoice, value: str) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> FilterChoice:
            """The FilterChoice that changed."""
            return self.choice

    def __init__(
        self,
        options: Iterable[ChoiceOption],
        *,
        value: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Options are (label, value) pairs; `value` defaults to the first option's."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._options: tuple[ChoiceOption, ...] = tuple(options)
        self._labels = {option_value: label for label, option_value in self._options}
        if not self._options:
            raise ValueError("A FilterChoice needs at least one option.")
        if len(self._labels) != len(self._options):
            raise ValueError("A FilterChoice's option values must differ from each other.")
        initial = self._options[0][1] if value is None else self.validate_value(value)
        # Set quietly: the starting value is no change to report.
        self.set_reactive(FilterChoice.value, initial)

    @property
    def options(self) -> tuple[ChoiceOption, ...]:
        """The (label, value) options, in the order the list shows them."""
        return self._options

    @property
    def label(self) -> str:
        """The current option's label."""
        return self._labels[self.value]

    def validate_value(self, value: str) -> str:
        if value not in self._labels:
            known = ", ".join(repr(option_value) for _label, option_value in self._options)
            raise InvalidChoiceError(f"{value!r} is not one of the options ({known}).")
        return value

    def watch_value(self, value: str) -> None:
        # Reactive calls this only when the value differs from the one before.
        self.post_message(self.Changed(self, value))

    def render(self) -> RenderResult:
        # The label fills the width (cut with an ellipsis), the ▾ stays at the right end.
        label_width = max(self.content_size.width - 2, 0)
        label = Content(self.label).truncate(label_width, ellipsis=True, pad=True)
        return Content.assemble(label, " ", (_ARROW, ".filter-choice--arrow"))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(cell_len(label) for label, _value in self._options) + 2

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1

    def action_open_menu(self) -> None:
        """Open the list of options."""
        self.open_menu()

    def open_menu(self) -> None:
        """Show the options right under the widget; the one picked becomes the value."""
        menu = FilterChoiceMenu(self._options, self.value, self.region)
        self.app.push_screen(menu, callback=self._picked)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.open_menu()

    def _picked(self, value: str | None) -> None:
        # None: closed without a pick (esc, a click elsewhere).
        if value is not None:
            self.value = value


class FilterChoiceMenu(ModalScreen[str | None]):
    """A FilterChoice's open list: dismissed with the picked value, or None.

    A screen rather than an overlay widget: it exists only while open, it takes every
    key and click meant for the list, and popping it returns focus to the FilterChoice.
    Its background is transparent, so the screen under it stays as it was.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close the list", show=False),
    ]

    def __init__(self, options: Sequence[ChoiceOption], value: str, under: Region) -> None:
        """`under` is the FilterChoice's region on the screen: the list opens below it."""
        super().__init__()
        self._options = options
        self._value = value
        self._under = under
        self._placed_for = Size(0, 0)  # the terminal's size the list is placed for
        self._dismissing = False

    def compose(self) -> ComposeResult:
        menu = _MenuList(
            *(Option(label, id=value) for label, value in self._options),
            id="filter-choice-list",
        )
        # Placed by offset from the screen's corner (position: absolute in app.tcss):
        # these depend on where the FilterChoice sits, so they are set here.
        self._placed_for = self.app.size
        width, height = self._menu_size()
        menu.styles.width = width
        menu.styles.offset = self._menu_origin(width, height)
        yield menu

    def on_mount(self) -> None:
        menu = self.query_one(_MenuList)
        values = [value for _label, value in self._options]
        menu.highlighted = values.index(self._value)

    def on_resize(self) -> None:
        # The list is placed for the terminal's size when it opened; once the terminal
        # is resized it would float away from its field, so it closes (as a browser's
        # open select does).
        if self.app.size != self._placed_for:
            self._close(None)

    def _menu_size(self) -> tuple[int, int]:
        """As wide as the FilterChoice, or wider to show the longest label in full."""
        longest = max(cell_len(label) for label, _value in self._options)
        screen_width, screen_height = self.app.size
        width = min(max(self._under.width, longest + _MENU_FRAME), screen_width)
        height = min(len(self._options) + 2, screen_height)  # + the top and bottom border
        return width, height

    def _menu_origin(self, width: int, height: int) -> tuple[int, int]:
        """Under the FilterChoice, moved left or above it if it would leave the screen."""
        screen_width, screen_height = self.app.size
        x = max(min(self._under.x, screen_width - width), 0)
        y = self._under.bottom
        if y + height > screen_height:
            y = max(self._under.y - height, 0)
        return x, y

    def action_close(self) -> None:
        """Close the list without a pick."""
        self._close(None)

    @on(OptionList.OptionSelected)
    def _option_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._close(event.option.id)

    def on_click(self, event: events.Click) -> None:
        # Clicks on the list bubble here too: only one beside it closes the menu.
        if event.widget is self:
            self._close(None)

    def _close(self, value: str | None) -> None:
        # Once only: events already queued (a resize comes as several) would otherwise
        # dismiss again and pop the screen under the list.
        if not self._dismissing:
            self._dismissing = True
            self.dismiss(value)


class _MenuList(OptionList):
    """The open list; typing a character moves to the next option whose label starts so.

    It takes every printable key, as Select's list does: a stray "q" must not quit the
    console (the app's key) while the list is open. Space picks, as enter does.
    """

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return character is not None and character.isprintable()

    async def _on_key(self, event: events.Key) -> None:
        character = event.character
        if character is None or not character.isprintable():
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        if character == " ":
            self.action_select()
        else:
            self._jump_to(character)

    def _jump_to(self, character: str) -> None:
        labels = [str(option.prompt).lower() for option in self.options]
        start = -1 if self.highlighted is None else self.highlighted
        count = len(labels)
        for step in range(1, count + 1):
            index = (start + step) % count
            if labels[index].startswith(character.lower()):
                self.highlighted = index
                return
