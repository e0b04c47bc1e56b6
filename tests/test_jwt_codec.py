"""Attack suite for the strict JWT guard (backend/services/jwt_codec.py).

Pure: no database, no mocks. Hostile tokens are forged by hand (hmac, cryptography) so
the tests never trust python-jose to build what they attack.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.services.jwt_codec import (
    MAX_TOKEN_BYTES,
    InvalidReason,
    Lane,
    LaneResult,
    LaneStatus,
    TokenCheck,
    check_token,
    describe_numeric_date,
    encode_token,
)

NOW = 1_800_000_000  # 2027-01-15 08:00:00 UTC
KEY = "test-secret-key-that-is-long-enough-0123456789"
OTHER_KEY = "another-secret-key-that-is-long-enough-98765"
ALG = "HS256"
HEADER = {"alg": "HS256", "typ": "JWT"}
CLAIMS: dict[str, Any] = {"sub": "42", "jti": "jti-1", "iat": NOW - 60, "exp": NOW + 900}
HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


# --- forging helpers ----------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(part: dict[str, Any] | bytes) -> str:
    raw = part if isinstance(part, bytes) else json.dumps(part, separators=(",", ":")).encode()
    return b64(raw)


def forge(
    header: dict[str, Any] | bytes = HEADER,
    payload: dict[str, Any] | bytes | None = None,
    key: str = KEY,
    hash_name: str = "HS256",
) -> str:
    """An HMAC-signed compact token with exactly the given header and payload bytes."""
    signing_input = f"{segment(header)}.{segment(CLAIMS if payload is None else payload)}"
    mac = hmac.new(key.encode(), signing_input.encode(), HASHES[hash_name]).digest()
    return f"{signing_input}.{b64(mac)}"


def claims(**changes: Any) -> dict[str, Any]:
    """CLAIMS with some claims changed; a value of ... removes the claim."""
    merged = {**CLAIMS, **changes}
    return {name: value for name, value in merged.items() if value is not ...}


def raw_payload(exp_literal: str) -> bytes:
    """A payload whose exp is a raw JSON literal (NaN, 1e400...) json.dumps won't write."""
    return f'{{"sub":"42","jti":"jti-1","iat":{NOW - 60},"exp":{exp_literal}}}'.encode()


def check(token: str, key: str = KEY, **options: Any) -> TokenCheck:
    return check_token(token, key, ALG, now=NOW, **options)


def codes(result: TokenCheck) -> set[str]:
    return {warning.code for warning in result.warnings}


def assert_rejected(result: TokenCheck, reason: InvalidReason, token: str, key: str = KEY) -> None:
    assert result.reason is reason, result.detail
    assert not result.valid
    assert result.claims is None
    assert result.lanes[Lane.POLICY].status is LaneStatus.NOT_CHECKED
    sentences = [result.detail, *(lane.detail for lane in result.lanes.values())]
    sentences += [warning.message for warning in result.warnings]
    signature = token.rsplit(".", 1)[-1]
    for sentence in sentences:
        assert token not in sentence
        assert key not in sentence
        assert len(signature) < 8 or signature not in sentence


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# --- the happy path -----------------------------------------------------------------


def test_valid_token_passes_three_lanes_and_leaves_policy_unchecked() -> None:
    token = encode_token(claims(role="admin"), KEY, ALG)
    result = check(token)
    assert result.valid, result.detail
    assert result.reason is None
    assert [lane.status for lane in result.lanes.values()] == [
        LaneStatus.PASS,
        LaneStatus.PASS,
        LaneStatus.PASS,
        LaneStatus.NOT_CHECKED,
    ]
    assert list(result.lanes) == [Lane.STRUCTURE, Lane.SIGNATURE, Lane.TIME, Lane.POLICY]
    assert result.lanes[Lane.POLICY].detail == "Checked against the database by the backend."
    assert result.claims is not None
    assert (result.claims.sub, result.claims.jti, result.claims.role) == ("42", "jti-1", "admin")
    assert (result.claims.iat, result.claims.exp, result.claims.nbf) == (NOW - 60, NOW + 900, None)
    assert result.header == {"alg": "HS256", "typ": "JWT"}
    assert result.warnings == ()
    assert result.leeway_seconds == 10


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_every_hmac_algorithm_round_trips(algorithm: str) -> None:
    token = encode_token(CLAIMS, KEY, algorithm)
    assert check_token(token, KEY, algorithm, now=NOW).valid


def test_float_numeric_dates_and_nbf_are_accepted() -> None:
    token = forge(payload=claims(iat=NOW - 0.5, exp=NOW + 60.25, nbf=NOW - 1))
    result = check(token)
    assert result.valid, result.detail
    assert result.claims is not None
    assert (result.claims.exp, result.claims.nbf) == (NOW + 60, NOW - 1)


