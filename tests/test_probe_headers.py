"""Free-form request headers: which are refused and why, how secrets are masked and kept."""

from __future__ import annotations

import re

import pytest

from backend.services.errors import InvalidInput
from backend.services.probe_client import ProbeRequest
from backend.services.probe_headers import (
    check_headers,
    mask_header_value,
    parse_header_arguments,
    typed_headers,
)
from backend.services.probe_history import REDACTED, entry_for
from backend.services.probe_share import as_curl, as_httpie


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("X Trace", "1", "'X Trace' is not a header name"),
        ("X-Trace:", "1", "is not a header name"),
        ("", "orphan value", "Give this header a name."),
        ("Content-Length", "3", "Content-Length is set by the HTTP client"),
        ("Host", "example.com", "Host is set by the HTTP client"),
        ("X-Trace", "a\r\nInjected: yes", "cannot hold a line break"),
        ("X-Version", "2", "X-Version has its own field above."),
    ],
)
def test_a_bad_header_is_named_at_its_row(name: str, value: str, problem: str) -> None:
    problems = check_headers(
        [("Accept", "application/json"), (name, value)], documented=["x-version"]
    )
    assert [p.row for p in problems] == [1]
    assert problem in problems[0].message
    assert problems[0].message.endswith(".")


def test_empty_rows_are_ignored_and_names_trimmed() -> None:
    rows = [("", ""), (" X-Trace ", " abc "), ("  ", "")]
    assert check_headers(rows) == []
    assert typed_headers(rows) == (("X-Trace", "abc"),)


def test_a_header_twice_and_authorization_under_an_auth_mode_are_refused() -> None:
    twice = check_headers([("X-A", "1"), ("x-a", "2")])
    assert [(p.row, p.message) for p in twice] == [
        (1, "x-a is given twice: join its values with a comma.")
    ]
    typed = [("Authorization", "Basic Zm9vOmJhcg==")]
    assert check_headers(typed) == []
    refused = check_headers(typed, auth_sets_authorization=True)
    assert refused[0].message.startswith("Authorization is set by the auth mode")


def test_secret_headers_are_masked_in_shared_commands_unless_revealed() -> None:
    request = ProbeRequest(
        "GET",
        "/x",
        headers=(("Authorization", "Basic Zm9vOmJhcg=="), ("Cookie", "session=abcdefghijkl")),
    )
    curl = as_curl(request, "http://h", None)
    assert "Zm9vOmJhcg==" not in curl
    assert "'Authorization: Basic Zm9vOmJh…(12 chars)'" in curl
    assert "abcdefghijkl" not in as_httpie(request, "http://h", None)
    assert "Cookie:session=abcdefghijkl" in as_httpie(request, "http://h", None, reveal=True)
    assert mask_header_value("short") == "•••••"


def test_the_history_keeps_no_secret_header() -> None:
    request = ProbeRequest(
        "GET", "/x", headers=(("Authorization", "Bearer t0ken"), ("X-Trace", "keep-me"))
    )
    entry = entry_for(request, "no auth", status=200, outcome="200 OK", elapsed_ms=1)
    assert entry.headers == [["Authorization", REDACTED], ["X-Trace", "keep-me"]]


def test_header_arguments_read_like_curls() -> None:
    assert parse_header_arguments(["X-Trace: abc", "Accept:text/plain"]) == (
        ("X-Trace", "abc"),
        ("Accept", "text/plain"),
    )
    with pytest.raises(InvalidInput, match=re.escape("--header 'X-Trace abc' is not NAME: VALUE.")):
        parse_header_arguments(["X-Trace abc"])
    with pytest.raises(InvalidInput, match="--header 'Host: h': Host is set by the HTTP client"):
        parse_header_arguments(["Host: h"])
