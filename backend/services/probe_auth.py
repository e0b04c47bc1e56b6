"""How a probe request is signed: not at all, as a user (a minted token), or with a token.

Only the mode is ever kept or shown in full ("as alice@example.com"); a token is
masked on screen and never written to the request history.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backend.database import Database
from backend.services import tokens
from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from backend.services.policy import AuthPolicy

MASK_KEEP = 8


class AuthMode(enum.StrEnum):
    NONE = "none"
    AS_USER = "as user"
    TOKEN = "pasted token"
    CONSOLE_TOKEN = "Tokens screen token"


@dataclass(frozen=True, slots=True)
class ProbeAuth:
    mode: AuthMode = AuthMode.NONE
    email: str = ""  # AS_USER
    token: str = ""  # TOKEN and CONSOLE_TOKEN

    @property
    def label(self) -> str:
        """The mode as history keeps it: never the token itself."""
        if self.mode is AuthMode.AS_USER:
            return f"as {self.email.strip().lower()}"
        if self.mode is AuthMode.NONE:
            return "no auth"
        return str(self.mode)


def mask_token(token: str) -> str:
    """The token's first characters and its length: enough to tell two apart, not to use."""
    if len(token) <= MASK_KEEP:
        return "•" * len(token)
    return f"{token[:MASK_KEEP]}…({len(token)} chars)"


async def token_for(
    auth: ProbeAuth, database: Database, actor: Actor, policy: AuthPolicy
) -> str | None:
    """The bearer token to send, minting one for AS_USER (audited by jti, as any issued token).

    Raises InvalidInput (no email or token given), NotFound, PermissionDenied.
    """
    if auth.mode is AuthMode.NONE:
        return None
    if auth.mode is AuthMode.AS_USER:
        if not auth.email.strip():
            raise InvalidInput("Choose the user to send the request as.", field="auth")
        async with database.session() as session:
            issued = await tokens.mint_token(session, actor, auth.email, policy)
        return issued.token
    if not auth.token.strip():
        raise InvalidInput("Paste the token to send.", field="auth")
    return auth.token.strip()
