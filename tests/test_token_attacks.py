"""Every verification path rejects every attack of issue 4, with the right reason.

The same attack tokens (tests/token_attack_cases.py) go through the HTTP API (401),
the CLI (`token inspect -`, exit 1) and the inspector service (both databases).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from token_attack_cases import ATTACK_IDS, ATTACKS, Attack, make_attack_env

from backend.config import load_settings
from backend.database import Database
from backend.services import migrations, tokens
from backend.services.jwt_codec import InvalidReason, Lane, LaneStatus
from backend.services.policy import AuthPolicy

CLI = Path(sys.executable).with_name("backend-console")
SECRET_KEY = "cli-attack-suite-secret-key-0123456789abcdef"
LANE_OF_REASON = {
    InvalidReason.MALFORMED: Lane.STRUCTURE,
    InvalidReason.TOO_LARGE: Lane.STRUCTURE,
    InvalidReason.ALG_NONE: Lane.SIGNATURE,
    InvalidReason.WRONG_ALGORITHM: Lane.SIGNATURE,
    InvalidReason.BAD_SIGNATURE: Lane.SIGNATURE,
    InvalidReason.EXPIRED: Lane.TIME,
    InvalidReason.NOT_YET_VALID: Lane.TIME,
    InvalidReason.MISSING_CLAIM: Lane.TIME,
    InvalidReason.USER_NOT_FOUND: Lane.POLICY,
    InvalidReason.REVOKED: Lane.POLICY,
    InvalidReason.ISSUED_BEFORE_LOGOUT: Lane.POLICY,
    InvalidReason.ISSUED_BEFORE_ACCOUNT: Lane.POLICY,
}
LANE_ORDER = (Lane.STRUCTURE, Lane.SIGNATURE, Lane.TIME, Lane.POLICY)


# --- the API -------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACK_IDS)
async def test_api_rejects_attack(
    attack: Attack, client: httpx.AsyncClient, session: AsyncSession, policy: AuthPolicy
) -> None:
    env = await make_attack_env(session, policy, "victim@example.com")
    token = await attack.build(env)

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert attack.api_fragment in response.json()["detail"]


async def test_api_accepts_the_untampered_token(
    client: httpx.AsyncClient, session: AsyncSession, policy: AuthPolicy
) -> None:
    env = await make_attack_env(session, policy, "victim@example.com")

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {env.sign()}"})

    assert response.status_code == 200
    assert response.json()["email"] == "victim@example.com"


# --- the inspector -------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACK_IDS)
async def test_inspector_rejects_attack(
    attack: Attack, session: AsyncSession, policy: AuthPolicy
) -> None:
    env = await make_attack_env(session, policy, "victim@example.com")
    token = await attack.build(env)

    check = await tokens.inspect_token(session, policy, token)

    assert not check.valid
    assert check.reason is attack.reason
    assert attack.fragment in check.detail
    failed = LANE_OF_REASON[attack.reason]
    assert check.lanes[failed].status is LaneStatus.FAIL
    earlier = LANE_ORDER[: LANE_ORDER.index(failed)]
    assert all(check.lanes[lane].status is LaneStatus.PASS for lane in earlier)


async def test_inspector_accepts_the_untampered_token(
    session: AsyncSession, policy: AuthPolicy
) -> None:
    env = await make_attack_env(session, policy, "victim@example.com")

    check = await tokens.inspect_token(session, policy, env.sign())

    assert check.valid, check.detail
    assert all(check.lanes[lane].status is LaneStatus.PASS for lane in LANE_ORDER)


# --- the CLI -------------------------------------------------------------------------


@dataclass
class CliWorld:
    """A migrated SQLite file the CLI subprocess and this test process share."""

    database: Database
    policy: AuthPolicy
    environ: dict[str, str]
    counter: int = 0

    def next_email(self) -> str:
        # The file is shared by the module's tests: every test gets its own victim.
        self.counter += 1
        return f"victim{self.counter}@example.com"


@pytest.fixture(scope="module")
async def cli_world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CliWorld]:
    data_dir = tmp_path_factory.mktemp("cli-attacks")
    url = f"sqlite+aiosqlite:///{data_dir / 'cli.db'}"
    settings = load_settings(
        database_url=url, secret_key=SECRET_KEY, bcrypt_rounds=4, data_dir=data_dir
    )
    database = Database(url)
    await migrations.upgrade(database.engine)
    environ = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        "DATA_DIR": str(data_dir),
    }
    yield CliWorld(database, AuthPolicy.from_settings(settings), environ)
    await database.dispose()


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


async def inspect_with_cli(world: CliWorld, token: str, *options: str) -> CliResult:
    """`backend-console token inspect - [options]` with the token on stdin."""
    process = await asyncio.create_subprocess_exec(
        str(CLI),
        "token",
        "inspect",
        "-",
        *options,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=world.environ,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(token.encode()), timeout=60)
    assert process.returncode is not None
    return CliResult(process.returncode, stdout.decode(), stderr.decode())


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACK_IDS)
async def test_cli_rejects_attack(attack: Attack, cli_world: CliWorld) -> None:
    async with cli_world.database.session() as session:
        env = await make_attack_env(session, cli_world.policy, cli_world.next_email())
        token = await attack.build(env)

    result = await inspect_with_cli(cli_world, token, "--json")

    assert result.exit_code == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert verdict["reason"] == attack.reason.value
    assert attack.fragment in verdict["detail"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "attack",
    [attack for attack in ATTACKS if attack.id in ("alg-none", "expired", "revoked-jti")],
    ids=lambda attack: attack.id,
)
async def test_cli_prints_the_reason_for_people(attack: Attack, cli_world: CliWorld) -> None:
    async with cli_world.database.session() as session:
        env = await make_attack_env(session, cli_world.policy, cli_world.next_email())
        token = await attack.build(env)

    result = await inspect_with_cli(cli_world, token)

    assert result.exit_code == 1
    assert attack.fragment in result.stdout + result.stderr
    assert token not in result.stdout + result.stderr


async def test_cli_accepts_the_untampered_token(cli_world: CliWorld) -> None:
    async with cli_world.database.session() as session:
        env = await make_attack_env(session, cli_world.policy, cli_world.next_email())

    result = await inspect_with_cli(cli_world, env.sign(), "--json")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["valid"] is True
