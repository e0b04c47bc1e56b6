"""The Users screen's filter bar: search as you type, role, active, locked, sort."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input

from backend.models import Role
from backend.services.user_search import UserQuery, UserSort
from console.widgets.filter_choice import FilterChoice

_SORTS: dict[str, tuple[UserSort, bool]] = {
    "email": (UserSort.EMAIL, False),
    "email-desc": (UserSort.EMAIL, True),
    "created-desc": (UserSort.CREATED, True),
    "created": (UserSort.CREATED, False),
    "last-login-desc": (UserSort.LAST_LOGIN, True),
    "last-login": (UserSort.LAST_LOGIN, False),
}
_SORT_LABELS = {
    "email": "Email A-Z",
    "email-desc": "Email Z-A",
    "created-desc": "Newest",
    "created": "Oldest",
    "last-login-desc": "Last login ↓",
    "last-login": "Last login ↑",
}
_ANY = "any"
SEARCH_MAX_LENGTH = 200


class UserFilters(Horizontal):
    """Builds the UserQuery the table shows; says when it changes."""

    class Changed(Message):
        """The query changed; `typed` when it came from the search box (debounce it)."""

        def __init__(self, query: UserQuery, *, typed: bool) -> None:
            super().__init__()
            self.query = query
            self.typed = typed

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="/ search",
            id="search",
            compact=True,
            max_length=SEARCH_MAX_LENGTH,
        )
        yield FilterChoice(
            [("any role", _ANY), *((role.value, role.value) for role in Role)],
            value=_ANY,
            id="filter-role",
        )
        yield FilterChoice(
            [("any status", _ANY), ("active", "yes"), ("inactive", "no")],
            value=_ANY,
            id="filter-active",
        )
        yield FilterChoice(
            [("any lock", _ANY), ("locked", "yes"), ("unlocked", "no")],
            value=_ANY,
            id="filter-locked",
        )
        yield FilterChoice(
            [(label, key) for key, label in _SORT_LABELS.items()],
            value="email",
            id="sort",
        )

    def current_query(self) -> UserQuery:
        """The query the controls describe now."""
        sort, descending = _SORTS[self.query_one("#sort", FilterChoice).value]
        role = self._choice("#filter-role")
        return UserQuery(
            search=self.query_one("#search", Input).value.strip() or None,
            role=None if role is None else Role(role),
            is_active=_yes_no(self._choice("#filter-active")),
            locked=_yes_no(self._choice("#filter-locked")),
            sort=sort,
            descending=descending,
        )

    def focus_search(self) -> None:
        """Focus the search box now (Widget.focus waits its turn behind queued keys)."""
        self.screen.set_focus(self.query_one("#search", Input))

    @property
    def search_focused(self) -> bool:
        # The screen's focus, not has_focus: that waits for the box to handle its Focus
        # event, behind the keys of a burst.
        return self.screen.focused is self.query_one("#search", Input)

    def clear(self) -> bool:
        """Empty the search and reset the filters; False when there was nothing to clear."""
        search = self.query_one("#search", Input)
        changed = bool(search.value)
        search.value = ""
        for selector in ("#filter-role", "#filter-active", "#filter-locked"):
            choice = self.query_one(selector, FilterChoice)
            changed = changed or choice.value != _ANY
            choice.value = _ANY
        return changed

    def _choice(self, selector: str) -> str | None:
        value = self.query_one(selector, FilterChoice).value
        return None if value == _ANY else value

    @on(Input.Changed, "#search")
    def _search_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.current_query(), typed=True))

    @on(FilterChoice.Changed)
    def _choice_made(self, event: FilterChoice.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.current_query(), typed=False))


def _yes_no(choice: str | None) -> bool | None:
    return None if choice is None else choice == "yes"
