"""Pure helpers for the JWT guard: NumericDates, durations, sentences, warnings.

No python-jose and no verdicts here: jwt_codec decides validity and uses these helpers
to phrase and annotate it. Every function accepts hostile values and never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# 9999-12-31 23:59:59 UTC: later dates cannot be shown and are never legitimate.
MAX_NUMERIC_DATE = 253_402_300_799
MAX_KID_LENGTH = 128
KEY_REFERENCE_HEADERS = ("jku", "x5u", "jwk", "x5c")
_KID_ALLOWED = re.compile(r"[A-Za-z0-9._:@+=-]+")
_SHOWN_TEXT_LIMIT = 40
_LISTED_NAMES_LIMIT = 10
_JSON_SAFE_DEPTH = 40


@dataclass(frozen=True)
class TokenWarning:
    """Something odd about a token that does not, by itself, make it invalid."""

    code: str
    message: str


def json_kind(value: Any) -> str:
    """Name a JSON value's type for a sentence ("a string", "an array"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def shown(value: Any, *, quoted: bool = True, limit: int = _SHOWN_TEXT_LIMIT) -> str:
    """Attacker-controlled text made safe for a sentence: escaped, truncated, optionally
    quoted; a non-string is named by its JSON kind only."""
    if not isinstance(value, str):
        return json_kind(value)
    clipped = repr(value if len(value) <= limit else value[:limit] + "…")
    return clipped if quoted else clipped[1:-1]


def numeric_date_problem(value: Any) -> str | None:
    """Explain why `value` is not an RFC 7519 NumericDate, or return None if it is one."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean, not a number)"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if not isinstance(value, int | float):
        return f"{json_kind(value)}, not a number"
    if value < 0:
        return "a negative number"
    if value > MAX_NUMERIC_DATE:
        return "a date after the year 9999"
    return None


def humanize_seconds(seconds: float, *, short: bool = False) -> str:
    """'3 minutes' (or '3 min' when short) for a non-negative span of seconds."""
    if not math.isfinite(seconds) or seconds < 1:
        return "less than a second" if not short else "<1 s"
    whole = int(seconds)
    for size, long_unit, short_unit in (
        (86_400, "day", "d"),
        (3_600, "hour", "h"),
        (60, "minute", "min"),
        (1, "second", "s"),
    ):
        if whole >= size:
            count = whole // size
            if short:
                return f"{count} {short_unit}"
            return f"{count} {long_unit}{'' if count == 1 else 's'}"
    return "less than a second"  # unreachable: whole >= 1 here


def relative_phrase(claim: str, delta: float) -> str:
    """ "expires in 14 min", "expired 3 h ago", "issued 2 min ago"... for `delta` seconds."""
    span = humanize_seconds(abs(delta), short=True)
    future = delta > 0
    if claim == "exp":
        return f"expires in {span}" if future else f"expired {span} ago"
    if claim == "nbf":
        return f"becomes valid in {span}" if future else f"valid since {span} ago"
    if claim == "iat":
        return f"issued {span} in the future" if future else f"issued {span} ago"
    return f"in {span}" if future else f"{span} ago"


def describe_numeric_date(value: Any, now: float, *, claim: str = "exp") -> str:
    """Describe a NumericDate for people, relative to `now`; never raises.

    "2026-11-25 19:20:00 UTC (expires in 14 min)", "... (expired 3 h ago)" or
    "invalid NumericDate: NaN". `claim` picks the wording (exp, nbf, iat, other).
    """
    problem = numeric_date_problem(value)
    if problem is not None:
        return f"invalid NumericDate: {problem}"
    stamp = datetime.fromtimestamp(math.floor(value), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        return stamp
    return f"{stamp} ({relative_phrase(claim, value - now)})"


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, exploring no deeper than `limit` + 1 levels."""
    if limit < 0 or not isinstance(value, Mapping | list):
        return 0
    children = value.values() if isinstance(value, Mapping) else value
    return 1 + max((json_depth(child, limit - 1) for child in children), default=0)


def time_pass_detail(exp: float, now: float, leeway: int) -> str:
    """The time lane's sentence for a token that passed it."""
    if exp > now:
        return f"The required claims are valid; the token expires in {humanize_seconds(exp - now)}."
    return f"The token expired {humanize_seconds(now - exp)} ago, within the {leeway} s leeway."