def test_extra_claims_are_kept_apart() -> None:
    result = check(forge(payload=claims(iss="backend", aud="console", type="access")))
    assert result.claims is not None
    assert result.claims.extra == {"iss": "backend", "aud": "console", "type": "access"}
    assert "unexpected_claims" not in codes(result)


def test_json_looking_secret_is_used_literally() -> None:
    # jose would read this secret as a JWK; the guard must not.
    key = '{"kty": "oct", "k": "c2VjcmV0"} padding to be long enough'
    assert check(encode_token(CLAIMS, key, ALG), key=key).valid
    assert check(forge(key="secret"), key=key).reason is InvalidReason.BAD_SIGNATURE


# --- algorithm attacks --------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2ln"], ids=["empty-signature", "junk-signature"])
def test_alg_none_in_any_casing_is_rejected(alg: str, signature: str) -> None:
    token = f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(CLAIMS)}.{signature}"
    result = check(token)
    assert_rejected(result, InvalidReason.ALG_NONE, token)
    assert result.lanes[Lane.SIGNATURE].status is LaneStatus.FAIL
    assert result.header == {"alg": alg, "typ": "JWT"}  # still shown, unverified


def test_token_signed_with_another_key_is_rejected() -> None:
    token = encode_token(CLAIMS, OTHER_KEY, ALG)
    result = check(token)
    assert_rejected(result, InvalidReason.BAD_SIGNATURE, token)
    assert result.payload == CLAIMS  # decoded for display despite the bad signature
    assert result.lanes[Lane.TIME].status is LaneStatus.PASS


def test_other_hmac_algorithm_is_rejected() -> None:
    token = encode_token(CLAIMS, KEY, "HS512")
    result = check(token)
    assert_rejected(result, InvalidReason.WRONG_ALGORITHM, token)
    assert result.detail == "The token is signed with HS512 but this backend accepts only HS256."


def test_real_rs256_token_is_rejected(rsa_key: rsa.RSAPrivateKey) -> None:
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(CLAIMS)}"
    signature = rsa_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{signing_input}.{b64(signature)}"
    for key in (KEY, public_pem(rsa_key)):
        result = check(token, key=key)
        assert_rejected(result, InvalidReason.WRONG_ALGORITHM, token, key)
        assert (
            result.detail == "The token is signed with RS256 but this backend accepts only HS256."
        )


