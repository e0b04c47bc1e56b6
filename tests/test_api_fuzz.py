"""schemathesis against a real uvicorn server: the API answers only what its document says.

The same engine as `schemathesis run`, on the document served at /openapi.json: its
explicit examples, coverage (boundary values), fuzzing (valid and invalid data) and
stateful phase (following the document's links: create, get, patch, delete a user),
with a fixed seed and a bounded number of examples, as an administrator and as a
`user`, on SQLite and PostgreSQL.

Every request gets a token issued just then: logging out or force-logging out oneself
(both things the fuzzer does) must not blind the rest of the run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import schemathesis
from conftest import UserFactory
from fastapi import FastAPI
from probe_kit import served
from schemathesis.engine import Status, events

from backend.database import Database
from backend.models import Role, User
from backend.services import tokens
from backend.services.policy import AuthPolicy

Case = schemathesis.Case[Any]
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
)
CONFIG: dict[str, Any] = {
    "seed": 14,
    "workers": 1,
    # No example database: a run replays nothing an earlier run stored, so the seed alone
    # decides what is sent (the same in CI's clean clone as here).
    "generation": {"max-examples": 8, "mode": "all", "database": "none"},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    "phases": {"stateful": {"max-steps": 8, "generation": {"max-examples": 20}}},
}


@pytest.fixture
async def server_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


def _minter(db: Database, policy: AuthPolicy, user_id: int) -> Callable[[], str]:
    """Issue a token in the server's loop, from the fuzzer's thread."""
    loop = asyncio.get_running_loop()

    async def issue() -> str:
        async with db.session() as session:
            user = await session.get(User, user_id)
            assert user is not None
            return tokens.issue_token(user, policy).token

    return lambda: asyncio.run_coroutine_threadsafe(issue(), loop).result(timeout=30)


def _schema(url: str, mint: Callable[[], str]) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
    schema.config.update(base_url=url)

    @schema.auth(refresh_interval=None)
    class FreshToken:
        def get(self, _case: Case, _ctx: schemathesis.AuthContext) -> str:
            return mint()

        def set(self, case: Case, token: str, _ctx: schemathesis.AuthContext) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

    return schema


def _answers(recorder: Any) -> Counter[str]:
    """ "METHOD /path status" of every answer a scenario got."""
    return Counter(
        f"{recorder.cases[case_id].value.operation.label} {interaction.response.status_code}"
        for case_id, interaction in recorder.interactions.items()
        if interaction.response is not None
    )


def _run(url: str, mint: Callable[[], str]) -> tuple[list[str], Counter[str]]:
    """(every failure or error, the answers of the stateful phase)."""
    problems: list[str] = []
    stateful: Counter[str] = Counter()
    for event in schemathesis.engine.from_schema(_schema(url, mint)).execute():
        if isinstance(event, events.NonFatalError):
            problems.append(event.info.format())
        if isinstance(event, events.FatalError):
            problems.append(repr(event.exception))
        if not isinstance(event, events.ScenarioFinished) or event.status == Status.SKIP:
            continue
        if event.phase == "stateful":
            stateful += _answers(event.recorder)
        for checks in event.recorder.checks.values():
            problems += [
                f"{event.phase} {event.label}: {check.failure_info.failure.title}\n"
                f"{check.failure_info.code_sample}"
                for check in checks
                if check.status == Status.FAILURE and check.failure_info is not None
            ]
    return problems, stateful


@pytest.mark.parametrize("role", [Role.ADMIN, Role.USER])
async def test_the_api_answers_only_what_its_document_says(
    server_url: str, db: Database, policy: AuthPolicy, make_user: UserFactory, role: Role
) -> None:
    await make_user(Role.ADMIN)  # someone for the user routes to find
    mint = _minter(db, policy, (await make_user(role)).id)
    problems, stateful = await asyncio.to_thread(_run, server_url, mint)
    assert problems == []
    # The stateful phase followed links to real users: read one (yourself, as a `user`),
    # and as an administrator edited one with the version read, or deleted one (which
    # of the two depends on the data the run made: the seed fixes the requests only).
    assert "GET /api/users/{user_id} 200" in stateful
    if role is Role.ADMIN:
        linked_writes = {"PATCH /api/users/{user_id} 200", "DELETE /api/users/{user_id} 204"}
        assert linked_writes & set(stateful)
