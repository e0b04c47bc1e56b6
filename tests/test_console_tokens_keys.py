"""esc on the Tokens screen leaves whichever field has the focus: its keys work at once."""

from __future__ import annotations

import pytest
from console_tokens_kit import ManualClock, console_app, settle
from console_users_kit import type_burst
from textual.widgets import Tabs

from backend.config import Settings
from backend.database import Database
from console.screens.help import HelpDialog
from console.screens.tokens import TokensScreen

SIZE = (130, 45)
# (the key that opens the tab, the field, text typed into it)
FIELDS = [
    ("i", "#inspect-token", "eyJx"),
    ("n", "#issue-email", "ali"),
    ("n", "#issue-minutes", "15"),
    ("n", "#issue-claims", "tenant=acme"),
    ("v", "#revoked-search", "ann"),
]


@pytest.mark.parametrize("burst", [False, True], ids=["key by key", "in one burst"])
async def test_escape_leaves_every_field_so_the_screens_keys_work_at_once(
    settings: Settings, db: Database, burst: bool
) -> None:
    app = console_app(settings, database=db, clock=ManualClock())
    async with app.run_test(size=SIZE) as pilot:
        for tab_key, field, text in FIELDS:
            await pilot.press("escape", tab_key)
            app.screen.set_focus(app.screen.query_one(field))
            if burst:
                type_burst(pilot, text, "<escape>", "?")
            else:
                await pilot.press(*text, "escape", "question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpDialog), field  # "?" was not typed in
            await pilot.press("escape")
            assert isinstance(app.screen, TokensScreen)
            assert isinstance(app.screen.focused, Tabs), field
