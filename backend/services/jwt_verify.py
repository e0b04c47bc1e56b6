"""verify_token(): check_token's verdict without its report, for every authenticated request.

check_token builds what the Tokens screen shows (each lane's sentence, warnings,
dates); a request needs only "valid, with these claims" or the first failure. The
strict parsing, the signature and the claim types depend on the token and the key
alone, so a token that passed them is remembered (a client sends the same one until
it expires): per request only exp and nbf are compared with the clock. Failures are
not remembered: a flood of junk tokens cannot fill the memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.services.jwt_codec import (
    InvalidReason,
    TokenClaims,
    _check_claims,
    _check_signature,
    _check_window,
    _claims,
    _parse,
)

# At most this many verified tokens are remembered (each at most MAX_TOKEN_BYTES).
REMEMBERED_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class Verdict:
    """`claims` when the token is valid now; else the first failure's reason and detail."""

    claims: TokenClaims | None
    reason: InvalidReason | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Signed:
    payload: Mapping[str, Any]
    claims: TokenClaims


_signed: dict[tuple[str, str, str], _Signed] = {}


def verify_token(
    token: str, key: str, algorithm: str, *, leeway_seconds: int = 10, now: float | None = None
) -> Verdict:
    """The same decision as check_token(token, key, algorithm, ...).valid, and the same
    reason and detail when it fails; never raises on any token string."""
    remembered = (token, key, algorithm)
    signed = _signed.get(remembered)
    if signed is None:
        parsed = _parse(token)
        payload = parsed.payload
        failure = parsed.failure or _check_signature(parsed, key, algorithm)
        if failure is None:
            assert payload is not None  # the structure lane passed
            failure = _check_claims(payload)
        if failure is not None:
            return Verdict(None, failure.reason, failure.detail)
        assert payload is not None
        signed = _Signed(payload, _claims(payload))
        if len(_signed) >= REMEMBERED_TOKENS:
            _signed.clear()  # cheaper than an LRU's bookkeeping on every request
        _signed[remembered] = signed
    now = time.time() if now is None else now
    if (window := _check_window(signed.payload, now, leeway_seconds)) is not None:
        return Verdict(None, window.reason, window.detail)
    return Verdict(signed.claims)
