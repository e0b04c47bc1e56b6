"""Issue 16's findings, one test each, on SQLite and PostgreSQL (finding 5, the schema walk
over real HTTP, is tests/test_security_secret_fields.py).

1. A stolen token survives the victim's password change.
2. A staff password reset leaves the user's tokens alive too.
3. Reactivating an account revives its old tokens.
4. On SQLite a deleted account's token signs in as the next account.
6. The token response is cacheable.
7. No X-Content-Type-Options: nosniff on API answers.
8. The embedded database is readable by every account on the machine.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_PASSWORD, TEST_SECRET_KEY, LoginAs, UserFactory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import SQLITE_FILENAME, Settings, load_settings
from backend.database import Database
from backend.main import create_app
from backend.models import Role
from backend.private_files import make_private_file
from backend.services import migrations, tokens
from backend.services.actor import Actor
from backend.services.export import export_users_csv, open_export_file
from backend.services.jwt_codec import InvalidReason, encode_token
from backend.services.policy import AuthPolicy
from backend.services.user_search import UserQuery

NEW_PASSWORD = "a brand new passphrase"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Files would be 0666 and folders 0777 by default: the modes must not rely on umask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get("/api/users/me", headers=headers)).status_code


async def test_1_a_stolen_token_dies_with_the_victims_password_change(
    client: httpx.AsyncClient,
    session: AsyncSession,
    policy: AuthPolicy,
    make_user: UserFactory,
    login_as: LoginAs,
) -> None:
    victim = await make_user()
    own, stolen = await login_as(victim), await login_as(victim)
    changed = await client.patch(
        "/api/users/me",
        headers=own,
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    assert changed.json()["tokens_valid_after"] is not None
    # Every session ends, the one that changed the password too: sign in again.
    assert (await me(client, stolen), await me(client, own)) == (401, 401)
    check = await tokens.inspect_token(session, policy, stolen["Authorization"].split()[1])
    assert check.reason is InvalidReason.ISSUED_BEFORE_LOGOUT
    assert "issued before the password change at" in check.detail
    assert await me(client, await login_as(victim, NEW_PASSWORD)) == 200


async def test_2_a_staff_password_reset_ends_every_session_of_the_account(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, victim = await make_user(Role.ADMIN), await make_user()
    staff, stolen = await login_as(admin), await login_as(victim)
    reset = await client.patch(
        f"/api/users/{victim.id}", headers=staff, json={"version": 1, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    assert await me(client, stolen) == 401
    assert await me(client, staff) == 200  # the admin's own session is not the victim's
    assert await me(client, await login_as(victim, NEW_PASSWORD)) == 200


async def test_3_reactivating_an_account_does_not_revive_its_old_tokens(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, victim = await make_user(Role.ADMIN), await make_user()
    staff, stolen = await login_as(admin), await login_as(victim)
    for version, active in ((1, False), (2, True)):
        edited = await client.patch(
            f"/api/users/{victim.id}",
            headers=staff,
            json={"version": version, "is_active": active},
        )
        assert edited.status_code == 200
        assert await me(client, stolen) == 401
    assert await me(client, await login_as(victim)) == 200


async def test_4_a_deleted_accounts_token_never_signs_in_as_the_next_account(
    client: httpx.AsyncClient,
    policy: AuthPolicy,
    make_user: UserFactory,
    login_as: LoginAs,
) -> None:
    admin = await make_user(Role.ADMIN)
    staff = await login_as(admin)
    newest = await make_user(email="newest@example.com")
    stolen = await login_as(newest)
    assert (await client.delete(f"/api/users/{newest.id}", headers=staff)).status_code == 204
    again = await client.post(
        "/api/auth/register", json={"email": "newest@example.com", "password": TEST_PASSWORD}
    )
    assert again.status_code == 201
    assert again.json()["id"] != newest.id
    assert await me(client, stolen) == 401
    # Whatever the id says, a token from before its account existed is refused, to the
    # second (iat is whole seconds, rounded down).
    created = math.floor(dt.datetime.fromisoformat(again.json()["created_at"]).timestamp())
    for iat, status in ((created - 1, 401), (created, 200)):
        claims = {"sub": str(again.json()["id"]), "iat": iat, "exp": iat + 600, "jti": f"j{iat}"}
        forged = encode_token(claims, policy.signing_key, policy.algorithm)
        assert await me(client, {"Authorization": f"Bearer {forged}"}) == status


async def test_6_the_token_response_is_not_cacheable(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user()
    for password, status in ((TEST_PASSWORD, 200), ("wrong password", 401)):
        answer = await client.post(
            "/api/auth/login", data={"username": user.email, "password": password}
        )
        assert answer.status_code == status
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Pragma"] == "no-cache"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_7_every_answer_is_nosniff_and_authenticated_answers_are_not_stored(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    signed_in = await login_as(await make_user())
    authenticated = await client.get("/api/users/me", headers=signed_in)
    refused = await client.get("/api/users/me", headers={"Authorization": "Bearer nonsense"})
    for answer, status in ((authenticated, 200), (refused, 401)):
        assert answer.status_code == status
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers.get_list("Cache-Control") == ["no-store"]
        assert "Pragma" not in answer.headers
    missing = await client.get("/api/nothing-here")
    invalid = await client.post("/api/auth/register", json={"email": "not an email"})
    for answer, status in ((missing, 404), (invalid, 422)):
        assert answer.status_code == status
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "Cache-Control" not in answer.headers


async def test_7_an_unhandled_error_is_nosniff_too(settings: Settings) -> None:
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/boom", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 500
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"


async def test_8_the_embedded_database_and_exports_are_readable_by_their_owner_only(
    session: AsyncSession, make_user: UserFactory, tmp_path: Path, open_umask: None
) -> None:
    data_dir = tmp_path / "fresh" / "data"
    settings = load_settings(database_url="", secret_key=TEST_SECRET_KEY, data_dir=data_dir)
    assert settings.uses_default_database
    database = Database(settings.resolved_database_url)
    try:
        await migrations.upgrade(database.engine)
        async with database.engine.begin() as connection:  # a write: -wal and -shm exist
            await connection.execute(text("DELETE FROM revoked_tokens"))
            files = [data_dir / f"{SQLITE_FILENAME}{suffix}" for suffix in ("", "-wal", "-shm")]
            assert [mode(file) for file in files] == [0o600] * 3
    finally:
        await database.dispose()
    assert mode(data_dir) == 0o700
    # Exports hold personal data: 0600 on either database.
    await make_user()
    export = tmp_path / "users.csv"
    with open_export_file(export) as out:
        assert await export_users_csv(session, Actor.console("tester"), UserQuery(), out) == 1
    assert mode(export) == 0o600


async def test_8_files_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    database_file = tmp_path / SQLITE_FILENAME
    wal = tmp_path / f"{SQLITE_FILENAME}-wal"
    log = tmp_path / "console-server.log"
    for file in (database_file, wal, log):
        file.touch(mode=0o644)
        file.chmod(0o644)
    database = Database(f"sqlite+aiosqlite:///{database_file}")
    await database.dispose()
    make_private_file(log)  # as the console does before its server logs a line
    assert [mode(file) for file in (database_file, wal, log)] == [0o600] * 3
