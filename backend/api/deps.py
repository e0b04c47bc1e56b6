"""Dependencies every route shares: the session, the policy, the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.raises import raises
from backend.api.roles import declare_roles
from backend.database import Database
from backend.models import Role
from backend.services import tokens
from backend.services.actor import Actor
from backend.services.errors import NotAuthenticated, Unavailable
from backend.services.policy import AuthPolicy
from backend.services.tokens import AuthenticatedUser


# Dependencies are `async def` even when they do not await: FastAPI runs a plain
# `def` dependency in a worker thread, which costs more than the whole lookup.
async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@raises(Unavailable)
async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.session() as session:
        yield session


async def get_policy(request: Request) -> AuthPolicy:
    policy: AuthPolicy = request.app.state.policy
    return policy


SessionDep = Annotated[AsyncSession, Depends(get_db)]
PolicyDep = Annotated[AuthPolicy, Depends(get_policy)]
DatabaseDep = Annotated[Database, Depends(get_database)]


class SignedIn(OAuth2PasswordBearer):
    """The signed-in user, from the bearer token: the security scheme is the dependency.

    One dependency rather than a user lookup depending on the scheme: this runs on every
    authenticated request and FastAPI's per-dependency overhead shows there. It reads
    app.state directly rather than through two more dependencies for the same reason.
    """

    async def __call__(self, request: Request) -> AuthenticatedUser:  # type: ignore[override]
        # auto_error=False: a missing token goes through the same 401 path as a bad one.
        token = await super().__call__(request)
        if not token:
            raise NotAuthenticated("Not signed in: send an Authorization: Bearer token.")
        database: Database = request.app.state.database
        policy = request.app.state.policy
        # No ORM session: the lookup is one statement (batched on the hot pool).
        if database.hot is not None:
            return await tokens.authenticate_token(database.hot, policy, token)
        async with database.engine.connect() as connection:
            return await tokens.authenticate_token(connection, policy, token)


get_current_user = raises(NotAuthenticated, Unavailable)(
    SignedIn(tokenUrl="/api/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False)
)
CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


async def get_actor(current: CurrentUser) -> Actor:
    return Actor.api_user(current.user.id, current.user.role)


ActorDep = Annotated[Actor, Depends(get_actor)]


# The same actor, for routes the service restricts further: the declaration is what
# the OpenAPI document's x-roles shows; the rule itself is the service's (permissions).
@declare_roles((Role.ADMIN, Role.SUPPORT), note="a user may read their own account")
async def get_staff_actor(current: CurrentUser) -> Actor:
    return Actor.api_user(current.user.id, current.user.role)


@declare_roles((Role.ADMIN, Role.SUPPORT))
async def get_strict_staff_actor(current: CurrentUser) -> Actor:
    return Actor.api_user(current.user.id, current.user.role)


@declare_roles((Role.ADMIN,))
async def get_admin_actor(current: CurrentUser) -> Actor:
    return Actor.api_user(current.user.id, current.user.role)


StaffOrSelfActorDep = Annotated[Actor, Depends(get_staff_actor)]
StaffActorDep = Annotated[Actor, Depends(get_strict_staff_actor)]
AdminActorDep = Annotated[Actor, Depends(get_admin_actor)]