def test_real_es256_token_is_rejected(ec_key: ec.EllipticCurvePrivateKey) -> None:
    signing_input = f"{segment({'alg': 'ES256', 'typ': 'JWT'})}.{segment(CLAIMS)}"
    r, s = decode_dss_signature(ec_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    token = f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    for key in (KEY, public_pem(ec_key)):
        assert_rejected(check(token, key=key), InvalidReason.WRONG_ALGORITHM, token, key)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
def test_asymmetric_header_hmac_signed_with_public_key_is_rejected(
    alg: str, rsa_key: rsa.RSAPrivateKey
) -> None:
    # The classic confusion: the attacker HMACs with the public key as the secret.
    pem = public_pem(rsa_key)
    token = forge(header={"alg": alg, "typ": "JWT"}, key=pem)
    for key in (KEY, pem):
        assert_rejected(check(token, key=key), InvalidReason.WRONG_ALGORITHM, token, key)
    # Also with the secret itself: the header's alg alone decides.
    token = forge(header={"alg": alg, "typ": "JWT"})
    assert_rejected(check(token), InvalidReason.WRONG_ALGORITHM, token)


def test_public_key_configured_as_hmac_secret_never_verifies(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = public_pem(rsa_key)
    token = forge(key=pem)
    result = check(token, key=pem)
    assert_rejected(result, InvalidReason.BAD_SIGNATURE, token, pem)
    assert result.detail == "The configured key cannot be used as an HMAC secret."


@pytest.mark.parametrize(
    "header",
    [{"typ": "JWT"}, {"alg": None}, {"alg": 256}, {"alg": ["HS256"]}],
    ids=["missing", "null", "number", "list"],
)
def test_header_without_a_string_alg_is_malformed(header: dict[str, Any]) -> None:
    token = forge(header=header)
    assert_rejected(check(token), InvalidReason.MALFORMED, token)


def test_non_hmac_configured_algorithm_rejects_without_raising() -> None:
    token = forge(header={"alg": "RS256"})
    result = check_token(token, KEY, "RS256", now=NOW)
    assert_rejected(result, InvalidReason.WRONG_ALGORITHM, token)


# --- tampering ----------------------------------------------------------------------


def test_payload_changed_after_signing_is_rejected() -> None:
    header, _, signature = encode_token(CLAIMS, KEY, ALG).split(".")
    token = f"{header}.{segment(claims(role='admin'))}.{signature}"
    result = check(token)
    assert_rejected(result, InvalidReason.BAD_SIGNATURE, token)
    assert result.payload is not None
    assert result.payload["role"] == "admin"  # shown, but never as claims


def test_stripped_signature_is_rejected() -> None:
    token = encode_token(CLAIMS, KEY, ALG).rsplit(".", 1)[0] + "."
    result = check(token)
    assert_rejected(result, InvalidReason.BAD_SIGNATURE, token)
    assert result.detail == "The signature segment is empty."


@pytest.mark.parametrize(
    ("suffix", "reason"),
    [
        (".junk", InvalidReason.MALFORMED),
        ("!!", InvalidReason.MALFORMED),
        ("AAAA", InvalidReason.BAD_SIGNATURE),
        ("A", InvalidReason.BAD_SIGNATURE),
        ("AA", InvalidReason.MALFORMED),  # 43 + 2 = 4n+1 characters
        (" junk", InvalidReason.MALFORMED),
    ],
    ids=["extra-segment", "bang", "four-more", "one-more", "impossible-length", "space-junk"],
)
def test_junk_after_the_signature_is_rejected(suffix: str, reason: InvalidReason) -> None:
    token = encode_token(CLAIMS, KEY, ALG) + suffix
    assert_rejected(check(token), reason, token)


def test_non_canonical_signature_bits_are_rejected() -> None:
    token = encode_token(CLAIMS, KEY, ALG)
    last = token[-1]
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    # HS256: 32 bytes -> 43 chars, the last carries 2 unused bits; set one of them.
    twin = token[:-1] + alphabet[alphabet.index(last) | 1]
    assert twin != token
    result = check(twin)
    assert_rejected(result, InvalidReason.MALFORMED, twin)
    assert "non_canonical_base64" in codes(result)


# --- structure ----------------------------------------------------------------------


def test_one_megabyte_token_is_too_large() -> None:
    token = "a" * 1_000_000
    result = check(token)
    assert_rejected(result, InvalidReason.TOO_LARGE, token)
    assert result.header is None
    assert result.payload is None
    assert result.lanes[Lane.SIGNATURE].status is LaneStatus.NOT_CHECKED


def test_size_limit_counts_bytes() -> None:
    token = forge(payload=claims(pad="x" * 4000))
    assert check(token).valid
    assert check("é" * (MAX_TOKEN_BYTES // 2 + 1)).reason is InvalidReason.TOO_LARGE
    assert check("a" * (MAX_TOKEN_BYTES + 1)).reason is InvalidReason.TOO_LARGE


@pytest.mark.parametrize(
    ("token", "count"),
    [
        ("abc", "1 segment;"),
        (f"{segment(HEADER)}.{segment(CLAIMS)}", "2 segments"),
        (f"{segment(HEADER)}.{segment(CLAIMS)}.c2ln.c2ln", "4 segments"),
        ("a.b.c.d.e", "5 segments (an encrypted JWE?)"),
    ],
    ids=["one", "two", "four", "five"],
)
def test_wrong_segment_count_is_malformed(token: str, count: str) -> None:
    result = check(token)
    assert_rejected(result, InvalidReason.MALFORMED, token)
    assert count in result.detail


def test_two_segment_token_still_shows_its_header() -> None:
    result = check(f"{segment(HEADER)}.{segment(CLAIMS)}")
    assert result.header == HEADER
    assert result.payload == CLAIMS


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (f"eyJ!!.{segment(CLAIMS)}.c2ln", "Segment 1 (header) is not valid base64url"),
        (f"{segment(HEADER)}.eyJ+.c2ln", "(standard base64, not base64url)"),
        (f"{segment(HEADER)}.{segment(CLAIMS)}.c2l/", "Segment 3 (signature)"),
        (f"{segment(HEADER)}.eyJhI.c2ln", "no byte string encodes to 5 characters"),
        (f"{segment(HEADER)}.{segment(CLAIMS)}é.c2ln", "Segment 2 (payload)"),
    ],
    ids=["bang-in-header", "plus-in-payload", "slash-in-signature", "length-4n+1", "non-ascii"],
)
def test_non_base64url_segments_are_malformed(token: str, detail: str) -> None:
    result = check(token)
    assert_rejected(result, InvalidReason.MALFORMED, token)
    assert detail in result.detail


@pytest.mark.parametrize(
    ("header", "payload", "detail"),
    [
        (b"not json", CLAIMS, "Segment 1 (header) is not valid JSON"),
        (HEADER, b"[1, 2]", "Segment 2 (payload) is an array, not a JSON object."),
        (HEADER, b'"sub"', "Segment 2 (payload) is a string, not a JSON object."),
        (HEADER, b"null", "Segment 2 (payload) is null, not a JSON object."),
        (HEADER, b"\xff\xfe{}", "Segment 2 (payload) is not UTF-8 text."),
        (HEADER, b"", "Segment 2 (payload) is empty."),
        (b"", CLAIMS, "Segment 1 (header) is empty."),
        (HEADER, b'{"n": 1' + b"0" * 5000 + b"}", "Segment 2 (payload) is JSON that cannot"),
        (HEADER, b"[" * 3000 + b"]" * 3000, "Segment 2 (payload) is JSON that cannot"),
        (HEADER, b'{"a":' * 40 + b"1" + b"}" * 40, "Segment 2 (payload) nests deeper than 32"),
    ],
    ids=[
        "text-header",
        "array",
        "string",
        "null",
        "not-utf8",
        "empty-payload",
        "empty-header",
        "5000-digit-int",
        "deep-array",
        "deep-object",
    ],
)
def test_non_json_segments_are_malformed(
    header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, detail: str
) -> None:
    token = forge(header=header, payload=payload)
    result = check(token)
    assert_rejected(result, InvalidReason.MALFORMED, token)
    assert result.detail.startswith(detail)


@pytest.mark.parametrize("position", [0, 1, 2], ids=["header", "payload", "signature"])
def test_padding_in_a_segment_is_malformed_but_decoded(position: int) -> None:
    parts = encode_token(claims(sub="4"), KEY, ALG, headers={"kid": "k1"}).split(".")
    assert len(parts[position]) % 4 != 0, "the segment must be one that needs padding"
    parts[position] += "=" * (-len(parts[position]) % 4)
    token = ".".join(parts)
    result = check(token)
    assert_rejected(result, InvalidReason.MALFORMED, token)
    assert "JWTs omit '=' padding" in result.detail
    assert f"Segment {position + 1}" in result.detail
    assert "non_canonical_base64" in codes(result)
    assert result.header is not None
    assert result.payload is not None


def test_duplicate_keys_are_rejected() -> None:
    payload = f'{{"sub":"42","sub":"1","jti":"j","iat":{NOW},"exp":{NOW + 60}}}'.encode()
    token = forge(payload=payload)
    result = check(token)
    assert_rejected(result, InvalidReason.MALFORMED, token)
    assert "repeats the key(s) 'sub'" in result.detail
    assert "duplicate_keys" in codes(result)


def test_duplicate_alg_in_header_is_rejected() -> None:
    token = forge(header=b'{"alg":"none","alg":"HS256"}')
    assert_rejected(check(token), InvalidReason.MALFORMED, token)


def test_crit_header_is_unsupported() -> None:
    token = forge(header={"alg": "HS256", "crit": ["exp"], "exp": NOW})
    result = check(token)
    assert_rejected(result, InvalidReason.UNSUPPORTED_HEADER, token)
    assert "crit_header" in codes(result)


def test_surrounding_whitespace_is_a_warning_not_a_failure() -> None:
    result = check(" \t" + encode_token(CLAIMS, KEY, ALG) + "\r\n")
    assert result.valid, result.detail
    assert "whitespace" in codes(result)


@pytest.mark.parametrize(
    "space", ["\n", " ", "\t", "\u00a0"], ids=["newline", "space", "tab", "nbsp"]
)
def test_internal_whitespace_is_malformed(space: str) -> None:
    token = encode_token(CLAIMS, KEY, ALG)
    broken = token[:20] + space + token[20:]
    result = check(broken)
    assert_rejected(result, InvalidReason.MALFORMED, broken)
    assert result.detail == "The token contains whitespace at position 21."


@pytest.mark.parametrize("token", ["", "   ", "\n"], ids=["empty", "spaces", "newline"])
def test_empty_token_is_malformed(token: str) -> None:
    assert check(token).reason is InvalidReason.MALFORMED


# --- claims and time ----------------------------------------------------------------


def test_expired_token_is_rejected() -> None:
    token = forge(payload=claims(exp=NOW - 180))
    result = check(token)
    assert_rejected(result, InvalidReason.EXPIRED, token)
    assert result.detail == "The token expired 3 minutes ago."
    assert result.lanes[Lane.SIGNATURE].status is LaneStatus.PASS


@pytest.mark.parametrize(
    ("exp", "valid"),
    [(NOW + 1, True), (NOW, True), (NOW - 9, True), (NOW - 10, False), (NOW - 11, False)],
    ids=["future", "now", "within-leeway", "at-leeway", "past-leeway"],
)
def test_exp_leeway_boundary(exp: int, valid: bool) -> None:
    result = check(forge(payload=claims(exp=exp)))
    assert result.valid is valid
    assert result.reason is (None if valid else InvalidReason.EXPIRED)


def test_zero_leeway_is_strict() -> None:
    assert check(forge(payload=claims(exp=NOW)), leeway_seconds=0).reason is InvalidReason.EXPIRED


def test_negative_leeway_or_nan_clock_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="leeway"):
        check(forge(), leeway_seconds=-1)
    with pytest.raises(ValueError, match="finite"):
        check_token(forge(payload=claims(exp=0)), KEY, ALG, now=float("nan"))


def test_nbf_in_the_future_is_rejected() -> None:
    token = forge(payload=claims(nbf=NOW + 3600))
    result = check(token)
    assert_rejected(result, InvalidReason.NOT_YET_VALID, token)
    assert result.detail == "The token is not valid for another 1 hour."
    assert "nbf_in_future" in codes(result)


def test_nbf_within_leeway_is_accepted_with_a_warning() -> None:
    result = check(forge(payload=claims(nbf=NOW + 5)))
    assert result.valid
    assert "nbf_in_future" in codes(result)


@pytest.mark.parametrize("missing", ["exp", "sub", "jti", "iat"])
def test_missing_required_claim_is_rejected(missing: str) -> None:
    token = forge(payload=claims(**{missing: ...}))
    result = check(token)
    assert_rejected(result, InvalidReason.MISSING_CLAIM, token)
    assert result.detail == f"The token is missing the required claim {missing}."
    assert ("no_exp" in codes(result)) is (missing == "exp")


def test_several_missing_claims_are_named_together() -> None:
    result = check(forge(payload={"role": "admin"}))
    assert result.reason is InvalidReason.MISSING_CLAIM
    assert result.detail == "The token is missing the required claims sub, jti, iat, exp."


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("1e400", "Infinity"),
        ("99999999999999999999", "a date after the year 9999"),
        ("253402300800", "a date after the year 9999"),
        ("-5", "a negative number"),
        ('"1800000900"', "a string, not a number"),
        ("[1800000900]", "an array, not a number"),
        ('{"t": 1}', "an object, not a number"),
        ("true", "true (a boolean, not a number)"),
        ("false", "false (a boolean, not a number)"),
        ("null", "null, not a number"),
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "1e400",
        "huge-int",
        "year-10000",
        "negative",
        "string",
        "list",
        "object",
        "true",
        "false",
        "null",
    ],
)
def test_invalid_exp_is_rejected(literal: str, problem: str) -> None:
    token = forge(payload=raw_payload(literal))
    result = check(token)
    assert_rejected(result, InvalidReason.INVALID_CLAIM, token)
    assert result.detail == f"The exp claim is an invalid NumericDate: {problem}."


