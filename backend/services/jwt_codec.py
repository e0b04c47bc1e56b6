"""The strict JWT guard: the one module that touches python-jose for JWTs.

python-jose verifies whatever `algorithms` allows, accepts tokens without exp, decodes
sloppy base64, has no size cap and raises assorted exception types on hostile input.
check_token() parses the compact form itself, pins the algorithm, requires the claims
the backend relies on and turns every failure into a TokenCheck with a precise reason.
It never raises on any token string. Wording lives in jwt_display.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

# `X as X` marks a re-export: TokenWarning and describe_numeric_date are public API here.
from backend.services.jwt_display import TokenWarning as TokenWarning
from backend.services.jwt_display import (
    describe_dates,
    header_warnings,
    humanize_seconds,
    json_depth,
    json_kind,
    json_safe,
    listed,
    numeric_date_problem,
    presence_warnings,
    shown,
    time_pass_detail,
    time_warnings,
)
from backend.services.jwt_display import describe_numeric_date as describe_numeric_date

MAX_TOKEN_BYTES = 8192
MAX_JSON_DEPTH = 32
MIN_KEY_BYTES = 32
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
REQUIRED_CLAIMS = ("sub", "jti", "iat", "exp")
KNOWN_CLAIMS = frozenset({"sub", "role", "iat", "exp", "nbf", "jti", "type", "iss", "aud"})
_TYPED_CLAIMS = frozenset({"sub", "role", "iat", "exp", "nbf", "jti"})
_SEGMENT_NAMES = ("header", "payload", "signature")
# Regular expressions scan in C: this runs on every authenticated request.
_NOT_BASE64URL = re.compile(r"[^A-Za-z0-9_-]")
_WHITESPACE = re.compile(r"\s")


class Lane(StrEnum):
    STRUCTURE = "structure"
    SIGNATURE = "signature"
    TIME = "time"
    POLICY = "policy"


class LaneStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_CHECKED = "not_checked"


class InvalidReason(StrEnum):
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    ALG_NONE = "alg_none"
    WRONG_ALGORITHM = "wrong_algorithm"
    BAD_SIGNATURE = "bad_signature"
    UNSUPPORTED_HEADER = "unsupported_header"  # crit: extensions we do not understand
    MISSING_CLAIM = "missing_claim"
    INVALID_CLAIM = "invalid_claim"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    # Decided by the database-backed policy lane (backend/services/tokens.py).
    REVOKED = "revoked"
    ISSUED_BEFORE_LOGOUT = "issued_before_logout"  # before the account's sessions were ended
    ISSUED_BEFORE_ACCOUNT = "issued_before_account"  # the sub's id named someone else then
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    USER_LOCKED = "user_locked"


@dataclass(frozen=True)
class LaneResult:
    status: LaneStatus
    detail: str  # one human sentence


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims the backend relies on; built only when every lane passed."""

    sub: str
    jti: str
    iat: int
    exp: int
    role: str | None
    nbf: int | None
    extra: dict[str, Any]


