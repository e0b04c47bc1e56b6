"""`backend-console call` as a subprocess, against real uvicorn servers on free ports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD, TEST_SECRET_KEY, UserFactory
from fastapi import FastAPI
from probe_kit import odd_app, served
from test_cli import Cli, CliResult, assert_one_sentence, default_cli, free_port
from typer.testing import CliRunner

from backend.database import Database
from backend.models import Role
from console.cli import root


async def run_cli(cli: Cli, *args: str) -> CliResult:
    # The server under test runs in this loop: the CLI must not block it.
    return await asyncio.to_thread(cli, *args)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


@pytest.fixture
def cli(tmp_path: Path, db: Database) -> Cli:
    """The CLI on the served app's database and key (so --as tokens are accepted)."""
    return default_cli(tmp_path).with_env(DATABASE_URL=db.url)


async def test_call_signs_as_any_user_over_http(api: str, cli: Cli, make_user: UserFactory) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user(Role.USER)
    over_http = ("--api-url", api)
    listed = await run_cli(
        cli, "call", "GET", "/api/users?limit=5", "--as", admin.email, *over_http, "-v"
    )
    listed.assert_ok()
    assert {item["email"] for item in listed.json()["items"]} == {admin.email, user.email}
    assert listed.stderr.startswith("200 OK · ")
    refused = await run_cli(cli, "call", "GET", "/api/users", "--as", user.email, *over_http)
    assert refused.code == 1
    assert "administrators and support staff" in refused.json()["detail"]
    body = json.dumps({"version": 1, "full_name": "Renamed"})
    path = f"/api/users/{user.id}"
    edited = await run_cli(
        cli, "call", "PATCH", path, "--as", admin.email, "--json", body, *over_http
    )
    assert edited.assert_ok().json()["full_name"] == "Renamed"


async def test_call_in_process_shows_a_422_with_its_detail(
    cli: Cli, make_user: UserFactory, tmp_path: Path
) -> None:
    admin = await make_user(Role.ADMIN)
    (tmp_path / "bad.json").write_text(json.dumps({"email": "nope", "password": TEST_PASSWORD}))
    bad = await run_cli(
        cli, "call", "POST", "/api/users", "--as", admin.email, "--json-file", "bad.json"
    )
    assert bad.code == 1
    assert "email" in json.dumps(bad.json()["detail"])
    # Piped: the body exactly as received (no indentation added).
    assert "\n" not in bad.stdout
    unknown = await run_cli(cli, "call", "GET", "/api/users/me", "--as", "ghost@example.com")
    unknown.assert_error("No user has the email ghost@example.com.", code=2)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["FETCH", "/health"], "Unknown HTTP method 'FETCH'"),
        (["GET", "health"], "The path must start with /"),
        (["GET", "/x", "--as", "a@example.com", "--token", "t"], "not both"),
        (["POST", "/x", "--json", "{oops"], "--json is not valid JSON"),
        (["POST", "/x", "--json", "{}", "--json-file", "f.json"], "not both"),
        (["POST", "/x", "--json-file", "missing.json"], "Cannot read --json-file"),
        (["GET", "/x", "--query", "novalue"], "--query 'novalue' is not KEY=VALUE"),
        (["GET", "/x", "--api-url", "ftp://h"], "--api-url must start with http://"),
        (["GET", "/x", "-H", "X Trace: 1"], "'X Trace' is not a header name"),
        (["GET", "/x", "--token", "t", "-H", "Authorization: x"], "set by --as or --token"),
    ],
    ids=[
        "method",
        "path",
        "as-and-token",
        "json",
        "json-twice",
        "json-file",
        "query",
        "url",
        "header",
        "authorization-twice",
    ],
)
def test_every_bad_argument_is_one_sentence_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragment: str
) -> None:
    # In-process (each case fails before any I/O); the subprocess cases above and below
    # cover the real entry point.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    result = CliRunner().invoke(root.app, ["call", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert_one_sentence(result.stderr, fragment)


def test_read_only_sends_get_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(root.app, ["--read-only", "call", "DELETE", "/api/users/1"])
    assert result.exit_code == 2
    assert_one_sentence(
        result.stderr, "Only GET requests can be sent with --read-only, not DELETE."
    )


async def test_a_second_server_timeout_refusal_and_findings(tmp_path: Path) -> None:
    cli = default_cli(tmp_path).with_env(PROBE_TIMEOUT_SECONDS="0.3")
    async with served(odd_app()) as url:
        liar = await run_cli(cli, "call", "GET", "/liar", "--api-url", url, "-v")
        slow = await run_cli(cli, "call", "GET", "/sleep?seconds=0.6", "--api-url", url)
    assert liar.assert_ok().json() == {"id": "seven", "extra": True}
    assert "finding: At $.id: 'seven' is not of type 'integer'." in liar.stderr
    slow.assert_error(f"No answer from {url} within 0.3 s (timeout).")
    nowhere = f"http://127.0.0.1:{free_port()}"
    refused = await run_cli(cli, "call", "GET", "/health", "--api-url", nowhere)
    refused.assert_error(f"Connection refused: nothing listens at {nowhere}.")
    history = (tmp_path / "data" / "probe-history.jsonl").read_text().splitlines()
    assert [json.loads(line)["path"] for line in history] == ["/liar", "/sleep", "/health"]
    assert_one_sentence(refused.stderr)


async def test_headers_are_sent_and_a_typed_authorization_is_not_kept(tmp_path: Path) -> None:
    cli = default_cli(tmp_path)
    async with served(odd_app()) as url:
        echoed = await run_cli(
            cli,
            "call",
            "GET",
            "/echo",
            "-H",
            "X-Trace: abc",
            "--header",
            "Authorization: Basic Zm9vOmJhcg==",
            "--api-url",
            url,
        )
    answer = echoed.assert_ok().json()
    assert (answer["x-trace"], answer["authorization"]) == ("abc", "Basic Zm9vOmJhcg==")
    history = (tmp_path / "data" / "probe-history.jsonl").read_text()
    assert "Zm9vOmJhcg==" not in history
    assert json.loads(history)["headers"] == [["X-Trace", "abc"], ["Authorization", "***"]]