@pytest.mark.parametrize("name", ["iat", "nbf"])
def test_invalid_iat_and_nbf_are_rejected(name: str) -> None:
    token = forge(payload=claims(**{name: "yesterday"}))
    result = check(token)
    assert_rejected(result, InvalidReason.INVALID_CLAIM, token)
    assert f"The {name} claim is an invalid NumericDate" in result.detail


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"sub": ""}, "The sub claim must be a non-empty string"),
        ({"sub": "   "}, "The sub claim must be a non-empty string"),
        ({"sub": 42}, "The sub claim must be a non-empty string, not a number."),
        ({"jti": None}, "The jti claim must be a non-empty string, not null."),
        ({"role": ["admin"]}, "The role claim must be a string, not an array."),
    ],
    ids=["empty-sub", "blank-sub", "numeric-sub", "null-jti", "list-role"],
)
def test_invalid_string_claims_are_rejected(changes: dict[str, Any], detail: str) -> None:
    token = forge(payload=claims(**changes))
    result = check(token)
    assert_rejected(result, InvalidReason.INVALID_CLAIM, token)
    assert result.detail.startswith(detail)


def test_structure_failure_comes_before_time_failure() -> None:
    token = forge(header={"alg": "HS256", "crit": ["x"]}, payload=claims(exp=NOW - 999))
    result = check(token)
    assert result.reason is InvalidReason.UNSUPPORTED_HEADER
    assert result.lanes[Lane.SIGNATURE].status is LaneStatus.NOT_CHECKED
    assert result.lanes[Lane.TIME].status is LaneStatus.FAIL


