"""The audit log's hash chain: every committed event is a link; tampering is found; prune cuts."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from audit_kit import relink_chain
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database
from backend.models import AuditEvent, Role
from backend.services.actor import Actor
from backend.services.audit import PRUNE_ACTION, list_events, prune_events, record_event
from backend.services.audit_chain import verify_chain
from backend.services.errors import InvalidInput, PermissionDenied

CONSOLE = Actor.console("tester")


async def record(session: AsyncSession, count: int, action: str = "thing.touch") -> list[int]:
    """`count` events, one transaction each; their ids."""
    ids = []
    for number in range(count):
        event = record_event(session, CONSOLE, action, f"thing:{number}", {"n": number})
        await session.commit()
        ids.append(event.id)
    return ids


async def tamper(session: AsyncSession, statement: str, **values: object) -> None:
    await session.execute(text(statement), values)
    await session.commit()


async def test_committed_events_form_a_chain_that_verifies(session: AsyncSession) -> None:
    await record(session, 3)
    record_event(session, CONSOLE, "two.at.once", "", {"first": True})
    record_event(session, CONSOLE, "two.at.once", "", {"first": False})
    await session.commit()
    links = (await session.execute(select(AuditEvent.chain_seq).order_by(AuditEvent.id))).all()
    assert [seq for (seq,) in links] == [1, 2, 3, 4, 5]
    report = await verify_chain(session)
    assert (report.ok, report.checked, report.end.seq) == (True, 5, 5)


async def test_a_rolled_back_event_takes_no_link(session: AsyncSession) -> None:
    record_event(session, CONSOLE, "never.happened")
    await session.rollback()
    await record(session, 1)
    assert (await verify_chain(session)).ok
    assert await session.scalar(select(AuditEvent.chain_seq)) == 1


async def test_an_edited_event_breaks_the_chain_there(session: AsyncSession) -> None:
    ids = await record(session, 4)
    await tamper(
        session, "UPDATE audit_events SET actor = 'console:someone-else' WHERE id = :id", id=ids[2]
    )
    report = await verify_chain(session)
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.seq, report.checked) == (ids[2], 3, 2)
    assert "does not match its hash" in report.broken.reason


async def test_a_deleted_event_breaks_the_chain_at_the_next_one(session: AsyncSession) -> None:
    ids = await record(session, 4)
    await tamper(session, "DELETE FROM audit_events WHERE id = :id", id=ids[1])
    report = await verify_chain(session)
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.seq) == (ids[2], 2)
    assert "missing" in report.broken.reason


async def test_deleting_the_newest_events_is_found(session: AsyncSession) -> None:
    ids = await record(session, 3)
    await tamper(session, "DELETE FROM audit_events WHERE id = :id", id=ids[-1])
    report = await verify_chain(session)
    assert report.broken is not None
    assert "newest events" in report.broken.reason


async def test_reordered_events_break_the_chain(session: AsyncSession) -> None:
    ids = await record(session, 4)
    # Swap the places of the second and third events (through a free value: seq is unique).
    await tamper(session, "UPDATE audit_events SET chain_seq = 100 WHERE id = :id", id=ids[1])
    await tamper(session, "UPDATE audit_events SET chain_seq = 2 WHERE id = :id", id=ids[2])
    await tamper(session, "UPDATE audit_events SET chain_seq = 3 WHERE id = :id", id=ids[1])
    report = await verify_chain(session)
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.seq) == (ids[2], 2)


async def test_an_event_written_around_the_chain_is_found(session: AsyncSession) -> None:
    await record(session, 2)
    session.add(AuditEvent(actor="intruder", action="user.delete", target="user:1", changes={}))
    await session.commit()
    report = await verify_chain(session)
    assert report.broken is not None
    assert "outside the chain" in report.broken.reason


async def test_a_head_moved_back_behind_a_verified_point_is_found(session: AsyncSession) -> None:
    ids = await record(session, 3)
    verified = await verify_chain(session)
    # Delete the newest event and move the head back onto the link before it.
    await tamper(session, "DELETE FROM audit_events WHERE id = :id", id=ids[-1])
    stored = await session.scalar(select(AuditEvent.chain_hash).where(AuditEvent.id == ids[1]))
    await tamper(session, "UPDATE audit_chain SET head_seq = 2, head_hash = :h", h=stored)
    assert (await verify_chain(session)).ok  # from the start, nothing tells
    report = await verify_chain(session, since=verified.end)
    assert report.broken is not None
    assert report.broken.reason == "the chain's head moved back from link 3 to 2"


async def test_verification_goes_on_from_a_verified_point(session: AsyncSession) -> None:
    await record(session, 2)
    first = await verify_chain(session)
    await record(session, 3)
    later = await verify_chain(session, since=first.end)
    assert (later.ok, later.checked, later.end.seq) == (True, 3, 5)


async def test_twenty_concurrent_writers_keep_one_unbroken_chain(db: Database) -> None:
    async def writer(number: int) -> None:
        async with db.session() as session:
            for step in range(3):
                record_event(session, CONSOLE, "concurrent.write", f"writer:{number}", {"s": step})
                await session.commit()

    await asyncio.gather(*(writer(number) for number in range(20)))
    async with db.session() as session:
        report = await verify_chain(session)
        seqs = (await session.scalars(select(AuditEvent.chain_seq))).all()
    assert report.ok, report.broken
    assert sorted(seq for seq in seqs if seq is not None) == list(range(1, 61))


async def age_events(session: AsyncSession, ids: list[int], days: int) -> None:
    """Move events into the past, as if recorded `days` ago (their links re-hashed)."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    events = (await session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)))).all()
    for event in events:
        event.at = moment
    await session.commit()
    await relink_chain(session)


