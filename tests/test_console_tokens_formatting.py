"""What the token views show for hostile decoded values: never a crash, nothing hidden."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.services.errors import InvalidInput
from backend.services.jwt_display import MAX_NUMERIC_DATE, relative_phrase
from console.widgets.tokens.formatting import (
    claim_time,
    escape_invisible,
    local_date,
    pretty_json,
    safe_line,
)
from console.widgets.tokens.issue_form import parse_minutes

PLUS_14 = dt.timezone(dt.timedelta(hours=14))


def test_invisible_and_reordering_characters_are_escaped() -> None:
    text = "a\u202eb\u200bc\x1b[2Jd\x7fe\u2028f\U000e0041"
    assert escape_invisible(text) == "a\\u202eb\\u200bc\\u001b[2Jd\\u007fe\\u2028f\\U000e0041"


def test_pretty_json_keeps_its_indentation_and_names_non_finite_numbers() -> None:
    shown = pretty_json({"exp": float("nan"), "big": float("inf"), "n": 10**40, "s": "x\ny"})
    assert shown.splitlines() == [
        "{",
        '  "exp": "NaN",',
        '  "big": "Infinity",',
        f'  "n": {10**40},',
        '  "s": "x\\ny"',
        "}",
    ]


def test_the_last_representable_date_survives_a_positive_utc_offset() -> None:
    assert local_date(MAX_NUMERIC_DATE, PLUS_14) == "9999-12-31 23:59:59 UTC"
    assert local_date(0, PLUS_14) == "1970-01-01 14:00:00 UTC+14:00"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (float("nan"), "invalid NumericDate: NaN"),
        (float("-inf"), "invalid NumericDate: -Infinity"),
        (MAX_NUMERIC_DATE + 1, "invalid NumericDate: a date after the year 9999"),
        (-1, "invalid NumericDate: a negative number"),
        (True, "invalid NumericDate: true (a boolean, not a number)"),
        ("soon", "invalid NumericDate: a string, not a number"),
        ({"a": 1}, "invalid NumericDate: an object, not a number"),
    ],
)
def test_invalid_time_claims_are_named(value: object, problem: str) -> None:
    described = claim_time("exp", value, now=0, tz=dt.UTC)
    assert described.problem == problem
    assert described.date == ""


@pytest.mark.parametrize(
    ("claim", "delta", "phrase"),
    [
        ("exp", 14 * 60 + 5, "expires in 14 min"),
        ("exp", -3 * 3600, "expired 3 h ago"),
        ("nbf", 90, "becomes valid in 1 min"),
        ("nbf", -2 * 86400, "valid since 2 d ago"),
        ("iat", -30, "issued 30 s ago"),
        ("iat", 600, "issued 10 min in the future"),
    ],
)
def test_relative_phrases(claim: str, delta: float, phrase: str) -> None:
    assert relative_phrase(claim, delta) == phrase


def test_safe_line_clips_and_escapes() -> None:
    assert safe_line("x" * 200, limit=10) == "xxxxxxxxx…"
    assert safe_line("a\nb") == "a\\u000ab"
    assert safe_line(["not", "text"]) == "['not', 'text']"


@pytest.mark.parametrize(
    ("typed", "minutes"), [("", 30), ("  15 ", 15), ("1", 1), ("525600", 525600)]
)
def test_lifetime_accepts_whole_minutes_in_range(typed: str, minutes: int) -> None:
    assert parse_minutes(typed, default=30) == minutes


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("0", "between 1 and 525600 minutes"),
        ("525601", "between 1 and 525600 minutes"),
        ("-5", "between 1 and 525600 minutes"),
        ("1.5", "a whole number of minutes"),
        ("١٢", "a whole number of minutes"),  # Arabic-Indic digits: isdigit() but not ASCII
        ("ten", "a whole number of minutes"),
    ],
)
def test_lifetime_rejects_anything_else(typed: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_minutes(typed, default=30)
