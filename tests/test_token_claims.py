"""Extra claims typed by operators (console and CLI): parsed strictly, checked once."""

from __future__ import annotations

import pytest

from backend.services.errors import InvalidInput
from backend.services.token_claims import (
    check_extra_claims,
    parse_claim_assignments,
    parse_extra_claims,
)


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("", {}),
        ("   \n ", {}),
        ('{"tenant": "acme", "beta": [1, 2]}', {"tenant": "acme", "beta": [1, 2]}),
        ("tenant=acme\n\nbeta=[1,2]\nflag=true", {"tenant": "acme", "beta": [1, 2], "flag": True}),
        ("note=a=b", {"note": "a=b"}),
        ("n=NaN\nbig=1e400", {"n": "NaN", "big": "1e400"}),  # not strict JSON: kept as text
        ("deep=" + "[" * 10_000, {"deep": "[" * 10_000}),
    ],
)
def test_claims_are_a_json_object_or_key_value_lines(text: str, claims: dict[str, object]) -> None:
    assert parse_extra_claims(text) == claims


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"tenant": ', "not valid JSON: Expecting value at line 1, column 11."),
        ('{"a": 1} trailing', "not valid JSON: Extra data at line 1, column 10"),
        ('{"n": NaN}', "NaN is not a JSON number"),
        ('{"n": -Infinity}', "-Infinity is not a JSON number"),
        ('{"n": 1e400}', "1e400 is too large for a number"),
        ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
        ("[" * 100_000, "must look like KEY=VALUE"),
        ('{"a":' * 100_000, "The claims nest too deeply."),
        ('{"exp": 1, "sub": "2"}', "Extra claims cannot override exp, sub."),
        ("jti=x", "Extra claims cannot override jti."),
        ("=value", "must look like KEY=VALUE"),
        ("just text", "must look like KEY=VALUE"),
    ],
)
def test_mistakes_get_one_clear_sentence(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_extra_claims(text)


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(InvalidInput, match="plain JSON values"):
        check_extra_claims({"n": float("nan")})
    with pytest.raises(InvalidInput, match="plain JSON values"):
        check_extra_claims({"when": object()})


def test_cli_assignments_keep_non_json_values_as_text() -> None:
    assert parse_claim_assignments(["a=1", "b=x y", "c={bad"]) == {"a": 1, "b": "x y", "c": "{bad"}