def listed(names: list[str]) -> str:
    """Join names for a sentence, quoting each and eliding a long tail."""
    head = ", ".join(shown(name) for name in names[:_LISTED_NAMES_LIMIT])
    rest = len(names) - _LISTED_NAMES_LIMIT
    return f"{head} and {rest} more" if rest > 0 else head


def _kid_problem(kid: Any) -> str | None:
    # kid often reaches file paths or SQL in other systems; flag anything unusual.
    if not isinstance(kid, str):
        return f"is {json_kind(kid)}, not a string"
    if not kid:
        return "is empty"
    if len(kid) > MAX_KID_LENGTH:
        return f"is longer than {MAX_KID_LENGTH} characters"
    if ".." in kid or "--" in kid:
        return "contains '..' or '--' (path traversal or SQL comment syntax)"
    if not _KID_ALLOWED.fullmatch(kid):
        return "contains characters outside [A-Za-z0-9._:@+=-] (paths, quotes or SQL syntax)"
    return None


def header_warnings(header: Mapping[str, Any]) -> list[TokenWarning]:
    """Warnings about header parameters that are legal but deserve an operator's eye."""
    found: list[TokenWarning] = []
    if "crit" in header:
        found.append(TokenWarning("crit_header", "The header declares critical extensions (crit)."))
    references = [name for name in KEY_REFERENCE_HEADERS if name in header]
    if references:
        found.append(
            TokenWarning(
                "key_reference_header",
                f"The header carries {', '.join(references)}; key material from a token "
                "is never fetched or trusted.",
            )
        )
    if "kid" in header and (problem := _kid_problem(header["kid"])) is not None:
        found.append(TokenWarning("suspicious_kid", f"The kid header {problem}; it is never used."))
    typ = header.get("typ")
    if "typ" in header and not (isinstance(typ, str) and typ.upper() == "JWT"):
        found.append(
            TokenWarning("unexpected_typ", f'The typ header is {shown(typ)} instead of "JWT".')
        )
    return found


def presence_warnings(payload: Mapping[str, Any], known: frozenset[str]) -> list[TokenWarning]:
    """Warnings that need no valid claim: a missing exp, claims outside `known`."""
    found: list[TokenWarning] = []
    if "exp" not in payload:
        found.append(TokenWarning("no_exp", "The token has no exp claim, so it never expires."))
    unexpected = sorted(name for name in payload if name not in known)
    if unexpected:
        found.append(
            TokenWarning(
                "unexpected_claims", f"The token carries unexpected claims {listed(unexpected)}."
            )
        )
    return found


def time_warnings(
    payload: Mapping[str, Any], now: float, leeway: int, max_lifetime: int | None
) -> list[TokenWarning]:
    """Warnings about iat, nbf and exp; call only once they are valid NumericDates."""
    found: list[TokenWarning] = []
    iat, exp, nbf = payload["iat"], payload["exp"], payload.get("nbf")
    if iat > now + leeway:
        ahead = humanize_seconds(iat - now)
        found.append(TokenWarning("iat_in_future", f"The token was issued {ahead} in the future."))
    if nbf is not None and nbf > now:
        ahead = humanize_seconds(nbf - now)
        found.append(TokenWarning("nbf_in_future", f"The token becomes valid in {ahead}."))
    if exp < iat:
        found.append(TokenWarning("exp_before_iat", "The token expires before it was issued."))
    if max_lifetime is not None and exp - iat > max_lifetime:
        lifetime, limit = humanize_seconds(exp - iat), humanize_seconds(max_lifetime)
        found.append(
            TokenWarning(
                "lifetime_exceeds_policy",
                f"The token lives {lifetime}, longer than the {limit} policy allows.",
            )
        )
    return found


def json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of decoded JSON that strict encoders accept: no NaN or Infinity, no lone
    surrogates, bounded depth (decoded tokens may hold all three)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, Mapping | list | tuple) and depth >= _JSON_SAFE_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {json_safe(k, depth + 1): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value]
    return value


def describe_dates(payload: Mapping[str, Any] | None, now: float) -> dict[str, str]:
    """describe_numeric_date for each of iat, nbf and exp present in `payload`."""
    if payload is None:
        return {}
    return {
        name: describe_numeric_date(payload[name], now, claim=name)
        for name in ("iat", "nbf", "exp")
        if name in payload
    }