def test_signature_failure_comes_before_time_failure() -> None:
    token = forge(payload=claims(exp=NOW - 999), key=OTHER_KEY)
    result = check(token)
    assert result.reason is InvalidReason.BAD_SIGNATURE
    assert result.lanes[Lane.TIME].status is LaneStatus.FAIL


# --- warnings -----------------------------------------------------------------------


def test_iat_in_the_future_is_only_a_warning() -> None:
    result = check(forge(payload=claims(iat=NOW + 600)))
    assert result.valid
    assert "iat_in_future" in codes(result)
    assert "iat_in_future" not in codes(check(forge(payload=claims(iat=NOW + 5))))


def test_lifetime_beyond_policy_is_a_warning() -> None:
    token = forge(payload=claims(iat=NOW, exp=NOW + 86_400))
    assert "lifetime_exceeds_policy" in codes(check(token, max_lifetime_seconds=3600))
    assert "lifetime_exceeds_policy" not in codes(check(token, max_lifetime_seconds=86_400))
    assert "lifetime_exceeds_policy" not in codes(check(token))


def test_unexpected_claims_are_listed() -> None:
    result = check(forge(payload=claims(admin=True, scope="all")))
    assert result.valid
    messages = {warning.code: warning.message for warning in result.warnings}
    assert messages["unexpected_claims"] == "The token carries unexpected claims 'admin', 'scope'."


