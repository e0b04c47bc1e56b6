"""/api/auth over HTTP: register, login with lockout, logout, and every bad token -> 401."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TEST_PASSWORD, LoginAs, UserFactory, make_settings
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.database import Database, utcnow
from backend.main import create_app
from backend.models import AuditEvent, Role, User
from backend.services.jwt_codec import encode_token
from backend.services.policy import AuthPolicy

LOGIN = "/api/auth/login"
REGISTER = "/api/auth/register"
LOGOUT = "/api/auth/logout"
ME = "/api/users/me"
# 37 characters but 73 bytes in UTF-8: one byte over bcrypt's limit.
MULTIBYTE_73 = "é" * 36 + "x"


@asynccontextmanager
async def api_client(
    db: Database, data_dir: Path, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built with non-default settings, on the test's database."""
    app = create_app(make_settings(db.url, data_dir, **overrides), database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, data={"username": email, "password": password})


async def count_rows(session: AsyncSession, model: type[User] | type[AuditEvent]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def reload(session: AsyncSession, user: User) -> User:
    fresh = await session.get(User, user.id, populate_existing=True)
    assert fresh is not None
    return fresh


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- register ------------------------------------------------------------------------


async def test_register_creates_a_user_account_that_can_log_in(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTER, json={"email": " New@Example.COM ", "password": TEST_PASSWORD, "full_name": "N"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["email"], body["role"], body["full_name"]) == ("new@example.com", "user", "N")
    assert not {"password", "hashed_password"} & body.keys()
    assert (await login(client, "new@example.com", TEST_PASSWORD)).status_code == 200


async def test_register_refuses_a_role_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(
        REGISTER, json={"email": "a@example.com", "password": TEST_PASSWORD, "role": "admin"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]
    assert await count_rows(session, User) == 0


async def test_register_duplicate_email_in_any_case_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await client.post(
        REGISTER, json={"email": "dup@example.com", "password": TEST_PASSWORD}
    )
    assert first.status_code == 201
    response = await client.post(
        REGISTER, json={"email": "DUP@Example.com", "password": "another password"}
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "A user with email dup@example.com already exists."}
    assert await count_rows(session, User) == 1
    assert await count_rows(session, AuditEvent) == 1  # only the first registration


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"email": "not-an-email", "password": TEST_PASSWORD}, "email", "valid email"),
        ({"email": "a@example.com", "password": "7 bytes"}, "password", "at least 8 bytes"),
        ({"email": "a@example.com", "password": MULTIBYTE_73}, "password", "at most 72 bytes"),
        ({"email": "a@example.com", "password": "nul\x00password"}, "password", "NUL"),
        ({"email": "a@example.com"}, "password", "Field required"),
    ],
    ids=["invalid-email", "7-byte-password", "73-byte-password", "nul-password", "no-password"],
)
async def test_register_bad_input_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    payload: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = await client.post(REGISTER, json=payload)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field]
    assert message in error["msg"]
    assert await count_rows(session, User) == 0
    assert await count_rows(session, AuditEvent) == 0


# --- login -----------------------------------------------------------------------------