async def test_prune_cuts_the_old_end_and_the_rest_still_verifies(session: AsyncSession) -> None:
    ids = await record(session, 5)
    await age_events(session, ids[:3], days=40)
    result = await prune_events(session, CONSOLE, older_than_days=30)
    assert (result.deleted, result.through_seq) == (3, 3)
    remaining = await list_events(session, limit=10)
    assert [event.action for event in remaining] == [PRUNE_ACTION, "thing.touch", "thing.touch"]
    assert remaining[0].changes["deleted"] == 3
    assert (await verify_chain(session)).ok
    await record(session, 1)
    assert (await verify_chain(session)).ok


async def test_after_a_prune_deleting_the_first_kept_event_is_still_found(
    session: AsyncSession,
) -> None:
    ids = await record(session, 4)
    await age_events(session, ids[:2], days=10)
    await prune_events(session, CONSOLE, older_than_days=5)
    await tamper(session, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    report = await verify_chain(session)
    assert report.broken is not None
    assert "missing" in report.broken.reason


async def test_prune_with_nothing_old_deletes_nothing_and_is_audited(session: AsyncSession) -> None:
    await record(session, 2)
    result = await prune_events(session, CONSOLE, older_than_days=1)
    assert result.deleted == 0
    assert (await list_events(session, limit=1))[0].action == PRUNE_ACTION
    assert (await verify_chain(session)).ok


async def test_prune_refuses_less_than_a_day_and_non_admins(session: AsyncSession) -> None:
    await record(session, 1)
    with pytest.raises(InvalidInput, match="at least one day"):
        await prune_events(session, CONSOLE, older_than_days=0)
    with pytest.raises(PermissionDenied):
        await prune_events(session, Actor.api_user(7, Role.SUPPORT), older_than_days=30)
    assert [event.action for event in await list_events(session)] == ["thing.touch"]


async def test_an_event_of_a_rolled_back_savepoint_takes_no_link(session: AsyncSession) -> None:
    record_event(session, CONSOLE, "kept.before")
    savepoint = await session.begin_nested()
    record_event(session, CONSOLE, "rolled.back")
    await savepoint.rollback()
    record_event(session, CONSOLE, "kept.after")
    await session.commit()
    assert [e.action for e in await list_events(session)] == ["kept.after", "kept.before"]
    assert (await verify_chain(session)).ok
