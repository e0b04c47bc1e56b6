"""/api/users over HTTP: own profile, and account management under the role rules."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from conftest import TEST_PASSWORD, LoginAs, UserFactory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEvent, Role, User

ME = "/api/users/me"
USERS = "/api/users"
MULTIBYTE_73 = "é" * 36 + "x"


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", data={"username": email, "password": password})


async def reload(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id, populate_existing=True)


async def audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def user_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


# --- /me -------------------------------------------------------------------------------


async def test_me_shows_the_signed_in_user(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = await make_user(full_name="Ann")
    response = await client.get(ME, headers=await login_as(user))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"], body["full_name"], body["role"]) == (
        user.id,
        user.email,
        "Ann",
        "user",
    )
    assert "hashed_password" not in body


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not signed in: send an Authorization: Bearer token."}


async def test_me_can_change_name_and_email(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = await make_user()
    headers = await login_as(user)
    response = await client.patch(
        ME, headers=headers, json={"full_name": "New Name", "email": "New@Example.com"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["full_name"], body["email"], body["version"]) == (
        "New Name",
        "new@example.com",
        user.version + 1,
    )


async def test_me_password_change_requires_the_current_password(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    user = await make_user()
    headers = await login_as(user)
    for attempt in (
        {"new_password": "brand new password"},
        {
            "new_password": "brand new password",
            "current_password": "wrong password",
        },
    ):
        response = await client.patch(ME, headers=headers, json=attempt)
        assert response.status_code == 422
        assert response.json() == {"detail": "The current password is wrong."}
    assert (await reload(session, user.id)).version == user.version  # type: ignore[union-attr]
    changed = await client.patch(
        ME,
        headers=headers,
        json={"new_password": "brand new password", "current_password": TEST_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    assert (await login(client, user.email, TEST_PASSWORD)).status_code == 401
    assert (await login(client, user.email, "brand new password")).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [{"role": "admin"}, {"is_active": False}, {"version": 1}, {"new_password": "short"}],
    ids=["role", "is_active", "version", "short-password"],
)
async def test_me_refuses_fields_a_user_may_not_set(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    payload: dict[str, object],
) -> None:
    user = await make_user()
    response = await client.patch(ME, headers=await login_as(user), json=payload)
    assert response.status_code == 422
    fresh = await reload(session, user.id)
    assert fresh is not None
    assert (fresh.role, fresh.is_active, fresh.version) == ("user", True, user.version)


@pytest.mark.parametrize("field", ["email", "full_name", "new_password"])
async def test_me_explicit_null_is_422(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, field: str
) -> None:
    user = await make_user()
    response = await client.patch(ME, headers=await login_as(user), json={field: None})
    assert response.status_code == 422
    assert f"{field} cannot be null" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PATCH", ME, {"full_name": "nul\x00name"}),
        ("POST", "/api/auth/register", {"email": "n@example.com", "full_name": "a\x00"}),
        ("POST", USERS, {"email": "n@example.com", "full_name": "a\x00"}),
    ],
    ids=["me", "register", "create"],
)
async def test_nul_in_a_name_is_422_on_both_databases(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    method: str,
    url: str,
    body: dict[str, str],
) -> None:
    admin = await make_user(Role.ADMIN, full_name="Admin")
    payload = {**body, "password": TEST_PASSWORD} if method == "POST" else body
    response = await client.request(method, url, headers=await login_as(admin), json=payload)
    assert response.status_code == 422
    assert "must not contain NUL" in response.json()["detail"][0]["msg"]
    assert await user_count(session) == 1
    assert (await reload(session, admin.id)).full_name == "Admin"  # type: ignore[union-attr]


async def test_me_email_taken_by_another_user_is_409(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    await make_user(email="taken@example.com")
    user = await make_user()
    headers = await login_as(user)
    response = await client.patch(ME, headers=headers, json={"email": "TAKEN@x.io"})
    assert response.status_code == 200  # a different address: the control
    response = await client.patch(ME, headers=headers, json={"email": "Taken@Example.com"})
    assert response.status_code == 409
    fresh = await reload(session, user.id)
    assert fresh is not None
    assert fresh.email == "taken@x.io"


# --- list ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT])
async def test_staff_can_list_users(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, role: Role
) -> None:
    staff = await make_user(role)
    await make_user()
    response = await client.get(USERS, headers=await login_as(staff))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["next_cursor"] is None
    assert [item["email"] for item in body["items"]] == sorted(
        item["email"] for item in body["items"]
    )


async def test_user_role_cannot_list_users(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = await make_user()
    response = await client.get(USERS, headers=await login_as(user))
    assert response.status_code == 403
    assert "administrators and support staff" in response.json()["detail"]


async def test_search_pages_through_every_match_once(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN, email="admin@example.com")
    headers = await login_as(admin)
    created: list[dict[str, object]] = []
    for number in range(30):
        role = Role.SUPPORT if number % 3 == 0 else Role.USER
        name = f"Match {number}" if number % 2 == 0 else f"Other {number}"
        user = await make_user(role, email=f"p{number:02d}@example.com", full_name=name)
        created.append({"id": user.id, "email": user.email, "role": role, "name": name})
    inactive = [entry["id"] for entry in created[::5]]
    for user_id in inactive:
        row = (await client.get(f"{USERS}/{user_id}", headers=headers)).json()
        await client.patch(
            f"{USERS}/{user_id}",
            headers=headers,
            json={"version": row["version"], "is_active": False},
        )
    filters_and_matches = [
        ({"search": "match"}, [c for c in created if str(c["name"]).startswith("Match")]),
        ({"role": "support"}, [c for c in created if c["role"] is Role.SUPPORT]),
        ({"is_active": "false"}, [c for c in created if c["id"] in inactive]),
        (
            {"search": "P1", "is_active": "true"},
            [c for c in created if str(c["email"]).startswith("p1") and c["id"] not in inactive],
        ),
    ]
    for params, matches in filters_and_matches:
        expected = sorted(str(c["email"]) for c in matches)
        seen: list[str] = []
        cursor: str | None = None
        while True:
            query: dict[str, str | int] = {**params, "limit": 7}
            if cursor:
                query["cursor"] = cursor
            page = (await client.get(USERS, headers=headers, params=query)).json()
            assert page["total"] == len(expected), params
            assert len(page["items"]) <= 7
            seen += [item["email"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, params


async def test_created_order_pages_newest_first_without_gaps(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN)
    ids = [admin.id] + [(await make_user()).id for _ in range(9)]
    headers = await login_as(admin)
    seen: list[int] = []
    params: dict[str, str | int] = {"sort": "created", "descending": "true", "limit": 4}
    while True:
        page = (await client.get(USERS, headers=headers, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    # Users created in the same instant tie on created_at; the id breaks the tie.
    assert seen == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"cursor": "!!not-base64!!"}, "The cursor is not valid; start again from the first page."),
        ({"cursor": "WyJlbWFpbCJd"}, "The cursor is not valid; start again from the first page."),
        ({"cursor": "WyJjcmVhdGVkIiwiYSIsMV0", "sort": "email"}, "another sort order"),
        ({"cursor": "WyJjcmVhdGVkIiwiYSIsMV0", "sort": "created"}, "The cursor is not valid"),
        ({"cursor": "WyJlbWFpbCIsImFcdTAwMDAiLDFd"}, "The cursor is not valid"),
        ({"search": "a\x00b"}, "The search must not contain NUL characters."),
    ],
    ids=["not-base64", "too-short", "other-sort", "bad-date", "nul-in-cursor", "nul-in-search"],
)
async def test_bad_cursor_or_search_is_422(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    params: dict[str, str],
    detail: str,
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.get(USERS, headers=await login_as(admin), params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"role": "boss"}, {"is_active": "maybe"}]
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    params: dict[str, str | int],
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.get(USERS, headers=await login_as(admin), params=params)
    assert response.status_code == 422


# --- create ----------------------------------------------------------------------------


async def test_admin_creates_an_account_of_any_role(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.post(
        USERS,
        headers=await login_as(admin),
        json={"email": "Boss@Example.com", "password": TEST_PASSWORD, "role": "admin"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["email"], response.json()["role"]) == ("boss@example.com", "admin")
    assert (await login(client, "boss@example.com", TEST_PASSWORD)).status_code == 200


async def test_support_creates_user_accounts_only(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    support = await make_user(Role.SUPPORT)
    headers = await login_as(support)
    created = await client.post(
        USERS, headers=headers, json={"email": "u@example.com", "password": TEST_PASSWORD}
    )
    assert created.status_code == 201
    before = await user_count(session)
    for role in ("support", "admin"):
        response = await client.post(
            USERS,
            headers=headers,
            json={"email": f"{role}@new.io", "password": TEST_PASSWORD, "role": role},
        )
        assert response.status_code == 403
    assert await user_count(session) == before


async def test_user_role_cannot_create_accounts(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = await make_user()
    response = await client.post(
        USERS, headers=await login_as(user), json={"email": "x@e.io", "password": TEST_PASSWORD}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"email": "TAKEN@example.com", "password": TEST_PASSWORD}, 409),
        ({"email": "no-at-sign", "password": TEST_PASSWORD}, 422),
        ({"email": "a@example.com", "password": "1234567"}, 422),
        ({"email": "a@example.com", "password": MULTIBYTE_73}, 422),
        ({"email": "a@example.com", "password": TEST_PASSWORD, "role": "root"}, 422),
        ({"email": "a@example.com", "password": TEST_PASSWORD, "full_name": "x" * 201}, 422),
    ],
    ids=["duplicate", "invalid-email", "7-bytes", "73-bytes", "unknown-role", "long-name"],
)
async def test_create_bad_input_writes_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    payload: dict[str, str],
    status: int,
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(email="taken@example.com")
    headers = await login_as(admin)
    users_before, events_before = await user_count(session), await audit_count(session)
    response = await client.post(USERS, headers=headers, json=payload)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert (await user_count(session), await audit_count(session)) == (users_before, events_before)


# --- read, edit, delete ------------------------------------------------------------------


async def test_users_may_read_only_their_own_account(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user, other = await make_user(), await make_user()
    headers = await login_as(user)
    assert (await client.get(f"{USERS}/{user.id}", headers=headers)).status_code == 200
    assert (await client.get(f"{USERS}/{other.id}", headers=headers)).status_code == 403


async def test_unknown_user_is_404(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin = await make_user(Role.ADMIN)
    headers = await login_as(admin)
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"{USERS}/424242", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "User 424242 does not exist."}
    response = await client.patch(f"{USERS}/424242", headers=headers, json={"version": 1})
    assert response.status_code == 404


@pytest.mark.parametrize("user_id", ["0", "-1", "9223372036854775808", "9" * 30])
async def test_ids_outside_the_64_bit_range_are_404(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, user_id: str
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.get(f"{USERS}/{user_id}", headers=await login_as(admin))
    assert response.status_code == 404
    assert response.json() == {"detail": f"User {user_id} does not exist."}


async def test_admin_edits_and_promotes_a_user(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}",
        headers=await login_as(admin),
        json={"version": user.version, "role": "support", "full_name": "Promoted"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["role"], body["full_name"], body["version"]) == (
        "support",
        "Promoted",
        user.version + 1,
    )


async def test_stale_version_is_409_and_changes_nothing(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user(full_name="Original")
    headers = await login_as(admin)
    url = f"{USERS}/{user.id}"
    first = await client.patch(url, headers=headers, json={"version": 1, "full_name": "First"})
    assert first.status_code == 200
    second = await client.patch(url, headers=headers, json={"version": 1, "full_name": "Second"})
    assert second.status_code == 409
    assert "changed by someone else" in second.json()["detail"]
    fresh = await reload(session, user.id)
    assert fresh is not None
    assert (fresh.full_name, fresh.version) == ("First", 2)


@pytest.mark.parametrize("field", ["email", "full_name", "role", "is_active", "password"])
async def test_explicit_null_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    field: str,
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=await login_as(admin), json={"version": 1, field: None}
    )
    assert response.status_code == 422
    assert f"{field} cannot be null" in response.json()["detail"][0]["msg"]
    assert (await reload(session, user.id)).version == 1  # type: ignore[union-attr]


async def test_patch_without_version_is_422(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=await login_as(admin), json={"full_name": "x"}
    )
    assert response.status_code == 422


async def test_admin_resets_a_password(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}",
        headers=await login_as(admin),
        json={"version": user.version, "password": "reset password"},
    )
    assert response.status_code == 200
    assert (await login(client, user.email, "reset password")).status_code == 200


async def test_nobody_changes_their_own_role(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)  # another admin: the last-admin rule is not what stops this
    response = await client.patch(
        f"{USERS}/{admin.id}",
        headers=await login_as(admin),
        json={"version": admin.version, "role": "support"},
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Nobody can change their own role."}
    assert (await reload(session, admin.id)).role == "admin"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [{"is_active": False}, {"role": "user"}, {"full_name": "Hacked"}, {"password": "new password"}],
)
async def test_support_cannot_touch_admins(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    payload: dict[str, object],
) -> None:
    support, admin = await make_user(Role.SUPPORT), await make_user(Role.ADMIN)
    headers = await login_as(support)
    url = f"{USERS}/{admin.id}"
    response = await client.patch(url, headers=headers, json={"version": 1, **payload})
    assert response.status_code == 403
    for action in ("revoke-tokens", "unlock"):
        assert (await client.post(f"{url}/{action}", headers=headers)).status_code == 403
    fresh = await reload(session, admin.id)
    assert fresh is not None
    assert (fresh.version, fresh.tokens_valid_after) == (1, None)


@pytest.mark.parametrize("role", ["support", "admin", "user"])
async def test_support_cannot_promote_anyone(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login_as: LoginAs,
    session: AsyncSession,
    role: str,
) -> None:
    support = await make_user(Role.SUPPORT)
    target = await make_user(Role.SUPPORT if role == "user" else Role.USER)
    response = await client.patch(
        f"{USERS}/{target.id}", headers=await login_as(support), json={"version": 1, "role": role}
    )
    assert response.status_code == 403
    assert (await reload(session, target.id)).version == 1  # type: ignore[union-attr]


async def test_support_edits_name_and_active_flag_of_users(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    support, user = await make_user(Role.SUPPORT), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}",
        headers=await login_as(support),
        json={"version": 1, "full_name": "Renamed", "is_active": False},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["full_name"], response.json()["is_active"]) == ("Renamed", False)


async def test_support_cannot_change_emails(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    support, user = await make_user(Role.SUPPORT), await make_user()
    response = await client.patch(
        f"{USERS}/{user.id}",
        headers=await login_as(support),
        json={"version": 1, "email": "moved@example.com"},
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Support staff cannot change email."}


async def test_support_cannot_delete_users(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    support, user = await make_user(Role.SUPPORT), await make_user()
    response = await client.delete(f"{USERS}/{user.id}", headers=await login_as(support))
    assert response.status_code == 403
    assert await reload(session, user.id) is not None


async def test_admin_deletes_a_user(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    headers = await login_as(admin)
    response = await client.delete(f"{USERS}/{user.id}", headers=headers)
    assert response.status_code == 204
    assert (await client.get(f"{USERS}/{user.id}", headers=headers)).status_code == 404
    assert (await login(client, user.email, TEST_PASSWORD)).status_code == 401


async def test_nobody_deletes_or_deactivates_themselves(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)
    headers = await login_as(admin)
    url = f"{USERS}/{admin.id}"
    assert (await client.delete(url, headers=headers)).status_code == 403
    deactivate = await client.patch(url, headers=headers, json={"version": 1, "is_active": False})
    assert deactivate.status_code == 403
    fresh = await reload(session, admin.id)
    assert fresh is not None
    assert fresh.is_active


async def test_demoted_admin_loses_admin_rights_at_once(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    # The role comes from the database on every request, not from the token's claim.
    first, second = await make_user(Role.ADMIN), await make_user(Role.ADMIN)
    second_headers = await login_as(second)
    demoted = await client.patch(
        f"{USERS}/{second.id}", headers=await login_as(first), json={"version": 1, "role": "user"}
    )
    assert demoted.status_code == 200
    assert (await client.get(USERS, headers=second_headers)).status_code == 403


async def test_two_admins_demoting_each_other_at_once_keep_one_admin(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    first, second = await make_user(Role.ADMIN), await make_user(Role.ADMIN)
    first_headers, second_headers = await login_as(first), await login_as(second)
    demote = {"version": 1, "role": "user"}
    responses = await asyncio.gather(
        client.patch(f"{USERS}/{second.id}", headers=first_headers, json=demote),
        client.patch(f"{USERS}/{first.id}", headers=second_headers, json=demote),
    )
    # The loser is refused either by the last-admin rule (409) or, if the winner already
    # committed before its request was authenticated, for no longer being an admin (403).
    assert sorted(r.status_code for r in responses) in ([200, 403], [200, 409])
    admins = await session.scalars(select(User).where(User.role == "admin"))
    assert len(admins.all()) == 1


# --- force logout ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT])
async def test_revoke_tokens_kills_old_tokens_but_a_new_login_works_at_once(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, role: Role
) -> None:
    staff, user = await make_user(role), await make_user()
    old = await login_as(user)
    response = await client.post(f"{USERS}/{user.id}/revoke-tokens", headers=await login_as(staff))
    assert response.status_code == 200, response.text
    assert response.json()["tokens_valid_after"] is not None
    rejected = await client.get(ME, headers=old)
    assert rejected.status_code == 401
    new = await login_as(user)  # within the same second as the cut-off
    assert (await client.get(ME, headers=new)).status_code == 200


async def test_user_role_cannot_force_logout_others(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs
) -> None:
    user, other = await make_user(), await make_user()
    other_headers = await login_as(other)
    response = await client.post(f"{USERS}/{other.id}/revoke-tokens", headers=await login_as(user))
    assert response.status_code == 403
    assert (await client.get(ME, headers=other_headers)).status_code == 200


async def test_unlocking_an_account_that_is_not_locked_is_200_and_writes_nothing(
    client: httpx.AsyncClient, make_user: UserFactory, login_as: LoginAs, session: AsyncSession
) -> None:
    admin, user = await make_user(Role.ADMIN), await make_user()
    headers = await login_as(admin)
    before = await audit_count(session)
    response = await client.post(f"{USERS}/{user.id}/unlock", headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["locked_until"], response.json()["version"]) == (None, 1)
    assert await audit_count(session) == before