async def test_login_returns_a_bearer_token(
    client: httpx.AsyncClient, make_user: UserFactory, session: AsyncSession
) -> None:
    user = await make_user(email="ann@example.com")
    response = await login(client, "ANN@example.com", TEST_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert 30 * 60 - 5 <= body["expires_in"] <= 30 * 60
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.json()["id"] == user.id
    fresh = await reload(session, user)
    assert fresh.last_login_at is not None
    assert fresh.version == user.version  # a login must not invalidate an editor's version


async def test_wrong_password_gets_the_same_401_as_an_unknown_email(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user()
    wrong = await login(client, user.email, "wrong password")
    unknown = await login(client, "nobody@example.com", TEST_PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect email or password."}
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "password",
    ["x" * 100, TEST_PASSWORD + "\x00", "\x00", MULTIBYTE_73, TEST_PASSWORD + "x" * 80],
    ids=["100-bytes", "trailing-nul", "only-nul", "73-multibyte", "correct-plus-padding"],
)
async def test_hostile_passwords_get_the_plain_401(
    client: httpx.AsyncClient, make_user: UserFactory, password: str
) -> None:
    user = await make_user()
    response = await login(client, user.email, password)
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password."}


@pytest.mark.parametrize("username", ["nul\x00@example.com", "\x00", "x" * 400])
async def test_hostile_usernames_get_the_plain_401(
    client: httpx.AsyncClient, username: str
) -> None:
    response = await login(client, username, TEST_PASSWORD)
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password."}


async def test_password_longer_than_72_bytes_never_matches_its_72_byte_prefix(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    # bcrypt ignores bytes after the 72nd; accepting them would let `prefix + anything` in.
    prefix = "p" * 72
    user = await make_user(password=prefix)
    assert (await login(client, user.email, prefix + "anything")).status_code == 401
    assert (await login(client, user.email, prefix)).status_code == 200


async def test_inactive_account_gets_the_plain_401(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user()
    headers = await login_as(admin)
    deactivate = await client.patch(
        f"/api/users/{user.id}", headers=headers, json={"version": user.version, "is_active": False}
    )
    assert deactivate.status_code == 200, deactivate.text
    response = await login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password."}


async def test_sixth_wrong_password_locks_the_account_with_retry_after(
    client: httpx.AsyncClient, make_user: UserFactory, session: AsyncSession
) -> None:
    user = await make_user()
    statuses = [(await login(client, user.email, "wrong password")).status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert (await login(client, user.email, "wrong password")).status_code == 423
    sixth = await login(client, user.email, TEST_PASSWORD)  # even the right password
    assert sixth.status_code == 423
    assert "locked for 15 more minute(s)" in sixth.json()["detail"]
    assert 14 * 60 < int(sixth.headers["Retry-After"]) <= 15 * 60
    locked_until = (await reload(session, user)).locked_until
    assert locked_until is not None
    assert dt.timedelta(minutes=14) < locked_until - utcnow() <= dt.timedelta(minutes=15)


async def test_lockout_length_follows_the_setting_and_ends(
    db: Database, data_dir: Path, make_user: UserFactory, session: AsyncSession
) -> None:
    user = await make_user()
    async with api_client(db, data_dir, login_max_failures=2, login_lockout_minutes=1) as client:
        for _ in range(2):
            assert (await login(client, user.email, "wrong password")).status_code == 401
        locked = await login(client, user.email, TEST_PASSWORD)
        assert locked.status_code == 423
        assert 0 < int(locked.headers["Retry-After"]) <= 60
        # Travel to the end of the lockout instead of sleeping through a minute.
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
        assert (await login(client, user.email, TEST_PASSWORD)).status_code == 200


async def test_unlock_lets_a_locked_user_log_in_at_once(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    support = await make_user(Role.SUPPORT)
    user = await make_user()
    headers = await login_as(support)
    for _ in range(6):
        await login(client, user.email, "wrong password")
    assert (await login(client, user.email, TEST_PASSWORD)).status_code == 423
    unlocked = await client.post(f"/api/users/{user.id}/unlock", headers=headers)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked_until"] is None
    assert (await login(client, user.email, TEST_PASSWORD)).status_code == 200
    assert (await reload(session, user)).failed_login_count == 0


async def test_login_form_needs_username_and_password(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, data={"username": "a@example.com"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


# --- logout and tokens -----------------------------------------------------------------


async def test_logout_revokes_only_the_presented_token(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = await make_user()
    first, second = await login_as(user), await login_as(user)
    response = await client.post(LOGOUT, headers=first)
    assert response.status_code == 204
    assert response.content == b""
    revoked = await client.get(ME, headers=first)
    assert revoked.status_code == 401
    assert revoked.json()["detail"].startswith("The token was revoked at ")
    assert (await client.post(LOGOUT, headers=first)).status_code == 401
    assert (await client.get(ME, headers=second)).status_code == 200


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _claims(user_id: int, *, issued_ago: int = 0, lifetime: int = 600) -> dict[str, Any]:
    now = int(time.time()) - issued_ago
    return {"sub": str(user_id), "role": "admin", "iat": now, "exp": now + lifetime, "jti": "j1"}


def _expired(user_id: int, policy: AuthPolicy) -> str:
    claims = _claims(user_id, issued_ago=3600, lifetime=1800)
    return encode_token(claims, policy.signing_key, policy.algorithm)


def _tampered(user_id: int, policy: AuthPolicy) -> str:
    header, _payload, signature = encode_token(
        _claims(user_id), policy.signing_key, policy.algorithm
    ).split(".")
    return f"{header}.{_segment({**_claims(user_id), 'sub': '999'})}.{signature}"


def _wrong_algorithm(user_id: int, policy: AuthPolicy) -> str:
    return encode_token(_claims(user_id), policy.signing_key, "HS512")


def _alg_none(user_id: int, _policy: AuthPolicy) -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims(user_id))}."


def _other_key(user_id: int, policy: AuthPolicy) -> str:
    return encode_token(_claims(user_id), "another-key-" + "k" * 32, policy.algorithm)


def _no_jti(user_id: int, policy: AuthPolicy) -> str:
    claims = {k: v for k, v in _claims(user_id).items() if k != "jti"}
    return encode_token(claims, policy.signing_key, policy.algorithm)


def _unknown_user(_user_id: int, policy: AuthPolicy) -> str:
    return encode_token(_claims(987654), policy.signing_key, policy.algorithm)


def _garbage(_user_id: int, _policy: AuthPolicy) -> str:
    return "not.a-token"


def _oversized(user_id: int, policy: AuthPolicy) -> str:
    claims = {**_claims(user_id), "pad": "x" * 10_000}
    return encode_token(claims, policy.signing_key, policy.algorithm)


BAD_TOKENS: dict[str, Callable[[int, AuthPolicy], str]] = {
    "expired": _expired,
    "tampered": _tampered,
    "wrong-algorithm": _wrong_algorithm,
    "alg-none": _alg_none,
    "other-key": _other_key,
    "missing-jti": _no_jti,
    "unknown-user": _unknown_user,
    "garbage": _garbage,
    "oversized": _oversized,
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_bad_tokens_are_401(
    client: httpx.AsyncClient, make_user: UserFactory, policy: AuthPolicy, kind: str
) -> None:
    admin = await make_user(Role.ADMIN)
    token = BAD_TOKENS[kind](admin.id, policy)
    for response in (
        await client.get(ME, headers=bearer(token)),
        await client.get("/api/users", headers=bearer(token)),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert isinstance(response.json()["detail"], str)


async def test_a_well_formed_token_of_this_backend_is_accepted(
    client: httpx.AsyncClient, make_user: UserFactory, policy: AuthPolicy
) -> None:
    # The control for test_bad_tokens_are_401: the same claims, correctly signed, work.
    admin = await make_user(Role.ADMIN)
    token = encode_token(_claims(admin.id), policy.signing_key, policy.algorithm)
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_token_of_a_deleted_user_is_401(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user()
    user_headers = await login_as(user)
    deleted = await client.delete(f"/api/users/{user.id}", headers=await login_as(admin))
    assert deleted.status_code == 204
    assert (await client.get(ME, headers=user_headers)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token abc"])
async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401
