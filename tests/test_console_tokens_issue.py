"""The Tokens screen's Issue tab, driven with Pilot against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from conftest import UserFactory
from console_tokens_kit import console_app, settle, text_of
from sqlalchemy.ext.asyncio import AsyncSession
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, TextArea

from backend.config import Settings
from backend.database import Database
from backend.models import Role
from backend.services import tokens
from backend.services.audit import AuditFilter, list_events
from backend.services.policy import AuthPolicy
from console.app import BackendConsoleApp
from console.widgets.tokens.inspect_pane import InspectPane
from console.widgets.tokens.issue_pane import IssuePane

SIZE = (120, 50)


def tokens_app(settings: Settings, db: Database, *, read_only: bool = False) -> BackendConsoleApp:
    return console_app(settings, database=db, read_only=read_only)


async def test_issue_mints_a_login_like_token_audited_by_its_jti(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
) -> None:
    alice = await make_user(Role.USER, email="alice@example.com")
    app = tokens_app(settings, db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "n")  # out of the token field, then the Issue tab
        assert app.focused is app.screen.query_one("#issue-email", Input)
        await pilot.press(*"alic")
        await settle(pilot)
        matches = app.screen.query_one("#issue-matches", OptionList)
        assert matches.option_count == 1
        await pilot.press("enter", "enter")  # into the matches, pick alice
        assert app.screen.query_one("#issue-email", Input).value == "alice@example.com"
        await pilot.press("1", "5")  # the lifetime field has the focus now
        app.screen.query_one("#issue-claims", TextArea).load_text('tenant=acme\nbeta=["x"]')
        await pilot.click("#issue-submit")
        await settle(pilot)
        issued = app.screen.query_one(IssuePane).issued

    assert issued is not None
    assert issued.claims["tenant"] == "acme"
    assert issued.claims["beta"] == ["x"]
    assert issued.expires_at - issued.issued_at == dt.timedelta(minutes=15)
    check = await tokens.inspect_token(session, policy, issued.token)
    assert check.valid, check.detail
    assert check.claims is not None
    assert check.claims.sub == str(alice.id)
    events = await list_events(session, AuditFilter(action="token.issue"))
    assert [event.changes["jti"] for event in events] == [issued.jti]
    assert events[0].target == f"user:{alice.id}"
    assert events[0].actor == "console:tester"
    assert issued.token not in json.dumps([event.changes for event in events])


async def test_issued_token_is_offered_for_inspection_copy_and_probe(
    settings: Settings, db: Database, make_user: UserFactory
) -> None:
    await make_user(Role.USER, email="bob@example.com")
    app = tokens_app(settings, db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "n")
        app.screen.query_one("#issue-email", Input).value = "bob@example.com"
        app.screen.query_one("#issue-minutes", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        issued = app.screen.query_one(IssuePane).issued
        assert issued is not None

        await pilot.press("escape", "c")
        assert app.clipboard == issued.token
        await pilot.press("p")
        assert app.context.probe_token == issued.token

        await pilot.click("#issued-inspect")
        await settle(pilot)
        assert app.screen.query_one(InspectPane).inspection is not None
        assert text_of(app, "#inspect-verdict").startswith("✔ VALID")


async def test_issue_shows_every_mistake_inline_and_writes_nothing(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.USER, email="carol@example.com")
    app = tokens_app(settings, db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "n")
        await pilot.click("#issue-submit")
        await pilot.pause()
        assert text_of(app, "#issue-email-error") == "Pick the user the token is for."
        email_input: Widget | None = app.screen.query_one("#issue-email", Input)
        assert app.focused is email_input

        app.screen.query_one("#issue-email", Input).value = "carol@example.com"
        app.screen.query_one("#issue-minutes", Input).value = "0"
        await pilot.pause()
        assert "between 1 and 525600 minutes" in text_of(app, "#issue-minutes-error")

        app.screen.query_one("#issue-minutes", Input).value = "5"
        claims = app.screen.query_one("#issue-claims", TextArea)
        for text, problem in (
            ('{"tenant": ', "The claims are not valid JSON: Expecting value at line 1"),
            ('{"n": NaN}', "NaN is not a JSON number"),
            ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
            ("sub=7", "Extra claims cannot override sub."),
            ("no equals sign", "must look like KEY=VALUE"),
        ):
            claims.load_text(text)
            await pilot.pause()
            assert problem in text_of(app, "#issue-claims-error"), text
            await pilot.click("#issue-submit")
            await settle(pilot)
            assert app.focused is claims

        claims.load_text("")
        app.screen.query_one("#issue-email", Input).value = "nobody@example.com"
        await pilot.pause()
        await pilot.click("#issue-submit")
        await settle(pilot)
        assert text_of(app, "#issue-email-error") == "No user has the email nobody@example.com."
        assert app.screen.query_one(IssuePane).issued is None

    assert await list_events(session, AuditFilter(action="token.issue")) == []


async def test_read_only_console_cannot_issue(
    settings: Settings, db: Database, session: AsyncSession, make_user: UserFactory
) -> None:
    await make_user(Role.USER, email="dave@example.com")
    app = tokens_app(settings, db, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "n")
        assert app.screen.query_one("#issue-submit", Button).disabled
        app.screen.query_one("#issue-email", Input).value = "dave@example.com"
        app.screen.query_one("#issue-minutes", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(IssuePane).issued is None

    assert await list_events(session, AuditFilter(action="token.issue")) == []
