"""The token attack suite of issue 4, built once and shared by every verification path.

Each Attack builds its token against real state (a real user, real revocations) and
names the reason this backend must give. tests/test_token_attacks.py runs every attack
through the API, the CLI and the inspector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Role, User
from backend.schemas.user import UserCreate
from backend.services import tokens, users
from backend.services.actor import Actor
from backend.services.jwt_codec import InvalidReason, encode_token
from backend.services.policy import AuthPolicy

ATTACKER_KEY = "an-attacker-key-that-is-long-enough-to-look-real"
VICTIM_PASSWORD = "correct horse battery"
# The API answers these with one generic sentence so that it does not reveal who exists.
GENERIC_API_REASONS = frozenset(
    {
        InvalidReason.USER_NOT_FOUND,
        InvalidReason.ISSUED_BEFORE_LOGOUT,
        InvalidReason.ISSUED_BEFORE_ACCOUNT,
        InvalidReason.USER_INACTIVE,
        InvalidReason.USER_LOCKED,
    }
)


@dataclass
class AttackEnv:
    """Real state an attack is built against: a database session, the policy, a user."""

    session: AsyncSession
    policy: AuthPolicy
    victim: User
    actor: Actor

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Claims exactly like a login's, for the victim, with `overrides` (None drops one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(self.victim.id),
            "role": str(self.victim.role),
            "iat": now,
            "exp": now + 15 * 60,
            "jti": secrets.token_urlsafe(16),
            **overrides,
        }
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, **overrides: Any) -> str:
        """A token signed with this backend's own key."""
        return encode_token(self.claims(**overrides), self.policy.signing_key, "HS256")


