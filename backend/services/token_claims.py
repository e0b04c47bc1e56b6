"""Extra claims as operators type them (console and CLI): parsed strictly, checked once.

A token must be strict JSON, so NaN, Infinity, overflowing numbers and repeated keys
are refused here rather than signed into a token no other parser agrees on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from backend.services.errors import InvalidInput

# Claims the backend sets itself; extra claims may not override them.
RESERVED_CLAIMS = frozenset({"sub", "role", "iat", "exp", "nbf", "jti", "iss", "aud"})


def check_extra_claims(extra: Mapping[str, Any]) -> None:
    """Raise InvalidInput unless `extra` may be signed into a token beside the reserved claims."""
    clashing = sorted(RESERVED_CLAIMS & extra.keys())
    if clashing:
        raise InvalidInput(f"Extra claims cannot override {', '.join(clashing)}.")
    try:
        # A token must be strict JSON: no NaN or Infinity, nothing JSON cannot hold.
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput("Extra claims must be plain JSON values (no NaN or Infinity).") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _strict_json(text: str) -> Any:
    """json.loads without NaN, Infinity, overflowing floats or repeated keys."""
    return json.loads(
        text,
        parse_constant=_reject_constant,
        parse_float=_finite_float,
        object_pairs_hook=_unique_keys,
    )


def parse_claim_assignments(assignments: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs into claims; a VALUE that is strict JSON is decoded, any other
    VALUE is kept as text. Raises InvalidInput."""
    claims: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"Claim {assignment!r} must look like KEY=VALUE.")
        try:
            claims[key] = _strict_json(raw)
        except (ValueError, RecursionError):
            claims[key] = raw
    return claims


def parse_extra_claims(text: str) -> dict[str, Any]:
    """Extra claims as a person types them: a JSON object, or one KEY=VALUE per line.

    Raises InvalidInput (bad JSON, not an object, a claim the backend sets itself).
    """
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        claims = _parse_claims_object(stripped)
    else:
        claims = parse_claim_assignments([ln for ln in stripped.splitlines() if ln.strip()])
    check_extra_claims(claims)
    return claims


def _parse_claims_object(text: str) -> dict[str, Any]:
    # `text` starts with "{", so whatever parses is one JSON object.
    try:
        value: dict[str, Any] = _strict_json(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidInput(f"The claims are not valid JSON: {error.msg} at {where}.") from None
    except RecursionError:
        raise InvalidInput("The claims nest too deeply.") from None
    except ValueError as error:
        raise InvalidInput(f"The claims are not valid JSON: {error}.") from None
    return value
