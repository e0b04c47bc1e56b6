"""Free-form request headers of a probe request: parsed, checked, masked when secret.

The form has fields for the headers a route documents; any other header is typed
as a name and a value. Authorization belongs to the auth mode (a minted or pasted
token): typed by hand it is sent only without one, and like every header whose name
says secret it is masked on screen and in shared commands, and never kept in the
history (probe_history redacts it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.services.errors import InvalidInput
from backend.services.probe_auth import mask_token
from backend.services.probe_history import SECRET_NAME

# RFC 9110 section 5.6.2: a header name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Set by the HTTP client from the request itself.
CLIENT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
AUTHORIZATION = "authorization"


@dataclass(frozen=True, slots=True)
class HeaderProblem:
    row: int  # which of the typed headers (0-based)
    message: str


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (masked, never kept in the history)."""
    return bool(SECRET_NAME.search(name))


def mask_header_value(value: str) -> str:
    """A secret header's value masked like a token, its scheme kept ("Bearer eyJhbGci…")."""
    scheme, space, credential = value.partition(" ")
    if space and credential:
        return f"{scheme} {mask_token(credential)}"
    return mask_token(value)


def check_headers(
    headers: Sequence[tuple[str, str]],
    *,
    documented: Iterable[str] = (),
    auth_sets_authorization: bool = False,
) -> list[HeaderProblem]:
    """What is wrong with each typed (name, value) pair; rows with neither are ignored.

    `documented` names the headers the route has fields for; with
    `auth_sets_authorization` the auth mode sends a token, so Authorization may not
    be typed too.
    """
    has_field = {name.lower() for name in documented}
    problems: list[HeaderProblem] = []
    seen: set[str] = set()
    for row, (name, value) in enumerate(headers):
        problem = _problem(name.strip(), value, has_field, seen, auth_sets_authorization)
        if problem is not None:
            problems.append(HeaderProblem(row, problem))
        seen.add(name.strip().lower())
    return problems


def _problem(
    name: str, value: str, has_field: set[str], seen: set[str], auth_sets_authorization: bool
) -> str | None:
    lowered = name.lower()
    if not name:
        return "Give this header a name." if value.strip() else None
    if not HEADER_NAME.fullmatch(name):
        return (
            f"{name!r} is not a header name: letters, digits and !#$%&'*+-.^_`|~ only, "
            "no spaces or colons."
        )
    if lowered in CLIENT_HEADERS:
        return f"{name} is set by the HTTP client from the request itself."
    if lowered == AUTHORIZATION and auth_sets_authorization:
        return "Authorization is set by the auth mode: choose Auth none to type it by hand."
    if lowered in has_field:
        return f"{name} has its own field above."
    if lowered in seen:
        return f"{name} is given twice: join its values with a comma."
    if any(char in value for char in "\r\n\0"):
        return f"The value of {name} cannot hold a line break."
    return None


def typed_headers(headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The rows to send: names and values trimmed, empty rows left out."""
    return tuple((name.strip(), value.strip()) for name, value in headers if name.strip())


def parse_header_arguments(arguments: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`Name: value` arguments (as curl's -H) as pairs. Raises InvalidInput naming the bad one."""
    pairs: list[tuple[str, str]] = []
    for argument in arguments:
        name, colon, value = argument.partition(":")
        if not colon or not name.strip():
            raise InvalidInput(f"--header {argument!r} is not NAME: VALUE.")
        pairs.append((name.strip(), value.strip()))
    problems = check_headers(pairs)
    if problems:
        first = problems[0]
        raise InvalidInput(f"--header {arguments[first.row]!r}: {first.message}")
    return tuple(pairs)