@dataclass(frozen=True)
class TokenCheck:
    """The verdict on one token, lane by lane; safe to show and to serialise."""

    valid: bool
    reason: InvalidReason | None
    detail: str
    lanes: dict[Lane, LaneResult]
    header: dict[str, Any] | None  # UNVERIFIED unless the signature lane passed
    payload: dict[str, Any] | None  # likewise
    claims: TokenClaims | None
    warnings: tuple[TokenWarning, ...]
    leeway_seconds: int
    checked_at: float = 0.0  # the `now` used, so displays agree with the verdict

    def with_policy(self, result: LaneResult, reason: InvalidReason | None) -> TokenCheck:
        """Return a copy with the policy lane filled in.

        A failing result makes the copy invalid with `reason` (required then), unless an
        earlier lane already failed: lanes report in order, so that failure stays first.
        """
        if result.status is LaneStatus.FAIL and reason is None:
            raise ValueError("a failing policy result needs a reason")
        lanes = {**self.lanes, Lane.POLICY: result}
        if result.status is not LaneStatus.FAIL or not self.valid:
            return replace(self, lanes=lanes)
        return replace(self, lanes=lanes, valid=False, reason=reason, detail=result.detail)

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON-serialisable verdict; never the raw token or signature bytes."""
        signature = self.lanes.get(Lane.SIGNATURE)
        return {
            "valid": self.valid,
            "reason": None if self.reason is None else self.reason.value,
            "detail": self.detail,
            "lanes": {
                lane.value: {"status": result.status.value, "detail": result.detail}
                for lane, result in self.lanes.items()
            },
            "signature_verified": signature is not None and signature.status is LaneStatus.PASS,
            "header": json_safe(self.header),
            "payload": json_safe(self.payload),
            "claims": None if self.claims is None else json_safe(asdict(self.claims)),
            "dates": describe_dates(self.payload, self.checked_at),
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
            "leeway_seconds": self.leeway_seconds,
            "checked_at": self.checked_at,
        }


def encode_token(
    claims: Mapping[str, Any], key: str, algorithm: str, *, headers: Mapping[str, Any] | None = None
) -> str:
    """Sign `claims` into a compact JWT; ValueError on a misconfiguration.

    Claims are not validated (tools and tests need odd tokens): check_token is the gate.
    `headers` may add parameters such as kid but never set alg.
    """
    if algorithm not in HMAC_ALGORITHMS:
        raise ValueError(f"only {', '.join(sorted(HMAC_ALGORITHMS))} are supported")
    if not key:
        raise ValueError("the signing key is empty")
    if headers is not None and "alg" in headers:
        raise ValueError("alg comes from `algorithm`, not from `headers`")
    extra = None if headers is None else dict(headers)
    from jose import jwt  # deferred like jwk below

    return str(jwt.encode(dict(claims), key, algorithm=algorithm, headers=extra))


# --- structure lane -----------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    reason: InvalidReason
    detail: str


@dataclass
class _Parsed:
    """What the structure lane learned; the other lanes and the display read it."""

    text: str = ""
    header: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    signature: bytes | None = None
    failure: _Failure | None = None
    warnings: list[TokenWarning] = field(default_factory=list)

    def fail(self, detail: str, reason: InvalidReason = InvalidReason.MALFORMED) -> None:
        # Only the first failure is reported; later ones are usually its consequences.
        if self.failure is None:
            self.failure = _Failure(reason, detail)

    def warn(self, code: str, message: str) -> None:
        if all(w.code != code for w in self.warnings):
            self.warnings.append(TokenWarning(code, message))


def _decode_segment(segment: str, index: int, parsed: _Parsed) -> bytes | None:
    """Strict base64url: alphabet only, no padding, canonical trailing bits.

    Padded or non-canonical text still decodes (for display) but fails the lane: two
    spellings of one token must never both verify.
    """
    name = f"Segment {index + 1} ({_SEGMENT_NAMES[index]}) is not valid base64url"
    body = segment.rstrip("=")
    match = _NOT_BASE64URL.search(body)
    if match is not None:
        bad = match.start()
        hint = " (standard base64, not base64url)" if body[bad] in "+/" else ""
        parsed.fail(f"{name}: {shown(body[bad])}{hint} at position {bad + 1} is not allowed.")
        return None
    if len(body) % 4 == 1:
        parsed.fail(f"{name}: no byte string encodes to {len(body)} characters.")
        return None
    data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    canonical = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") == body
    if body != segment or not canonical:
        why = "JWTs omit '=' padding" if body != segment else "its last character has stray bits"
        parsed.fail(f"{name}: {why}.")
        parsed.warn("non_canonical_base64", "A segment is not canonical base64url.")
    return data


def _shape_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"is {json_kind(value)}, not a JSON object"
    if json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return f"nests deeper than {MAX_JSON_DEPTH} levels"
    return None


def _decode_json(data: bytes, index: int, parsed: _Parsed) -> dict[str, Any] | None:
    """A UTF-8 JSON object without duplicate keys (parsers disagree on which one wins)."""
    name = f"Segment {index + 1} ({_SEGMENT_NAMES[index]})"
    duplicates: list[str] = []

    def keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    value: Any = None
    problem: str | None = None if data else "is empty"
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=keep_last) if data else None
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except json.JSONDecodeError as exc:
        problem = f"is not valid JSON: {exc.msg}"
    except (ValueError, RecursionError):  # integers over 4300 digits, absurd nesting
        problem = "is JSON that cannot be parsed safely"
    problem = problem or _shape_problem(value)
    if problem is not None or not isinstance(value, dict):
        parsed.fail(f"{name} {problem}.")
        return None
    if duplicates:
        names = listed(sorted(set(duplicates)))
        parsed.fail(f"{name} repeats the key(s) {names}.")
        parsed.warn("duplicate_keys", f"{name} repeats the key(s) {names}.")
    return value


def _check_header(header: dict[str, Any], parsed: _Parsed) -> None:
    for warning in header_warnings(header):
        parsed.warn(warning.code, warning.message)
    if "alg" not in header:
        parsed.fail("The header has no alg parameter.")
    elif not isinstance(header["alg"], str):
        parsed.fail(f"The header's alg is {json_kind(header.get('alg'))}, not a string.")
    if "crit" in header:
        # RFC 7515 section 4.1.11: extensions the recipient does not understand -> reject.
        parsed.fail(
            "The header declares critical extensions (crit), which this backend does not support.",
            InvalidReason.UNSUPPORTED_HEADER,
        )


def _parse(token: object) -> _Parsed:
    parsed = _Parsed()
    if not isinstance(token, str):
        parsed.fail(f"The token must be text, not {json_kind(token)}.")
        return parsed
    # Check the character count first: never encode a megabyte just to reject it.
    size = (
        len(token) if len(token) > MAX_TOKEN_BYTES else len(token.encode("utf-8", "surrogatepass"))
    )
    if size > MAX_TOKEN_BYTES:
        parsed.fail(f"The token is over {MAX_TOKEN_BYTES} bytes.", InvalidReason.TOO_LARGE)
        return parsed
    parsed.text = token.strip()
    if parsed.text != token:
        parsed.warn("whitespace", "Leading or trailing whitespace around the token was ignored.")
    if not parsed.text:
        parsed.fail("The token is empty.")
        return parsed
    if (space := _WHITESPACE.search(parsed.text)) is not None:
        parsed.fail(f"The token contains whitespace at position {space.start() + 1}.")
    segments = parsed.text.split(".")
    if len(segments) != 3:
        jwe = " (an encrypted JWE?)" if len(segments) == 5 else ""
        count = f"{len(segments)} segment{'' if len(segments) == 1 else 's'}{jwe}"
        parsed.fail(f"The token has {count}; a signed JWT has exactly 3.")
    decoded = [_decode_segment(segment, i, parsed) for i, segment in enumerate(segments[:2])]
    if decoded[0] is not None and (header := _decode_json(decoded[0], 0, parsed)) is not None:
        parsed.header = header
        _check_header(header, parsed)
    if len(decoded) > 1 and decoded[1] is not None:
        parsed.payload = _decode_json(decoded[1], 1, parsed)
    if len(segments) == 3:
        parsed.signature = _decode_segment(segments[2], 2, parsed)
    return parsed


# --- signature lane -----------------------------------------------------------------


def _check_signature(parsed: _Parsed, key: str, algorithm: str) -> _Failure | None:
    """Pin the algorithm here, then let python-jose compare the MAC in constant time."""
    alg = parsed.header.get("alg") if parsed.header is not None else None
    if not isinstance(alg, str):  # unreachable: the structure lane rejects this first
        return _Failure(InvalidReason.MALFORMED, "The header has no usable alg.")
    if alg.lower() == "none":
        return _Failure(InvalidReason.ALG_NONE, 'The token is unsigned (alg "none").')
    if algorithm not in HMAC_ALGORITHMS:
        detail = f"The configured algorithm {shown(algorithm)} is not HS256, HS384 or HS512."
        return _Failure(InvalidReason.WRONG_ALGORITHM, detail)
    if alg != algorithm:
        detail = f"The token is signed with {shown(alg, quoted=False)} but this backend "
        return _Failure(InvalidReason.WRONG_ALGORITHM, f"{detail}accepts only {algorithm}.")
    if not parsed.signature:
        return _Failure(InvalidReason.BAD_SIGNATURE, "The signature segment is empty.")
    if not key:
        return _Failure(InvalidReason.BAD_SIGNATURE, "No signing key is configured.")
    try:
        verifier = _hmac_key(key, algorithm)
    except Exception:  # JWKError, UnicodeEncodeError...
        detail = "The configured key cannot be used as an HMAC secret."
        return _Failure(InvalidReason.BAD_SIGNATURE, detail)
    # The structure lane already split and decoded the token strictly; jose only
    # compares the MAC of exactly those bytes (in constant time).
    signing_input = parsed.text.rsplit(".", 1)[0].encode("ascii")
    try:
        matches = bool(verifier.verify(signing_input, parsed.signature))
    except Exception:  # jose may raise on hostile input: all mean "no"
        matches = False
    if not matches:
        detail = f"The {algorithm} signature does not match the header and payload."
        return _Failure(InvalidReason.BAD_SIGNATURE, detail)
    return None


@lru_cache(maxsize=8)
def _hmac_key(key: str, algorithm: str) -> Any:
    # A Key object stops jose reading a JSON-looking secret as a JWK set; jose also
    # refuses PEM/SSH public keys as HMAC secrets (the classic confusion attack).
    # python-jose loads the cryptography package (~45 ms): imported at the first
    # token rather than while the console and the API start.
    from jose import jwk

    return jwk.construct(key, algorithm)


# --- time lane (and the required claims) --------------------------------------------


def _claim_problem(payload: Mapping[str, Any]) -> str | None:
    for name in ("sub", "jti"):
        if not isinstance(payload[name], str) or not payload[name].strip():
            return f"The {name} claim must be a non-empty string, not {shown(payload[name])}."
    for name in ("iat", "exp", "nbf"):
        if name in payload and (problem := numeric_date_problem(payload[name])) is not None:
            return f"The {name} claim is an invalid NumericDate: {problem}."
    if "role" in payload and not isinstance(payload["role"], str):
        return f"The role claim must be a string, not {json_kind(payload['role'])}."
    return None


def _check_time(payload: dict[str, Any], now: float, leeway: int) -> _Failure | None:
    """Required claims and their types, then exp and nbf against `now` +/- leeway."""
    return _check_claims(payload) or _check_window(payload, now, leeway)


def _check_claims(payload: Mapping[str, Any]) -> _Failure | None:
    """The required claims are there, with their types (the same answer at any time)."""
    missing = [name for name in REQUIRED_CLAIMS if name not in payload]
    if missing:
        noun = "claim" if len(missing) == 1 else "claims"
        detail = f"The token is missing the required {noun} {', '.join(missing)}."
        return _Failure(InvalidReason.MISSING_CLAIM, detail)
    if (problem := _claim_problem(payload)) is not None:
        return _Failure(InvalidReason.INVALID_CLAIM, problem)
    return None


def _check_window(payload: Mapping[str, Any], now: float, leeway: int) -> _Failure | None:
    """exp and nbf (already checked to be NumericDates) against `now` +/- leeway."""
    exp, nbf = payload["exp"], payload.get("nbf")
    if exp <= now - leeway:
        detail = f"The token expired {humanize_seconds(now - exp)} ago."
        return _Failure(InvalidReason.EXPIRED, detail)
    if nbf is not None and nbf > now + leeway:
        detail = f"The token is not valid for another {humanize_seconds(nbf - now)}."
        return _Failure(InvalidReason.NOT_YET_VALID, detail)
    return None


def _claims(payload: Mapping[str, Any]) -> TokenClaims:
    nbf = payload.get("nbf")
    return TokenClaims(
        sub=payload["sub"],
        jti=payload["jti"],
        iat=int(payload["iat"]),
        exp=int(payload["exp"]),
        role=payload.get("role"),
        nbf=None if nbf is None else int(nbf),
        extra={k: v for k, v in payload.items() if k not in _TYPED_CLAIMS},
    )


# --- the verdict --------------------------------------------------------------------

_NOT_CHECKED = {
    Lane.SIGNATURE: "Not checked because the token's structure is invalid.",
    Lane.TIME: "Not checked because the payload could not be decoded.",
    Lane.POLICY: "Checked against the database by the backend.",
}


def _lane(failure: _Failure | None, pass_detail: str) -> LaneResult:
    if failure is None:
        return LaneResult(LaneStatus.PASS, pass_detail)
    return LaneResult(LaneStatus.FAIL, failure.detail)


def check_token(
    token: str,
    key: str,
    algorithm: str,
    *,
    now: float | None = None,
    leeway_seconds: int = 10,
    max_lifetime_seconds: int | None = None,
) -> TokenCheck:
    """Check a compact JWT strictly, lane by lane; never raises on any token string.

    Lanes run in order: structure, signature (only `algorithm`, an HMAC), time and the
    required claims. The first failure decides `reason`; whatever decodes is returned
    for display anyway. The policy lane is left NOT_CHECKED for the database-backed
    caller (TokenCheck.with_policy). ValueError only for a negative leeway or a
    non-finite `now`: programming errors, not token problems.
    """
    now = time.time() if now is None else now
    if leeway_seconds < 0 or not math.isfinite(now):  # a NaN clock would pass every exp
        raise ValueError("leeway_seconds must not be negative and now must be finite")
    parsed = _parse(token)
    lanes = {
        Lane.STRUCTURE: _lane(parsed.failure, "The token is three canonical JSON segments."),
        **{lane: LaneResult(LaneStatus.NOT_CHECKED, text) for lane, text in _NOT_CHECKED.items()},
    }
    warnings = list(parsed.warnings)
    if isinstance(key, str) and len(key.encode("utf-8", "surrogatepass")) < MIN_KEY_BYTES:
        warnings.append(TokenWarning("short_key", f"The key is under {MIN_KEY_BYTES} bytes."))

    signature = None
    if parsed.failure is None:
        signature = _check_signature(parsed, key, algorithm)
        lanes[Lane.SIGNATURE] = _lane(signature, f"The {algorithm} signature matches the key.")
    timing = None
    if (payload := parsed.payload) is not None:
        warnings += presence_warnings(payload, KNOWN_CLAIMS)
        timing = _check_time(payload, now, leeway_seconds)
        if timing is None or timing.reason in (InvalidReason.EXPIRED, InvalidReason.NOT_YET_VALID):
            warnings += time_warnings(payload, now, leeway_seconds, max_lifetime_seconds)
        passed = "" if timing else time_pass_detail(payload["exp"], now, leeway_seconds)
        lanes[Lane.TIME] = _lane(timing, passed)

    first = parsed.failure or signature or timing
    return TokenCheck(
        valid=first is None,
        reason=None if first is None else first.reason,
        detail="The token is well-formed, signed and current." if first is None else first.detail,
        lanes=lanes,
        header=parsed.header,
        payload=parsed.payload,
        claims=_claims(payload) if first is None and payload is not None else None,
        warnings=tuple(warnings),
        leeway_seconds=leeway_seconds,
        checked_at=now,
    )