def test_short_key_is_a_warning() -> None:
    result = check(encode_token(CLAIMS, "short", ALG), key="short")
    assert result.valid
    assert "short_key" in codes(result)
    assert "short" not in " ".join(warning.message for warning in result.warnings)


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
def test_key_reference_headers_are_warned_about_and_ignored(name: str) -> None:
    result = check(forge(header={**HEADER, name: "https://attacker.example/keys"}))
    assert result.valid
    assert "key_reference_header" in codes(result)


@pytest.mark.parametrize(
    "kid",
    ["../../etc/passwd", "' OR 1=1 --", "key;DROP TABLE keys", 'a"b', "a\\b", "k" * 129, 7, ""],
    ids=["path", "sql-quote", "sql-semicolon", "double-quote", "backslash", "long", "int", "empty"],
)
def test_suspicious_kid_is_a_warning(kid: Any) -> None:
    result = check(forge(header={**HEADER, "kid": kid}))
    assert result.valid
    assert "suspicious_kid" in codes(result)


def test_ordinary_kid_is_not_suspicious() -> None:
    assert "suspicious_kid" not in codes(check(forge(header={**HEADER, "kid": "key-2027.01_a"})))


@pytest.mark.parametrize(
    ("typ", "warned"), [("JWT", False), ("jwt", False), ("at+jwt", True), (1, True)]
)
def test_unexpected_typ_is_a_warning(typ: Any, warned: bool) -> None:
    assert ("unexpected_typ" in codes(check(forge(header={**HEADER, "typ": typ})))) is warned


# --- with_policy ----------------------------------------------------------------------


def test_with_policy_failure_invalidates_a_valid_check() -> None:
    result = check(encode_token(CLAIMS, KEY, ALG))
    revoked = result.with_policy(
        LaneResult(LaneStatus.FAIL, "The token was revoked."), InvalidReason.REVOKED
    )
    assert (revoked.valid, revoked.reason, revoked.detail) == (
        False,
        InvalidReason.REVOKED,
        "The token was revoked.",
    )
    assert revoked.lanes[Lane.POLICY].status is LaneStatus.FAIL
    assert result.valid  # the original is untouched
    assert result.lanes[Lane.POLICY].status is LaneStatus.NOT_CHECKED


def test_with_policy_pass_keeps_the_check_valid() -> None:
    result = check(encode_token(CLAIMS, KEY, ALG))
    passed = result.with_policy(LaneResult(LaneStatus.PASS, "The user is active."), None)
    assert passed.valid
    assert passed.lanes[Lane.POLICY].status is LaneStatus.PASS


def test_with_policy_keeps_the_earlier_failure_first() -> None:
    result = check(forge(payload=claims(exp=NOW - 999)))
    failed = result.with_policy(
        LaneResult(LaneStatus.FAIL, "The user is locked."), InvalidReason.USER_LOCKED
    )
    assert failed.reason is InvalidReason.EXPIRED


def test_with_policy_failure_needs_a_reason() -> None:
    result = check(encode_token(CLAIMS, KEY, ALG))
    with pytest.raises(ValueError, match="reason"):
        result.with_policy(LaneResult(LaneStatus.FAIL, "No."), None)


# --- to_dict ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        encode_token(claims(role="admin"), KEY, ALG),
        forge(payload=raw_payload("NaN")),
        forge(payload=claims(name="\ud800 lone surrogate")),
        encode_token(CLAIMS, OTHER_KEY, ALG),
        "not a token",
    ],
    ids=["valid", "nan-exp", "lone-surrogate", "bad-signature", "garbage"],
)
def test_to_dict_is_strict_json_without_the_token(token: str) -> None:
    verdict = check(token).to_dict()
    text = json.dumps(verdict, allow_nan=False, ensure_ascii=False)
    assert token not in text
    assert KEY not in text
    if token.count(".") == 2:
        assert token.rsplit(".", 1)[1] not in text
    assert set(verdict) >= {"valid", "reason", "detail", "lanes", "header", "payload", "warnings"}
    assert set(verdict["lanes"]) == {"structure", "signature", "time", "policy"}


