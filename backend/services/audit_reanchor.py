"""`audit reanchor`: sign the whole audit chain again with this SECRET_KEY's key, audited.

After SECRET_KEY changes, the chain's links name the old key and verify reports them as
signed with another key. Given the previous SECRET_KEY, every link is first checked
with the key it names, then all are signed again with the new one; without it (the old
key is lost), what cannot be checked is only signed again once the operator accepts it.
The same applies to links that do not match and events outside the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.services import permissions
from backend.services.actor import Actor
from backend.services.audit import record_event
from backend.services.audit_key import ChainKey, active_key
from backend.services.audit_relink import ChainSurvey, lock_head, sign_again, survey_chain
from backend.services.errors import Conflict

REANCHOR_ACTION = "audit.reanchor"


@dataclass(frozen=True, slots=True)
class Reanchored:
    survey: ChainSurvey
    signed: int  # links signed again; 0 when the chain was up to date


async def survey_for_reanchor(
    session: AsyncSession, previous_secret_key: str | None = None
) -> ChainSurvey:
    """What re-anchoring would find, without changing anything."""
    key, previous = _keys(previous_secret_key)
    survey = await session.run_sync(lambda sync: survey_chain(sync.connection(), key, previous))
    await session.rollback()
    return survey


async def reanchor_chain(
    session: AsyncSession,
    actor: Actor,
    *,
    previous_secret_key: str | None = None,
    accept: bool = False,
) -> Reanchored:
    """Check every link, then sign the whole chain again with this SECRET_KEY's key, in
    one transaction, audited as `audit.reanchor` (nothing happens when it is up to date).

    `accept` signs again what could not be checked. Raises PermissionDenied (not an
    admin), Conflict (something could not be checked and `accept` is False).
    """
    permissions.require_admin(actor, "re-anchor the audit chain")
    key, previous = _keys(previous_secret_key)

    def check_and_sign(sync: Session) -> tuple[ChainSurvey, int]:
        connection = sync.connection()
        lock_head(connection)
        survey = survey_chain(connection, key, previous)
        if survey.up_to_date or (survey.needs_acceptance and not accept):
            return survey, 0
        return survey, sign_again(connection, key)

    survey, signed = await session.run_sync(check_and_sign)
    if not signed:
        await session.rollback()
        if survey.needs_acceptance and not accept:
            raise Conflict(refusal(survey))
        return Reanchored(survey, 0)
    changes: dict[str, Any] = {
        "key_id": key.key_id,
        "previous_key_id": previous.key_id if previous else None,
        "signed": signed,
        **survey.described(),
    }
    record_event(session, actor, REANCHOR_ACTION, "", changes)
    await session.commit()
    return Reanchored(survey, signed)


def refusal(survey: ChainSurvey) -> str:
    """Why the chain is not signed again without the operator's word (one sentence)."""
    reasons = []
    if survey.unverifiable:
        reasons.append(f"{survey.unverifiable:,} link(s) are signed with a key not given")
    if survey.strays:
        reasons.append(f"{survey.strays:,} event(s) were written outside the chain")
    if survey.problem:
        reasons.append(survey.problem)
    return (
        f"The audit chain cannot be checked in full ({'; '.join(reasons)}): give the previous "
        "SECRET_KEY, or accept signing it as it stands."
    )


def _keys(previous_secret_key: str | None) -> tuple[ChainKey, ChainKey | None]:
    previous = ChainKey.from_secret_key(previous_secret_key) if previous_secret_key else None
    return active_key(), previous
