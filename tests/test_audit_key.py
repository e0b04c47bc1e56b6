"""The audit chain is keyed from SECRET_KEY: an edit re-hashed without the key is caught, a
rotated key is told apart from an edit, and `reanchor_chain` signs the chain again."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from conftest import TEST_SECRET_KEY
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import load_settings
from backend.models import AuditChain, AuditEvent, Role
from backend.services import audit_key
from backend.services.actor import Actor
from backend.services.audit import list_events, record_event
from backend.services.audit_chain import (
    HEAD_ID,
    BreakKind,
    ChainBreak,
    ChainReport,
    verify_chain,
)
from backend.services.audit_key import ChainKey, link_content, unkeyed_link_hash
from backend.services.audit_reanchor import REANCHOR_ACTION, reanchor_chain, survey_for_reanchor
from backend.services.errors import Conflict, PermissionDenied

CONSOLE = Actor.console("tester")
NEW_SECRET_KEY = "a-new-secret-key-after-rotation-0123456789-abc"
Signer = Callable[[str, bytes], str]


def use_secret_key(secret_key: str) -> None:
    audit_key.use_settings(load_settings(secret_key=secret_key))


@pytest.fixture
def rotate() -> Iterator[Callable[[], None]]:
    """Call it to change SECRET_KEY, as a rotation does; the test's key comes back after."""
    yield lambda: use_secret_key(NEW_SECRET_KEY)
    use_secret_key(TEST_SECRET_KEY)


async def record(session: AsyncSession, count: int) -> list[int]:
    ids = []
    for number in range(count):
        event = record_event(session, CONSOLE, "thing.touch", f"thing:{number}", {"n": number})
        await session.commit()
        ids.append(event.id)
    return ids


async def forge(session: AsyncSession, event_id: int, actor: str, sign: Signer) -> None:
    """What someone with write access to the table can do: edit an event, then hash its
    link and every later one again with `sign`, and move the head to match."""
    await session.execute(text("UPDATE audit_events SET actor = :a WHERE id = :id"),
                          {"a": actor, "id": event_id})  # fmt: skip
    await session.commit()
    head = await session.get_one(AuditChain, HEAD_ID, populate_existing=True)
    query = select(AuditEvent).order_by(AuditEvent.chain_seq)
    previous, forging = head.anchor_hash, False
    for event in (await session.scalars(query.execution_options(populate_existing=True))).all():
        assert event.chain_seq is not None
        assert event.chain_hash is not None
        forging = forging or event.id == event_id
        if forging:
            content = (event.at, event.actor, event.action, event.target, event.changes)
            event.chain_hash = sign(previous, link_content(event.chain_seq, *content))
        previous = event.chain_hash
    head.head_hash = previous
    await session.commit()


def assert_first_break(report: ChainReport, event_id: int, kind: BreakKind) -> ChainBreak:
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.kind) == (event_id, kind)
    return report.broken


def test_the_chain_key_is_derived_never_the_secret_itself() -> None:
    key = ChainKey.from_secret_key(TEST_SECRET_KEY)
    again = ChainKey.from_secret_key(TEST_SECRET_KEY)
    other = ChainKey.from_secret_key(NEW_SECRET_KEY)
    assert (key.secret, key.key_id) == (again.secret, again.key_id)
    assert key.key_id != other.key_id
    assert len(key.key_id) == 16
    assert TEST_SECRET_KEY.encode() not in key.secret
    assert "secret" not in repr(key)
    assert key.key_id in repr(key)


async def test_links_name_the_key_that_signed_them(session: AsyncSession) -> None:
    await record(session, 2)
    key_ids = (await session.scalars(select(AuditEvent.chain_key_id))).all()
    assert key_ids == [audit_key.active_key().key_id] * 2


async def test_an_edit_rehashed_without_the_key_is_caught(session: AsyncSession) -> None:
    ids = await record(session, 4)
    await forge(session, ids[1], "console:someone-else", unkeyed_link_hash)
    report = await verify_chain(session)
    assert_first_break(report, ids[1], BreakKind.EDITED)


async def test_an_edit_signed_with_a_guessed_key_is_caught(session: AsyncSession) -> None:
    ids = await record(session, 3)
    guessed = ChainKey.from_secret_key("not the key " * 4)
    await forge(session, ids[2], "console:someone-else", guessed.link_hash)
    report = await verify_chain(session)
    assert_first_break(report, ids[2], BreakKind.EDITED)