def test_to_dict_of_a_valid_token() -> None:
    verdict = check(encode_token(claims(role="admin"), KEY, ALG)).to_dict()
    assert verdict["valid"] is True
    assert verdict["reason"] is None
    assert verdict["signature_verified"] is True
    assert verdict["lanes"]["policy"]["status"] == "not_checked"
    assert verdict["claims"]["role"] == "admin"
    assert verdict["dates"]["exp"] == "2027-01-15 08:15:00 UTC (expires in 15 min)"


def test_to_dict_of_an_invalid_token() -> None:
    verdict = check(forge(payload=raw_payload("NaN"))).to_dict()
    assert verdict["reason"] == "invalid_claim"
    assert verdict["payload"]["exp"] == "NaN"
    assert verdict["dates"]["exp"] == "invalid NumericDate: NaN"
    assert verdict["claims"] is None


# --- describe_numeric_date ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "claim", "expected"),
    [
        (NOW + 14 * 60, "exp", "2027-01-15 08:14:00 UTC (expires in 14 min)"),
        (NOW - 3 * 3600, "exp", "2027-01-15 05:00:00 UTC (expired 3 h ago)"),
        (NOW - 45, "exp", "2027-01-15 07:59:15 UTC (expired 45 s ago)"),
        (NOW + 2 * 86_400, "exp", "2027-01-17 08:00:00 UTC (expires in 2 d)"),
        (NOW + 90.9, "exp", "2027-01-15 08:01:30 UTC (expires in 1 min)"),
        (NOW - 600, "iat", "2027-01-15 07:50:00 UTC (issued 10 min ago)"),
        (NOW + 60, "nbf", "2027-01-15 08:01:00 UTC (becomes valid in 1 min)"),
        (0, "exp", "1970-01-01 00:00:00 UTC (expired 20833 d ago)"),
        (float("nan"), "exp", "invalid NumericDate: NaN"),
        (float("inf"), "exp", "invalid NumericDate: Infinity"),
        (10**5000, "exp", "invalid NumericDate: a date after the year 9999"),
        (-(10**5000), "exp", "invalid NumericDate: a negative number"),
        (True, "exp", "invalid NumericDate: true (a boolean, not a number)"),
        ("soon", "exp", "invalid NumericDate: a string, not a number"),
        (None, "exp", "invalid NumericDate: null, not a number"),
        (object(), "exp", "invalid NumericDate: a object, not a number"),
    ],
    ids=[
        "in-14-min",
        "3-h-ago",
        "seconds",
        "days",
        "float",
        "iat",
        "nbf",
        "epoch",
        "nan",
        "inf",
        "huge",
        "huge-negative",
        "bool",
        "string",
        "null",
        "object",
    ],
)
def test_describe_numeric_date(value: Any, claim: str, expected: str) -> None:
    assert describe_numeric_date(value, NOW, claim=claim) == expected


def test_describe_numeric_date_defaults_to_exp_wording() -> None:
    assert describe_numeric_date(NOW + 60, NOW) == "2027-01-15 08:01:00 UTC (expires in 1 min)"


def test_describe_numeric_date_with_an_unusable_now() -> None:
    assert describe_numeric_date(NOW, float("nan")) == "2027-01-15 08:00:00 UTC"


# --- encode_token -------------------------------------------------------------------


def test_encode_token_adds_headers_but_never_alg() -> None:
    token = encode_token(CLAIMS, KEY, ALG, headers={"kid": "k1"})
    assert check(token).header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    with pytest.raises(ValueError, match="alg"):
        encode_token(CLAIMS, KEY, ALG, headers={"alg": "none"})


