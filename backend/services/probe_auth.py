"""How a probe request is signed: not at all, as a user (a minted token), or with a token.

Only the mode is ever kept or shown in full ("as alice@example.com"); a token is
masked on screen and never written to the request history.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from backend.database import Database
from backend.services import tokens
from backend.services.actor import Actor
from backend.services.errors import InvalidInput
from backend.services.policy import AuthPolicy

MASK_KEEP = 8
# A minted token is sent again until this close to its expiry.
REUSE_MARGIN = dt.timedelta(minutes=1)


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


@dataclass
class ProbeSigner:
    """Bearer tokens for a series of probe requests.

    A token minted for a user is sent again until a minute before it expires, so
    probing one route repeatedly mints (and audits) one token, not one per request.
    """

    database: Database
    actor: Actor
    policy: AuthPolicy
    _minted: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)

    async def token(self, auth: ProbeAuth) -> str | None:
        """As token_for(), reusing a minted token while it is fresh."""
        if auth.mode is not AuthMode.AS_USER or not auth.email.strip():
            return await token_for(auth, self.database, self.actor, self.policy)
        key = auth.email.strip().lower()
        cached = self._minted.get(key)
        if cached is not None and cached[1] - REUSE_MARGIN > dt.datetime.now(dt.UTC):
            return cached[0]
        async with self.database.session() as session:
            issued = await tokens.mint_token(session, self.actor, auth.email, self.policy)
        self._minted[key] = (issued.token, issued.expires_at)
        return issued.token

    def minted_for(self, email: str) -> str | None:
        """The token minted for `email` so far, if any."""
        cached = self._minted.get(email.strip().lower())
        return cached[0] if cached else None