async def test_a_link_claiming_another_key_is_reported_as_such(session: AsyncSession) -> None:
    ids = await record(session, 2)
    await session.execute(text("UPDATE audit_events SET chain_key_id = 'ffffffffffffffff'"))
    await session.commit()
    report = await verify_chain(session)
    broken = assert_first_break(report, ids[0], BreakKind.OTHER_KEY)
    assert "audit reanchor" in broken.reason


async def test_a_rotated_key_is_told_apart_from_an_edit(
    session: AsyncSession, rotate: Callable[[], None]
) -> None:
    ids = await record(session, 2)
    rotate()
    await record(session, 1)  # signed with the new key, onto the old head
    report = await verify_chain(session)
    broken = assert_first_break(report, ids[0], BreakKind.OTHER_KEY)
    assert "signed with another key" in broken.reason


async def test_reanchor_with_the_previous_key_checks_then_signs_everything(
    session: AsyncSession, rotate: Callable[[], None]
) -> None:
    await record(session, 3)
    rotate()
    await record(session, 1)
    survey = await survey_for_reanchor(session, TEST_SECRET_KEY)
    assert (survey.links, survey.checked, survey.current, survey.needs_acceptance) == (
        4, 4, 1, False
    )  # fmt: skip
    done = await reanchor_chain(session, CONSOLE, previous_secret_key=TEST_SECRET_KEY)
    assert done.signed == 4
    report = await verify_chain(session)
    assert (report.ok, report.checked) == (True, 5)
    [event] = await list_events(session, limit=1)
    assert (event.action, event.actor) == (REANCHOR_ACTION, CONSOLE.label)
    assert event.changes["key_id"] == audit_key.active_key().key_id
    assert event.changes["previous_key_id"] == ChainKey.from_secret_key(TEST_SECRET_KEY).key_id
    assert TEST_SECRET_KEY not in str(event.changes)


async def test_reanchor_without_the_previous_key_needs_the_operators_word(
    session: AsyncSession, rotate: Callable[[], None]
) -> None:
    await record(session, 2)
    rotate()
    with pytest.raises(Conflict, match=re.escape("2 link(s) are signed with a key not given")):
        await reanchor_chain(session, CONSOLE)
    assert not (await verify_chain(session)).ok  # nothing was changed
    done = await reanchor_chain(session, CONSOLE, accept=True)
    assert (done.signed, done.survey.unverifiable) == (2, 2)
    assert (await verify_chain(session)).ok


async def test_reanchor_finds_an_edit_made_under_the_previous_key(
    session: AsyncSession, rotate: Callable[[], None]
) -> None:
    ids = await record(session, 3)
    await session.execute(text("UPDATE audit_events SET target = 'x' WHERE id = :id"),
                          {"id": ids[1]})  # fmt: skip
    await session.commit()
    rotate()
    with pytest.raises(Conflict, match=f"event {ids[1]} does not match its hash"):
        await reanchor_chain(session, CONSOLE, previous_secret_key=TEST_SECRET_KEY)


async def test_reanchor_of_an_intact_chain_changes_nothing(session: AsyncSession) -> None:
    await record(session, 2)
    done = await reanchor_chain(session, CONSOLE)
    assert done.signed == 0
    assert [e.action for e in await list_events(session)] == ["thing.touch"] * 2


async def test_reanchor_links_an_event_written_outside_the_chain_once_accepted(
    session: AsyncSession,
) -> None:
    await record(session, 2)
    session.add(AuditEvent(actor="intruder", action="user.delete", target="user:1", changes={}))
    await session.commit()
    with pytest.raises(Conflict, match=re.escape("1 event(s) were written outside the chain")):
        await reanchor_chain(session, CONSOLE)
    done = await reanchor_chain(session, CONSOLE, accept=True)
    assert (done.signed, done.survey.strays) == (3, 1)
    assert (await verify_chain(session)).ok


async def test_only_an_admin_reanchors(session: AsyncSession) -> None:
    with pytest.raises(PermissionDenied):
        await reanchor_chain(session, Actor.api_user(3, Role.SUPPORT))
