"""/api/auth: register, login (OAuth2 password form), logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from backend.api.deps import CurrentUser, PolicyDep, SessionDep
from backend.api.raises import raises
from backend.schemas.user import UserRead, UserRegister
from backend.services import auth, tokens, users
from backend.services.errors import Conflict, InvalidInput, Locked, NotAuthenticated

router = APIRouter(prefix="/api/auth", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserRead)
@raises(Conflict)
async def register(data: UserRegister, session: SessionDep, policy: PolicyDep) -> UserRead:
    """Create an account with the `user` role."""
    user = await users.register_user(session, data, policy.hasher)
    return UserRead.model_validate(user)


@router.post("/login", response_model=TokenResponse)
@raises(InvalidInput, Locked, NotAuthenticated)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    policy: PolicyDep,
    request: Request,
) -> TokenResponse:
    """Exchange email (as `username`) and password for a bearer token.

    The answer is never cached (`Cache-Control: no-store`, `Pragma: no-cache`: RFC 6749
    section 5.1); the token stays valid until it expires, its owner logs out, or the
    account's sessions end (password change or reset, deactivation, force logout).
    """
    client = request.client.host if request.client else None  # audited with the attempt
    issued = await auth.login(session, policy, form.username, form.password, client=client)
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(current: CurrentUser, session: SessionDep) -> None:
    """Revoke the token this request was made with."""
    await tokens.logout(session, current)
