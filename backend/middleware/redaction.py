"""Scrub secrets from text before it is logged: JWTs anywhere, sensitive query values."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"
# A parameter whose name contains any of these words has its value masked.
SENSITIVE_WORDS = (
    "password",
    "passwd",
    "token",
    "secret",
    "key",
    "code",
    "auth",
    "session",
    "cookie",
    "signature",
    "credential",
)

_SENSITIVE_NAME = re.compile("|".join(SENSITIVE_WORDS))
# Header and payload are base64url JSON ("eyJ" is '{"'); the signature may be empty (alg=none).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """Replace anything that looks like a JWT in ``text`` with ``***``."""
    if "eyJ" not in text:  # the common case costs one substring scan, not a regex
        return text
    return _JWT.sub(MASK, text)


def redact_query(query: str) -> str:
    """Mask the values of sensitive parameters in a raw query string, and any JWT in it.

    ``"user=ann&password=hunter2"`` becomes ``"user=ann&password=***"``; names are
    matched case-insensitively after percent-decoding, so ``Pass%77ord`` counts too.
    """
    if not query:
        return query
    return redact("&".join(_redact_pair(pair) for pair in query.split("&")))


def _redact_pair(pair: str) -> str:
    name, sep, _value = pair.partition("=")
    if sep and _SENSITIVE_NAME.search(unquote_plus(name).lower()):
        return f"{name}={MASK}"
    return pair
