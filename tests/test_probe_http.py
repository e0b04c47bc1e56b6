"""The probe service against real uvicorn servers on free ports (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_PASSWORD, UserFactory
from fastapi import FastAPI
from probe_kit import BIG_BODY_BYTES, odd_app, served
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from test_cli import free_port

from backend.config import Settings
from backend.database import Database
from backend.models import AuditEvent, Role
from backend.services import probe, probe_history
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy
from backend.services.probe import Catalog, ProbeOutcome
from backend.services.probe_auth import AuthMode, ProbeAuth, ProbeSigner, token_for
from backend.services.probe_client import BODY_KEEP_BYTES, ProbeFailed, ProbeRequest, ProbeTarget
from backend.services.probe_history import ProbeHistory
from backend.services.probe_share import as_curl, as_httpie

TIMEOUT = 10.0


class Prober:
    """The probe as the screen drives it: one target, its catalog, a history."""

    def __init__(self, target: ProbeTarget, catalog: Catalog, history: ProbeHistory | None) -> None:
        self.target = target
        self.catalog = catalog
        self.history = history

    async def send(
        self, request: ProbeRequest, token: str | None = None, label: str = "no auth"
    ) -> ProbeOutcome:
        async with self.target.client(TIMEOUT) as client:
            return await probe.probe(
                client,
                self.target,
                self.catalog,
                request,
                token=token,
                auth_label=label,
                history=self.history,
            )


@pytest.fixture
async def prober(app: FastAPI, data_dir: Path) -> AsyncIterator[Prober]:
    async with served(app) as url:
        target = ProbeTarget(url)
        catalog = await probe.fetch_catalog(target, timeout_seconds=TIMEOUT)
        yield Prober(target, catalog, ProbeHistory(data_dir))


async def as_user(db: Database, policy: AuthPolicy, email: str) -> str:
    token = await token_for(
        ProbeAuth(AuthMode.AS_USER, email=email), db, Actor.console("t"), policy
    )
    assert token is not None
    return token


async def test_a_public_route_answers_without_auth(prober: Prober) -> None:
    outcome = await prober.send(ProbeRequest("GET", "/health"))
    assert outcome.response is not None
    assert outcome.response.status == 200
    assert json.loads(outcome.response.body)["status"] == "ok"
    assert any(r.label == "GET /api/users" for r in prober.catalog.routes)


async def test_as_user_mints_an_audited_token_admin_200_user_403(
    prober: Prober, make_user: UserFactory, db: Database, policy: AuthPolicy, session: AsyncSession
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user(Role.USER)
    listing = ProbeRequest("GET", "/api/users", query=(("limit", "5"),))
    as_admin = await prober.send(listing, await as_user(db, policy, admin.email))
    as_plain = await prober.send(listing, await as_user(db, policy, user.email))
    assert as_admin.response is not None
    assert as_admin.response.status == 200
    assert as_admin.findings == ()
    assert as_plain.response is not None
    assert as_plain.response.status == 403
    assert "administrators and support staff" in json.loads(as_plain.response.body)["detail"]
    issued = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "token.issue"))
    ).all()
    assert len(issued) == 2
    assert all("jti" in event.changes for event in issued)


async def test_a_path_parameter_and_a_body_reach_the_route(
    prober: Prober, make_user: UserFactory, db: Database, policy: AuthPolicy
) -> None:
    admin = await make_user(Role.ADMIN)
    target = await make_user(Role.USER)
    request = ProbeRequest(
        "PATCH",
        "/api/users/{user_id}",
        path_params={"user_id": str(target.id)},
        json_body=json.dumps({"version": 1, "full_name": "Renamed"}),
    )
    outcome = await prober.send(request, await as_user(db, policy, admin.email))
    assert outcome.response is not None, outcome.failure
    assert (outcome.response.status, json.loads(outcome.response.body)["full_name"]) == (
        200,
        "Renamed",
    )


async def test_bad_input_gets_a_422_with_its_detail(
    prober: Prober, make_user: UserFactory, db: Database, policy: AuthPolicy
) -> None:
    admin = await make_user(Role.ADMIN)
    request = ProbeRequest(
        "POST", "/api/users", json_body=json.dumps({"email": "nope", "password": TEST_PASSWORD})
    )
    outcome = await prober.send(request, await as_user(db, policy, admin.email))
    assert outcome.response is not None
    assert outcome.response.status == 422
    assert "email" in json.dumps(json.loads(outcome.response.body)["detail"])


async def test_a_minted_token_is_reused_while_fresh(
    make_user: UserFactory, db: Database, policy: AuthPolicy, session: AsyncSession
) -> None:
    admin = await make_user(Role.ADMIN)
    signer = ProbeSigner(db, Actor.console("t"), policy)
    auth = ProbeAuth(AuthMode.AS_USER, email=admin.email.upper())
    first, second = await signer.token(auth), await signer.token(auth)
    assert first == second == signer.minted_for(admin.email)
    issued = await session.scalars(select(AuditEvent).where(AuditEvent.action == "token.issue"))
    assert len(issued.all()) == 1


def test_history_keeps_the_newest_entries_once_it_grows_large(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_history, "TRIM_ABOVE_BYTES", 2000)
    monkeypatch.setattr(probe_history, "MAX_ENTRIES", 3)
    history = ProbeHistory(data_dir)
    for number in range(30):
        request = ProbeRequest("GET", f"/n/{number}")
        history.append(
            probe_history.entry_for(request, "no auth", status=200, outcome="200", elapsed_ms=1)
        )
    paths = [entry.path for entry in history.entries()]
    assert paths[0] == "/n/29"
    assert len(paths) <= 3 + 2000 // 150
    assert stat.S_IMODE(history.path.stat().st_mode) == 0o600


async def test_an_unknown_user_or_a_missing_token_is_one_sentence(
    db: Database, policy: AuthPolicy
) -> None:
    with pytest.raises(Exception, match=r"No user has the email ghost@example\.com\."):
        await as_user(db, policy, "ghost@example.com")
    with pytest.raises(Exception, match=r"Paste the token to send\."):
        await token_for(ProbeAuth(AuthMode.TOKEN), db, Actor.console("t"), policy)


async def test_history_survives_a_restart_newest_first_without_any_secret(
    prober: Prober, make_user: UserFactory, db: Database, policy: AuthPolicy, data_dir: Path
) -> None:
    admin = await make_user(Role.ADMIN)
    token = await as_user(db, policy, admin.email)
    login = ProbeRequest(
        "POST", "/api/auth/login", form=(("username", admin.email), ("password", TEST_PASSWORD))
    )
    await prober.send(login)
    await prober.send(ProbeRequest("GET", "/api/users/me"), token, f"as {admin.email}")
    reopened = ProbeHistory(data_dir)
    entries = reopened.entries()
    assert [(e.method, e.path, e.status) for e in entries] == [
        ("GET", "/api/users/me", 200),
        ("POST", "/api/auth/login", 200),
    ]
    assert entries[0].auth == f"as {admin.email}"
    assert dict(entries[1].form or []) == {"username": admin.email, "password": "***"}
    assert [e.path for e in reopened.entries("login")] == ["/api/auth/login"]
    text = reopened.path.read_text()
    assert token not in text
    assert TEST_PASSWORD not in text
    assert stat.S_IMODE(reopened.path.stat().st_mode) == 0o600


async def test_copy_as_curl_reproduces_the_request(
    prober: Prober, make_user: UserFactory, db: Database, policy: AuthPolicy
) -> None:
    admin = await make_user(Role.ADMIN)
    token = await as_user(db, policy, admin.email)
    request = ProbeRequest("GET", "/api/users", query=(("search", admin.email), ("limit", "2")))
    outcome = await prober.send(request, token)
    assert outcome.response is not None
    command = as_curl(request, prober.target.base_url, token, reveal=True)
    curl = await asyncio.to_thread(
        subprocess.run, ["sh", "-c", command], capture_output=True, text=True, check=True
    )
    assert json.loads(curl.stdout) == json.loads(outcome.response.body)
    register = ProbeRequest(
        "POST",
        "/api/auth/register",
        json_body=json.dumps({"email": "o'brien@example.com", "password": TEST_PASSWORD}),
    )
    posted = await asyncio.to_thread(
        subprocess.run,
        ["sh", "-c", as_curl(register, prober.target.base_url, None) + " -w ' %{http_code}'"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert posted.stdout.endswith(" 201")
    assert json.loads(posted.stdout.rsplit(" ", 1)[0])["email"] == "o'brien@example.com"
    masked = as_curl(request, prober.target.base_url, token)
    assert token not in masked
    assert "Bearer " in masked
    assert token not in as_httpie(request, prober.target.base_url, token)


def test_httpie_commands_carry_query_json_and_form_fields() -> None:
    base = "http://127.0.0.1:8000"
    listing = ProbeRequest("GET", "/api/users", query=(("search", "a b"),))
    assert as_httpie(listing, base, "tok", reveal=True) == (
        "http --ignore-stdin GET http://127.0.0.1:8000/api/users 'search==a b' "
        "'Authorization:Bearer tok'"
    )
    body = ProbeRequest("POST", "/api/users", json_body='{\n  "email": "a@b.co"\n}')
    assert as_httpie(body, base, None).endswith(
        """ Content-Type:application/json --raw '{"email":"a@b.co"}'"""
    )
    login = ProbeRequest("POST", "/api/auth/login", form=(("username", "a@b.co"),))
    assert as_httpie(login, base, None) == (
        "http --ignore-stdin --form POST http://127.0.0.1:8000/api/auth/login username=a@b.co"
    )


async def test_in_process_asgi_target_needs_no_server(
    app: FastAPI, make_user: UserFactory, db: Database, policy: AuthPolicy, data_dir: Path
) -> None:
    admin = await make_user(Role.ADMIN)
    target = ProbeTarget.in_process(app)
    catalog = await probe.fetch_catalog(target, timeout_seconds=TIMEOUT)
    outcome = await Prober(target, catalog, ProbeHistory(data_dir)).send(
        ProbeRequest("GET", "/api/users/me"), await as_user(db, policy, admin.email)
    )
    assert outcome.response is not None
    assert json.loads(outcome.response.body)["email"] == admin.email


# --- no database: the odd test app, and targets that do not answer ---------------------


@pytest.fixture(scope="module")
async def odd() -> AsyncIterator[Prober]:
    async with served(odd_app()) as url:
        target = ProbeTarget(url)
        catalog = await probe.fetch_catalog(target, timeout_seconds=TIMEOUT)
        yield Prober(target, catalog, None)


async def test_a_route_that_sleeps_times_out_in_one_sentence(odd: Prober) -> None:
    async with odd.target.client(0.3) as client:
        outcome = await probe.probe(
            client,
            odd.target,
            odd.catalog,
            # Sleeps just past the timeout: the server's shutdown waits for it.
            ProbeRequest("GET", "/sleep", query=(("seconds", "0.6"),)),
            token=None,
            auth_label="no auth",
            history=None,
        )
    assert outcome.failure is not None
    assert outcome.failure.kind == "timeout"
    assert (
        outcome.failure.message == f"No answer from {odd.target.base_url} within 0.3 s (timeout)."
    )


async def test_a_schema_mismatch_and_an_undocumented_status_are_findings(odd: Prober) -> None:
    liar = await odd.send(ProbeRequest("GET", "/liar"))
    assert liar.response is not None
    assert liar.response.status == 200
    assert "At $.id: 'seven' is not of type 'integer'." in liar.findings
    assert any("'name' is a required property" in f for f in liar.findings)
    teapot = await odd.send(ProbeRequest("GET", "/teapot"))
    assert teapot.findings == ("Status 418 is not documented for this route.",)


async def test_a_10_mb_answer_keeps_its_first_part_only(odd: Prober) -> None:
    outcome = await odd.send(ProbeRequest("GET", "/big"))
    response = outcome.response
    assert response is not None
    assert (len(response.body), response.size) == (BODY_KEEP_BYTES, BIG_BODY_BYTES)
    assert response.left_out == BIG_BODY_BYTES - BODY_KEEP_BYTES


@pytest.mark.parametrize(
    ("base_url", "kind", "sentence"),
    [
        ("http://127.0.0.1:{port}", "refused", "Connection refused: nothing listens at {url}."),
        (
            "http://no-such-host.invalid",
            "dns",
            "DNS failure: the host name no-such-host.invalid could not be resolved.",
        ),
    ],
    ids=["refused", "dns"],
)
async def test_no_answer_is_one_sentence_per_cause(base_url: str, kind: str, sentence: str) -> None:
    url = base_url.format(port=free_port())
    with pytest.raises(ProbeFailed) as caught:
        await probe.fetch_catalog(ProbeTarget(url), timeout_seconds=TIMEOUT)
    assert (caught.value.kind, caught.value.message) == (kind, sentence.format(url=url))


async def test_tls_to_a_plain_http_server_is_a_tls_error(odd: Prober) -> None:
    url = odd.target.base_url.replace("http://", "https://")
    with pytest.raises(ProbeFailed) as caught:
        await probe.fetch_catalog(ProbeTarget(url), timeout_seconds=TIMEOUT)
    assert caught.value.kind == "tls"
    assert caught.value.message.startswith(f"TLS error talking to {url}: ")


def test_settings_carry_the_probe_timeout(settings: Settings) -> None:
    assert settings.probe_timeout_seconds == 30.0


def test_an_http_client_takes_no_proxy_from_the_environment() -> None:
    client = ProbeTarget("http://127.0.0.1:1").client(1)
    assert isinstance(client, httpx.AsyncClient)
    assert client.trust_env is False
