"""The actor of every audit event names the edge it came through: `api:user:<id>` over HTTP
(the new account for its own sign-up; `api:anonymous`, with the client's address, for a
login that failed), `console:<os user>` for the console, `cli:<os user>` for the CLI."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import httpx
from conftest import UserFactory
from fastapi import FastAPI
from probe_kit import served
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from test_cli import migrated_cli
from test_cli_users import create

from backend.config import Settings
from backend.models import AuditEvent, Role
from backend.services import users
from backend.services.audit import list_events
from backend.services.policy import AuthPolicy
from console.context import ConsoleContext

ANN_PASSWORD = "ann's own password"
WRONG_PASSWORD = "a wrong password"
ADMIN_PASSWORD = "the admin's password"


async def events_after(session: AsyncSession, after_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    return list((await session.scalars(query.execution_options(populate_existing=True))).all())


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", data={"username": email, "password": password})


async def test_every_api_event_names_the_signed_in_user_or_the_anonymous_client(
    app: FastAPI,
    session: AsyncSession,
    make_user: UserFactory,
    policy: AuthPolicy,
) -> None:
    admin = await make_user(Role.ADMIN, email="root@example.com", password=ADMIN_PASSWORD)
    start = await newest_event_id(session)  # the fixture's own event is the CLI's
    async with served(app) as url, httpx.AsyncClient(base_url=url) as http:
        sign_up = {"email": "ann@example.com", "password": ANN_PASSWORD}
        ann = (await http.post("/api/auth/register", json=sign_up)).json()["id"]
        token = (await sign_in(http, "ann@example.com", ANN_PASSWORD)).json()["access_token"]
        assert (await http.post("/api/auth/logout", headers=bearer(token))).status_code == 204
        for _ in range(policy.max_failures):
            assert (await sign_in(http, "ann@example.com", WRONG_PASSWORD)).status_code == 401
        as_admin = bearer(
            (await sign_in(http, "root@example.com", ADMIN_PASSWORD)).json()["access_token"]
        )
        new = {"email": "bob@example.com", "password": "bob's password", "role": "user"}
        bob = (await http.post("/api/users", json=new, headers=as_admin)).json()["id"]
        edit = {"version": 1, "full_name": "Ann A."}
        await http.patch(f"/api/users/{ann}", json=edit, headers=as_admin)
        await http.post(f"/api/users/{ann}/unlock", headers=as_admin)
        await http.post(f"/api/users/{ann}/revoke-tokens", headers=as_admin)
        await http.delete(f"/api/users/{bob}", headers=as_admin)
        await http.patch("/api/users/me", json={"full_name": "Root"}, headers=as_admin)
    recorded = await events_after(session, start)
    by_ann, by_admin, anonymous = f"api:user:{ann}", f"api:user:{admin.id}", "api:anonymous"
    assert [(event.actor, event.action) for event in recorded] == [
        (by_ann, "user.register"),
        (by_ann, "auth.login"),
        (by_ann, "token.revoke"),
        *[(anonymous, "auth.login_failed")] * (policy.max_failures - 1),
        (anonymous, "auth.lockout"),
        (by_admin, "auth.login"),
        (by_admin, "user.create"),
        (by_admin, "user.update"),
        (by_admin, "user.unlock"),
        (by_admin, "user.revoke_tokens"),
        (by_admin, "user.delete"),
        (by_admin, "user.update_self"),
    ]
    signing_in = [event for event in recorded if event.action.startswith("auth.")]
    assert {event.changes["client"] for event in signing_in} == {"127.0.0.1"}
    assert all(event.target == f"user:{ann}" for event in signing_in[:-1])
    stored = json.dumps([[e.actor, e.target, e.changes] for e in recorded])
    for secret in (ANN_PASSWORD, WRONG_PASSWORD, ADMIN_PASSWORD, token):
        assert secret not in stored


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def newest_event_id(session: AsyncSession) -> int:
    return (await list_events(session, limit=1))[0].id


async def test_the_console_writes_as_the_os_user_at_its_terminal(
    settings: Settings, session: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    start = await newest_event_id(session)
    context = ConsoleContext.from_settings(settings)
    try:
        assert context.actor.label == f"console:{getpass.getuser()}"
        await users.set_active(session, context.actor, user.id, False)
    finally:
        await context.database.dispose()
    [event] = await events_after(session, start)
    assert (event.actor, event.action) == (f"console:{getpass.getuser()}", "user.deactivate")


async def test_every_cli_write_names_the_os_user(tmp_path: Path) -> None:
    cli = await migrated_cli(tmp_path)
    create(cli, "ann@example.com", "--role", "support")
    cli("users", "set-password", "ann@example.com", "--password-stdin", stdin="another pw\n")
    cli("token", "issue", "ann@example.com").assert_ok()
    cli("users", "seed", "--count", "3").assert_ok()
    cli("audit", "prune", "--older-than", "30").assert_ok()
    listed = cli("audit", "list", "--json").assert_ok().json()["items"]
    assert [item["action"] for item in listed] == [
        "audit.prune", "user.seed", "token.issue", "user.reset_password", "user.create"
    ]  # fmt: skip
    assert {item["actor"] for item in listed} == {f"cli:{getpass.getuser()}"}
