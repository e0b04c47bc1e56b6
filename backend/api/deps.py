"""Dependencies every route shares: the session, the policy, the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.raises import raises
from backend.database import Database
from backend.services import tokens
from backend.services.actor import Actor
from backend.services.errors import NotAuthenticated, Unavailable
from backend.services.policy import AuthPolicy
from backend.services.tokens import AuthenticatedUser

# auto_error=False: a missing token goes through the same 401 path as a bad one.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


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


@raises(NotAuthenticated, Unavailable)
async def get_current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AuthenticatedUser:
    # Reads app.state directly rather than through two more dependencies: this runs on
    # every authenticated request and FastAPI's per-dependency overhead shows there.
    if not token:
        raise NotAuthenticated("Not signed in: send an Authorization: Bearer token.")
    database: Database = request.app.state.database
    # A bare pooled connection, no ORM session: the lookup is one statement.
    async with database.engine.connect() as connection:
        return await tokens.authenticate_token(connection, request.app.state.policy, token)


CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


async def get_actor(current: CurrentUser) -> Actor:
    return Actor.api_user(current.user.id, current.user.role)


ActorDep = Annotated[Actor, Depends(get_actor)]