@pytest.mark.parametrize(
    ("key", "algorithm", "message"),
    [(KEY, "RS256", "supported"), (KEY, "none", "supported"), ("", "HS256", "empty")],
    ids=["rs256", "none", "empty-key"],
)
def test_encode_token_refuses_misconfiguration(key: str, algorithm: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_token(CLAIMS, key, algorithm)


# --- never raises -------------------------------------------------------------------

_FUZZ_ALPHABET = string.ascii_letters + string.digits + "-_.=+/ \n\t{}\"':,[]\\\x00é\ud800"


def _mutations(token: str, rng: random.Random) -> str:
    position = rng.randrange(len(token))
    choice = rng.randrange(6)
    if choice == 0:  # flip one character
        return token[:position] + rng.choice(_FUZZ_ALPHABET) + token[position + 1 :]
    if choice == 1:  # delete a span
        return token[:position] + token[position + rng.randint(1, 8) :]
    if choice == 2:  # insert junk
        junk = "".join(rng.choice(_FUZZ_ALPHABET) for _ in range(rng.randint(1, 8)))
        return token[:position] + junk + token[position:]
    if choice == 3:  # shuffle the segments
        parts = token.split(".")
        rng.shuffle(parts)
        return ".".join(parts)
    if choice == 4:  # swap in a hostile payload
        hostile = rng.choice(
            [b"NaN", b"[]", b'{"exp":1e400}', b"{" * 50, b'{"a":' * 33 + b"1" + b"}" * 33, b"\x00"]
        )
        header, _, signature = token.split(".")
        return f"{header}.{b64(hostile)}.{signature}"
    return token[: rng.randrange(len(token) + 1)]  # truncate


_HOSTILE_VALUES: list[Any] = [
    NOW,
    NOW + 60,
    NOW - 60,
    NOW + 0.5,
    0,
    -1,
    10**30,
    1e308,
    float("nan"),
    float("inf"),
    True,
    None,
    "",
    "42",
    "\ud800",
    [],
    {},
    [NOW],
    {"$gt": ""},
]


_GOOD_VALUES: dict[str, list[Any]] = {
    "sub": ["42"],
    "jti": ["jti-1"],
    "iat": [NOW - 60, NOW + 600],
    "exp": [NOW + 60, NOW - 60, NOW + 0.5, NOW + 86_400],
    "nbf": [NOW - 5, NOW + 600],
    "role": ["admin"],
    "x": [1],
}


def _signed_hostile_claims(rng: random.Random) -> str:
    """Correctly signed tokens mixing good and hostile claims: they reach the time lane."""
    payload = {
        name: rng.choice(good if rng.random() < 0.8 else _HOSTILE_VALUES)
        for name, good in _GOOD_VALUES.items()
        if rng.random() < 0.9
    }
    header = {**HEADER, **({"kid": rng.choice(_HOSTILE_VALUES)} if rng.random() < 0.3 else {})}
    return forge(header=header, payload=json.dumps(payload).encode())


def _assert_sound(sample: str, result: TokenCheck) -> None:
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert result.valid is (result.reason is None)
    assert result.valid is (result.claims is not None)
    if len(sample) > 12:
        assert json.dumps(sample)[1:-1] not in text


def test_random_and_mutated_strings_never_raise() -> None:
    rng = random.Random(20_271_501)
    valid = encode_token(claims(role="admin", nbf=NOW - 5), KEY, ALG)
    samples = [_mutations(valid, rng) for _ in range(1500)]
    for _ in range(1500):
        length = rng.choice([0, 1, 2, 3, 10, 50, 200])
        samples.append("".join(rng.choice(_FUZZ_ALPHABET) for _ in range(length)))
    for _ in range(500):
        parts = [b64(bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))) for _ in "xyz"]
        samples.append(".".join(parts))
    for sample in samples:
        result = check(sample)
        _assert_sound(sample, result)
        # Any change to the signed text breaks it; surrounding whitespace is the only slack.
        assert not result.valid or sample.strip() == valid


def test_signed_tokens_with_hostile_claims_never_raise() -> None:
    rng = random.Random(20_270_115)
    reasons: set[InvalidReason | None] = set()
    for _ in range(1000):
        sample = _signed_hostile_claims(rng)
        result = check(sample, max_lifetime_seconds=60)
        _assert_sound(sample, result)
        assert result.lanes[Lane.SIGNATURE].status is LaneStatus.PASS
        reasons.add(result.reason)
    # The generator really reaches every decision of the time lane.
    assert reasons >= {
        None,
        InvalidReason.MISSING_CLAIM,
        InvalidReason.INVALID_CLAIM,
        InvalidReason.EXPIRED,
        InvalidReason.NOT_YET_VALID,
    }


@pytest.mark.parametrize(
    "value",
    [None, 123, b"a.b.c", ["a", "b", "c"], {"alg": "none"}],
    ids=["none", "int", "bytes", "list", "dict"],
)
def test_non_string_tokens_never_raise(value: Any) -> None:
    result = check_token(value, KEY, ALG, now=NOW)
    assert result.reason is InvalidReason.MALFORMED


@pytest.mark.parametrize(
    "key", ["", "\ud800" * 40, "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"]
)
def test_odd_keys_never_raise(key: str) -> None:
    result = check_token(forge(), key, ALG, now=NOW)
    assert result.reason is InvalidReason.BAD_SIGNATURE