async def make_attack_env(session: AsyncSession, policy: AuthPolicy, email: str) -> AttackEnv:
    """Create the victim through the service layer."""
    actor = Actor.cli("attack-suite")
    data = UserCreate(email=email, password=VICTIM_PASSWORD, role=Role.USER)
    victim = await users.create_user(session, actor, data, policy.hasher)
    return AttackEnv(session=session, policy=policy, victim=victim, actor=actor)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_segment(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def hmac_signed_segments(header_segment: str, payload_segment: str, key: str) -> str:
    """A compact JWT from two encoded segments, with an HMAC-SHA256 signature."""
    signing_input = f"{header_segment}.{payload_segment}"
    digest = hmac.new(key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{b64url(digest.digest())}"


def hmac_signed(header: dict[str, Any], payload: dict[str, Any], key: str) -> str:
    """A compact JWT whose signature is HMAC-SHA256 whatever the header's alg says."""
    return hmac_signed_segments(json_segment(header), json_segment(payload), key)


AttackBuilder = Callable[[AttackEnv], Awaitable[str]]


@dataclass(frozen=True)
class Attack:
    id: str
    reason: InvalidReason
    fragment: str  # part of the precise sentence every path must give
    build: AttackBuilder

    @property
    def api_fragment(self) -> str:
        if self.reason in GENERIC_API_REASONS:
            return tokens.GENERIC_TOKEN_ERROR
        return self.fragment


def _alg_none(spelling: str) -> AttackBuilder:
    async def build(env: AttackEnv) -> str:
        return f"{json_segment({'alg': spelling, 'typ': 'JWT'})}.{json_segment(env.claims())}."

    return build


def _hmac_with_header_alg(alg: str) -> AttackBuilder:
    async def build(env: AttackEnv) -> str:
        # The classic key-confusion attack: a verifier that trusts the header's alg would
        # use the HMAC secret as the "public key".
        return hmac_signed({"alg": alg, "typ": "JWT"}, env.claims(), env.policy.signing_key)

    return build


async def _other_key(env: AttackEnv) -> str:
    return encode_token(env.claims(), ATTACKER_KEY, "HS256")


async def _payload_changed(env: AttackEnv) -> str:
    header, _payload, signature = env.sign().split(".")
    promoted = env.claims(role="admin", sub="1")
    return f"{header}.{json_segment(promoted)}.{signature}"


async def _signature_stripped(env: AttackEnv) -> str:
    header, payload, _signature = env.sign().split(".")
    return f"{header}.{payload}."


async def _expired(env: AttackEnv) -> str:
    now = int(time.time())
    return env.sign(iat=now - 7200, exp=now - 3600)


async def _not_yet_valid(env: AttackEnv) -> str:
    return env.sign(nbf=int(time.time()) + 3600)


async def _missing(claim: str, env: AttackEnv) -> str:
    return env.sign(**{claim: None})


async def _missing_exp(env: AttackEnv) -> str:
    return await _missing("exp", env)


async def _missing_sub(env: AttackEnv) -> str:
    return await _missing("sub", env)


async def _deleted_user(env: AttackEnv) -> str:
    data = UserCreate(email=f"gone-{secrets.token_hex(4)}@example.com", password=VICTIM_PASSWORD)
    doomed = await users.create_user(env.session, env.actor, data, env.policy.hasher)
    token = tokens.issue_token(doomed, env.policy).token
    await users.delete_user(env.session, env.actor, doomed.id)
    return token


async def _revoked(env: AttackEnv) -> str:
    token = env.sign()
    await tokens.revoke_token(env.session, env.actor, env.policy, token)
    return token


async def _before_force_logout(env: AttackEnv) -> str:
    token = env.sign(iat=int(time.time()) - 60)
    await users.revoke_user_tokens(env.session, env.actor, env.victim.id)
    return token


async def _before_password_reset(env: AttackEnv) -> str:
    token = env.sign(iat=int(time.time()) - 60)
    await users.set_password(
        env.session, env.actor, env.victim.id, "a brand new passphrase", env.policy.hasher
    )
    return token


async def _before_account(env: AttackEnv) -> str:
    # The id's previous owner could have held it (SQLite reused ids before migration 0003).
    return env.sign(iat=int(time.time()) - 60)


async def _one_megabyte(env: AttackEnv) -> str:
    return env.sign(padding="x" * 1_000_000)


async def _non_base64(env: AttackEnv) -> str:
    header, _payload, signature = env.sign().split(".")
    return f"{header}.not*base64~at$all.{signature}"


async def _non_json(env: AttackEnv) -> str:
    header, _payload, signature = env.sign().split(".")
    return f"{header}.{b64url(b'this is not JSON')}.{signature}"


async def _two_segments(env: AttackEnv) -> str:
    header, payload, _signature = env.sign().split(".")
    return f"{header}.{payload}"


async def _four_segments(env: AttackEnv) -> str:
    return f"{env.sign()}.{b64url(b'extra')}"


ALG_NONE = 'The token is unsigned (alg "none").'
BAD_SIGNATURE = "The HS256 signature does not match the header and payload."

ATTACKS: tuple[Attack, ...] = (
    *(
        Attack(f"alg-{spelling}", InvalidReason.ALG_NONE, ALG_NONE, _alg_none(spelling))
        for spelling in ("none", "None", "NONE", "nOnE")
    ),
    Attack("hs256-other-key", InvalidReason.BAD_SIGNATURE, BAD_SIGNATURE, _other_key),
    *(
        Attack(
            f"{alg.lower()}-header-hs-secret-as-public-key",
            InvalidReason.WRONG_ALGORITHM,
            f"signed with {alg} but this backend accepts only HS256",
            _hmac_with_header_alg(alg),
        )
        for alg in ("RS256", "ES256")
    ),
    Attack(
        "payload-changed-after-signing",
        InvalidReason.BAD_SIGNATURE,
        BAD_SIGNATURE,
        _payload_changed,
    ),
    Attack(
        "signature-stripped",
        InvalidReason.BAD_SIGNATURE,
        "The signature segment is empty.",
        _signature_stripped,
    ),
    Attack("expired", InvalidReason.EXPIRED, "The token expired 1 hour ago.", _expired),
    Attack(
        "nbf-in-future",
        InvalidReason.NOT_YET_VALID,
        "The token is not valid for another",
        _not_yet_valid,
    ),
    Attack(
        "missing-exp",
        InvalidReason.MISSING_CLAIM,
        "The token is missing the required claim exp.",
        _missing_exp,
    ),
    Attack(
        "missing-sub",
        InvalidReason.MISSING_CLAIM,
        "The token is missing the required claim sub.",
        _missing_sub,
    ),
    Attack("sub-of-deleted-user", InvalidReason.USER_NOT_FOUND, "does not exist.", _deleted_user),
    Attack("revoked-jti", InvalidReason.REVOKED, "The token was revoked at", _revoked),
    Attack(
        "issued-before-force-logout",
        InvalidReason.ISSUED_BEFORE_LOGOUT,
        "The token was issued before the force logout at",
        _before_force_logout,
    ),
    Attack(
        "issued-before-password-reset",
        InvalidReason.ISSUED_BEFORE_LOGOUT,
        "The token was issued before the password reset at",
        _before_password_reset,
    ),
    Attack(
        "issued-before-account",
        InvalidReason.ISSUED_BEFORE_ACCOUNT,
        "existed.",
        _before_account,
    ),
    Attack("one-megabyte", InvalidReason.TOO_LARGE, "The token is over 8192 bytes.", _one_megabyte),
    Attack(
        "non-base64-segment",
        InvalidReason.MALFORMED,
        "Segment 2 (payload) is not valid base64url: '*' at position 4 is not allowed.",
        _non_base64,
    ),
    Attack(
        "non-json-segment",
        InvalidReason.MALFORMED,
        "Segment 2 (payload) is not valid JSON",
        _non_json,
    ),
    Attack(
        "two-segments",
        InvalidReason.MALFORMED,
        "The token has 2 segments; a signed JWT has exactly 3.",
        _two_segments,
    ),
    Attack(
        "four-segments",
        InvalidReason.MALFORMED,
        "The token has 4 segments; a signed JWT has exactly 3.",
        _four_segments,
    ),
)
ATTACK_IDS = [attack.id for attack in ATTACKS]
