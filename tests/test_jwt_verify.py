"""verify_token: check_token's decision for every request, with the verified part remembered."""

from __future__ import annotations

import pytest
from test_jwt_codec import ALG, HEADER, KEY, NOW, OTHER_KEY, claims, forge, raw_payload

from backend.services import jwt_verify
from backend.services.jwt_codec import InvalidReason, check_token
from backend.services.jwt_verify import REMEMBERED_TOKENS, verify_token

TOKENS = {
    "valid": forge(),
    "other key": forge(key=OTHER_KEY),
    "alg none": forge({"alg": "none", "typ": "JWT"}),
    "HS512 header": forge({"alg": "HS512", "typ": "JWT"}, hash_name="HS512"),
    "no jti": forge(payload=claims(jti=...)),
    "sub not a string": forge(payload=claims(sub=42)),
    "expired": forge(payload=claims(exp=NOW - 3600)),
    "not yet valid": forge(payload=claims(nbf=NOW + 3600)),
    "NaN exp": forge(payload=raw_payload("NaN")),
    "crit header": forge({**HEADER, "crit": ["b64"]}),
    "padded": forge() + "=",
    "two segments": "eyJhbGciOiJIUzI1NiJ9.e30",
    "garbage": "not a token",
    "empty": "",
}


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_the_same_verdict_as_check_token(token: str) -> None:
    for _twice in range(2):  # the second time from what was remembered
        full = check_token(token, KEY, ALG, now=NOW)
        verdict = verify_token(token, KEY, ALG, now=NOW)
        assert (verdict.claims is not None) is full.valid
        assert verdict.claims == full.claims
        if not full.valid:
            assert (verdict.reason, verdict.detail) == (full.reason, full.detail)


def test_a_remembered_token_still_expires_and_is_bound_to_its_key() -> None:
    token = forge()
    exp = claims()["exp"]
    assert verify_token(token, KEY, ALG, now=NOW).claims is not None
    later = verify_token(token, KEY, ALG, now=exp + 11, leeway_seconds=10)
    assert later.reason is InvalidReason.EXPIRED
    assert verify_token(token, OTHER_KEY, ALG, now=NOW).reason is InvalidReason.BAD_SIGNATURE


def test_only_valid_tokens_are_remembered_and_only_so_many() -> None:
    jwt_verify._signed.clear()
    verify_token(forge(key=OTHER_KEY), KEY, ALG, now=NOW)
    assert jwt_verify._signed == {}
    for n in range(REMEMBERED_TOKENS + 5):
        assert verify_token(forge(payload=claims(jti=f"j{n}")), KEY, ALG, now=NOW).claims
    assert 0 < len(jwt_verify._signed) <= REMEMBERED_TOKENS
