"""`backend-console token ...`: issue and inspect JWTs from the command line."""

from __future__ import annotations

import time
from pathlib import Path

from test_cli import Cli, migrate, migrated_cli, postgresql_cli

from backend.database import Database
from backend.schemas.user import UserCreate
from backend.services.actor import Actor
from backend.services.jwt_codec import encode_token
from backend.services.passwords import PasswordHasher
from backend.services.users import create_user

EMAIL = "ops@example.com"


async def cli_with_user(tmp_path: Path) -> Cli:
    cli = await migrated_cli(tmp_path)
    await add_user(cli.database_url)
    return cli


async def add_user(url: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            data = UserCreate(email=EMAIL, password="correct horse battery", role="support")
            await create_user(session, Actor.cli("test"), data, PasswordHasher(4))
    finally:
        await database.dispose()


async def test_issued_token_prints_alone_and_inspects_as_valid(tmp_path: Path) -> None:
    cli = await cli_with_user(tmp_path)
    issued = cli("token", "issue", EMAIL, "--minutes", "5", "--claim", "scope=read").assert_ok()
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n"
    assert token.count(".") == 2

    report = cli("token", "inspect", token).assert_ok().stdout
    lines = report.splitlines()
    assert lines[0] == "VALID: The token is well-formed, signed and current."
    for lane in ("structure", "signature", "time", "policy"):
        assert any(line.split()[:2] == [lane, "pass"] for line in lines), report
    assert '"scope": "read"' in report
    assert any(line.split()[0] == "exp" and "expires in" in line for line in lines[1:] if line)

    # No argument (and "-" alike) reads the token from stdin, newline and all.
    verdict = cli("token", "inspect", "--json", stdin=token + "\n").assert_ok().json()
    assert verdict["valid"] is True
    assert verdict["payload"]["scope"] == "read"
    assert verdict["lanes"]["policy"]["status"] == "pass"


async def test_issue_json_has_the_token_jti_expiry_and_claims(tmp_path: Path) -> None:
    cli = await cli_with_user(tmp_path)
    document = cli("token", "issue", EMAIL, "--claim", 'tenant={"id":7}', "--json").assert_ok()
    issued = document.json()
    assert set(issued) == {"access_token", "jti", "expires_at", "claims"}
    assert issued["claims"]["tenant"] == {"id": 7}
    assert issued["claims"]["jti"] == issued["jti"]
    assert issued["claims"]["role"] == "support"


async def test_invalid_tokens_exit_1_with_the_reason(tmp_path: Path) -> None:
    cli = await cli_with_user(tmp_path)
    garbage = cli("token", "inspect", "-", stdin="not.a.token")
    assert garbage.code == 1
    assert garbage.stdout.startswith("INVALID: malformed — ")
    assert "Traceback" not in garbage.stderr

    now = int(time.time())
    claims = {"sub": "1", "jti": "abc", "iat": now, "exp": now + 60}
    forged = encode_token(claims, "another-key-that-is-long-enough-0123456789", "HS256")
    verdict = cli("token", "inspect", forged, "--json")
    assert verdict.code == 1
    assert verdict.json()["reason"] == "bad_signature"
    assert verdict.json()["signature_verified"] is False


async def test_issue_refuses_bad_requests_in_one_sentence(tmp_path: Path) -> None:
    cli = await cli_with_user(tmp_path)
    cli("token", "issue", "nobody@example.com").assert_error("nobody@example.com")
    cli("token", "issue", EMAIL, "--claim", "no-equals-sign").assert_error("KEY=VALUE")


async def test_postgres_issue_and_inspect(tmp_path: Path, postgresql_url: str) -> None:
    async with postgresql_cli(tmp_path, postgresql_url) as cli:
        await migrate(cli.database_url)
        await add_user(cli.database_url)
        token = cli("token", "issue", EMAIL).assert_ok().stdout.strip()
        verdict = cli("token", "inspect", token, "--json").assert_ok().json()
        assert verdict["valid"] is True
        assert verdict["claims"]["sub"] == "1"
