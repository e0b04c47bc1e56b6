"""/api/users: own profile, and account management for admins and support staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from backend.api.deps import (
    ActorDep,
    AdminActorDep,
    CurrentUser,
    PolicyDep,
    SessionDep,
    StaffActorDep,
    StaffOrSelfActorDep,
)
from backend.api.raises import raises
from backend.models import Role
from backend.schemas.user import MeUpdate, UserCreate, UserPage, UserRead, UserUpdate
from backend.services import user_search, users
from backend.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backend.services.user_search import MAX_PAGE_SIZE, UserQuery, UserSort

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("/me", response_model=UserRead)
async def read_me(current: CurrentUser) -> Response:
    """The signed-in user's profile."""
    # The most frequent request there is: pydantic-core writes the JSON in one step
    # instead of FastAPI validating the model again and encoding it through dicts.
    return Response(current.user.model_dump_json(), media_type="application/json")


@router.patch("/me", response_model=UserRead)
@raises(Conflict, InvalidInput, NotFound, PermissionDenied)
async def update_me(
    data: MeUpdate, actor: ActorDep, session: SessionDep, policy: PolicyDep
) -> UserRead:
    """Change your own name, email or password (a new password needs the current one).

    A new password ends every session of the account, this one included: the answer is
    the updated profile, and every token issued before the change (the one this request
    used too) is refused from now on with 401. Sign in again with the new password.
    """
    user = await users.update_own_profile(session, actor, data, policy.hasher)
    return UserRead.model_validate(user)


@router.get("", response_model=UserPage)
@raises(InvalidInput, PermissionDenied)
async def list_users(
    actor: StaffActorDep,
    session: SessionDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    role: Role | None = None,
    is_active: bool | None = None,
    locked: bool | None = None,
    sort: UserSort = UserSort.EMAIL,
    descending: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> UserPage:
    """Search and page through users (keyset paging: pass `next_cursor` back as `cursor`)."""
    query = UserQuery(
        search=search or None,
        role=role,
        is_active=is_active,
        locked=locked,
        sort=sort,
        descending=descending,
    )
    return await user_search.list_users(session, actor, query, limit=limit, cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserRead)
@raises(Conflict, PermissionDenied)
async def create_user(
    data: UserCreate, actor: StaffActorDep, session: SessionDep, policy: PolicyDep
) -> UserRead:
    """Create an account (support staff: `user` role only)."""
    return UserRead.model_validate(await users.create_user(session, actor, data, policy.hasher))


@router.get("/{user_id}", response_model=UserRead)
@raises(NotFound, PermissionDenied)
async def read_user(user_id: int, actor: StaffOrSelfActorDep, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await users.get_user(session, actor, user_id))


@router.patch("/{user_id}", response_model=UserRead)
@raises(Conflict, NotFound, PermissionDenied)
async def update_user(
    user_id: int, data: UserUpdate, actor: StaffActorDep, session: SessionDep, policy: PolicyDep
) -> UserRead:
    """Edit an account; `version` must be the one you read, or the answer is 409.

    A new password or `is_active: false` ends every session of the account: its tokens
    issued before now are refused for good (reactivating it later does not revive them).
    """
    user = await users.update_user(session, actor, user_id, data, policy.hasher)
    return UserRead.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
@raises(Conflict, NotFound, PermissionDenied)
async def delete_user(user_id: int, actor: AdminActorDep, session: SessionDep) -> None:
    """Delete an account (administrators only; never the last active one)."""
    await users.delete_user(session, actor, user_id)


@router.post("/{user_id}/revoke-tokens", response_model=UserRead)
@raises(Conflict, NotFound, PermissionDenied)
async def revoke_tokens(user_id: int, actor: StaffActorDep, session: SessionDep) -> UserRead:
    """Force logout: every token issued to this user before now stops working."""
    return UserRead.model_validate(await users.revoke_user_tokens(session, actor, user_id))


@router.post("/{user_id}/unlock", response_model=UserRead)
@raises(Conflict, NotFound, PermissionDenied)
async def unlock(user_id: int, actor: StaffActorDep, session: SessionDep) -> UserRead:
    """Clear a login lockout."""
    unlocked = await users.unlock_user(session, actor, user_id)
    return UserRead.model_validate(unlocked.user)
