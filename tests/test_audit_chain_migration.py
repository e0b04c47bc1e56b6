"""Revision 0005 on a database with history: events from before the chain (0003) and links
of the unkeyed chain (0004) all become links signed with the key, and verify covers them;
a chain that does not check is left for `audit reanchor`; the downgrade gives 0004 back.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import JSON, bindparam, text

from backend.database import Database, UTCDateTime
from backend.services import migrations
from backend.services.actor import Actor
from backend.services.audit import list_events, record_event
from backend.services.audit_chain import BreakKind, verify_chain
from backend.services.audit_key import active_key, link_content, unkeyed_link_hash
from backend.services.audit_reanchor import reanchor_chain
from backend.services.errors import Conflict

START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
INSERT = text(
    "INSERT INTO audit_events (at, actor, action, target, changes)"
    " VALUES (:at, :actor, :action, :target, :changes)"
).bindparams(bindparam("at", type_=UTCDateTime))

LINKED_INSERT = text(
    "INSERT INTO audit_events (at, actor, action, target, changes, chain_seq, chain_hash)"
    " VALUES (:at, :actor, :action, :target, :changes, :seq, :hash)"
).bindparams(bindparam("at", type_=UTCDateTime))


def event(number: int) -> dict[str, object]:
    return {
        "at": START + dt.timedelta(minutes=number),
        "actor": "cli:ann",
        "action": "user.update",
        "target": f"user:{number}",
        "changes": json.dumps({"full_name": [f"old {number}", f"new {number}"]}),
    }


async def write_unlinked(database: Database, numbers: range) -> None:
    """Events as revision 0003 wrote them: no link."""
    async with database.engine.begin() as connection:
        for number in numbers:
            await connection.execute(INSERT, event(number))


async def write_unkeyed_links(database: Database, numbers: range) -> None:
    """Events as revision 0004 wrote them: links of a plain SHA-256 chain."""
    async with database.engine.begin() as connection:
        head = (await connection.execute(text("SELECT head_seq, head_hash FROM audit_chain"))).one()
        seq, previous = head
        for number in numbers:
            values = event(number)
            seq += 1
            content = link_content(
                seq,
                values["at"],  # type: ignore[arg-type]
                str(values["actor"]),
                str(values["action"]),
                str(values["target"]),
                json.loads(str(values["changes"])),
            )
            previous = unkeyed_link_hash(previous, content)
            await connection.execute(LINKED_INSERT, {**values, "seq": seq, "hash": previous})
        await connection.execute(
            text("UPDATE audit_chain SET head_seq = :seq, head_hash = :hash"),
            {"seq": seq, "hash": previous},
        )


async def links(database: Database) -> list[tuple[int, int, str | None]]:
    """(event id, link, key id) of every event, in chain order."""
    query = text("SELECT id, chain_seq, chain_key_id FROM audit_events ORDER BY chain_seq")
    async with database.engine.connect() as connection:
        return [(row[0], row[1], row[2]) for row in await connection.execute(query)]


async def history_before_0005(database: Database) -> None:
    """Three events written at 0003, then three links of 0004's unkeyed chain."""
    await migrations.upgrade(database.engine, "0003")
    await write_unlinked(database, range(1, 4))
    await migrations.upgrade(database.engine, "0004")
    await write_unkeyed_links(database, range(4, 7))


async def test_0005_links_the_events_older_than_the_chain_and_signs_every_link(
    fresh: Database,
) -> None:
    await history_before_0005(fresh)
    await migrations.upgrade(fresh.engine, "0005")
    key_id = active_key().key_id
    # The events from before the chain come first, in id order, then 0004's links.
    assert await links(fresh) == [(n, n, key_id) for n in range(1, 7)]
    async with fresh.session() as session:
        report = await verify_chain(session)
        assert (report.ok, report.checked) == (True, 6)
        record_event(session, Actor.cli("ann"), "user.delete", "user:1")
        await session.commit()
        assert (await verify_chain(session)).checked == 7
        # Nothing was rewritten but the links: every event reads as it was written.
        listed = await list_events(session, limit=10)
    assert [e.changes.get("full_name", [""])[-1] for e in listed[1:]] == [
        f"new {n}" for n in range(6, 0, -1)
    ]


async def test_0005_leaves_a_chain_that_does_not_check_to_reanchor(fresh: Database) -> None:
    await history_before_0005(fresh)
    async with fresh.engine.begin() as connection:  # edited after 0004 linked it
        await connection.execute(text("UPDATE audit_events SET actor = 'cli:eve' WHERE id = 5"))
    await migrations.upgrade(fresh.engine, "0005")
    assert [key_id for _id, _seq, key_id in await links(fresh)] == [None] * 6
    async with fresh.session() as session:
        report = await verify_chain(session)
        assert report.broken is not None
        assert report.broken.kind is BreakKind.UNSIGNED
        with pytest.raises(Conflict, match="event 5 does not match its hash"):
            await reanchor_chain(session, Actor.cli("ann"))
        done = await reanchor_chain(session, Actor.cli("ann"), accept=True)
        assert (done.signed, done.survey.older_unlinked) == (6, 3)
        assert (await verify_chain(session)).ok
        [reanchored] = await list_events(session, limit=1)
    assert reanchored.action == "audit.reanchor"
    assert reanchored.changes["problem"] == "event 5 does not match its hash (edited, or moved)"


async def test_0005_down_gives_0004_an_unkeyed_chain_and_up_signs_it_again(
    fresh: Database,
) -> None:
    await history_before_0005(fresh)
    await migrations.upgrade(fresh.engine, "0005")
    await migrations.downgrade(fresh.engine, "0004")
    async with fresh.engine.connect() as connection:
        query = text(
            "SELECT chain_seq, chain_hash, at, actor, action, target, changes"
            " FROM audit_events ORDER BY chain_seq"
        ).columns(at=UTCDateTime, changes=JSON)
        rows = (await connection.execute(query)).all()
        head_hash = await connection.scalar(text("SELECT head_hash FROM audit_chain"))
    previous = "0" * 64
    for seq, stored, *stored_event in rows:
        content = link_content(seq, *stored_event)
        previous = unkeyed_link_hash(previous, content)
        assert stored == previous, f"link {seq} is not 0004's hash"
    assert head_hash == previous
    await migrations.upgrade(fresh.engine, "0005")
    async with fresh.session() as session:
        assert (await verify_chain(session)).checked == 6
