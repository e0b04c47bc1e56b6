"""The route probe, end to end: the target's catalog, one request sent, checked and kept.

The console's Routes screen and `backend-console call` both go through here: the
catalog comes from the target's own /openapi.json (so routes added later appear), an
answer is checked against the route's documented schema, and every request (or
failure) is appended to the history without its credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from backend.services.errors import InvalidInput
from backend.services.probe_client import (
    ProbeFailed,
    ProbeRequest,
    ProbeResponse,
    ProbeTarget,
    describe_failure,
    send_with,
)
from backend.services.probe_history import ProbeHistory, entry_for
from backend.services.routes_catalog import RouteInfo, describe_routes, find_operation, match_route

OPENAPI_PATH = "/openapi.json"


@dataclass(frozen=True, slots=True)
class Catalog:
    """A target's OpenAPI document and the routes described in it."""

    document: Mapping[str, Any]
    routes: tuple[RouteInfo, ...]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Catalog:
        return cls(document, tuple(describe_routes(document)))

    def operation(self, route: RouteInfo) -> Mapping[str, Any]:
        return find_operation(self.document, route.method, route.path)

    def route_for(self, method: str, concrete_path: str) -> RouteInfo | None:
        return match_route(list(self.routes), method, concrete_path)


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    request: ProbeRequest
    response: ProbeResponse | None = None
    failure: ProbeFailed | None = None
    findings: tuple[str, ...] = field(default_factory=tuple)


async def fetch_catalog(target: ProbeTarget, *, timeout_seconds: float) -> Catalog:
    """The target's routes, from its /openapi.json. Raises ProbeFailed, InvalidInput."""
    async with target.client(timeout_seconds) as client:
        try:
            response = await client.get(OPENAPI_PATH)
        except httpx.TimeoutException:
            raise ProbeFailed(
                f"No answer from {target.label} within {timeout_seconds:g} s (timeout).", "timeout"
            ) from None
        except httpx.TransportError as error:
            raise describe_failure(target, error) from None
    if response.status_code != 200:
        raise InvalidInput(
            f"{target.label} answered {response.status_code} for {OPENAPI_PATH}, "
            "not its API document."
        )
    try:
        document = response.json()
    except ValueError:
        raise InvalidInput(f"{target.label}{OPENAPI_PATH} is not JSON.") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{target.label}{OPENAPI_PATH} is not an OpenAPI document.")
    return Catalog.from_document(document)


async def probe(
    client: httpx.AsyncClient,
    target: ProbeTarget,
    catalog: Catalog,
    request: ProbeRequest,
    *,
    token: str | None,
    auth_label: str,
    history: ProbeHistory | None,
    check: bool = True,
) -> ProbeOutcome:
    """Send `request`, check the answer against the route's documentation, keep it in history.

    A failure to get any answer is returned as the outcome's `failure` (and kept too).
    Without `check` the findings are left for the caller (check_answer), and without
    `history` the keeping (remember), e.g. to show the answer first.
    """
    try:
        response = await send_with(client, target, request, token)
    except ProbeFailed as failure:
        outcome = ProbeOutcome(request, failure=failure)
    else:
        findings = tuple(check_answer(catalog, request, response)) if check else ()
        outcome = ProbeOutcome(request, response, findings=findings)
    if history is not None:
        remember(history, outcome, auth_label)
    return outcome


def check_answer(catalog: Catalog, request: ProbeRequest, response: ProbeResponse) -> list[str]:
    """Findings for `response` against the documentation of `request`'s route."""
    from backend.services.probe_checks import check_response

    route = catalog.route_for(request.method, request.path)
    if route is None:
        return [f"{request.method} {request.path} is not in the API's document."]
    return check_response(
        catalog.document,
        catalog.operation(route),
        response.status,
        response.content_type,
        response.body,
        complete=response.complete,
    )


def remember(history: ProbeHistory, outcome: ProbeOutcome, auth_label: str) -> None:
    """Append `outcome`'s request to the history (secrets redacted, auth as its mode only)."""
    response = outcome.response
    if response is None:
        said = outcome.failure.message if outcome.failure is not None else "No answer."
    else:
        said = f"{response.status} {response.reason}".strip()
    history.append(
        entry_for(
            outcome.request,
            auth_label,
            status=None if response is None else response.status,
            outcome=said,
            elapsed_ms=None if response is None else response.elapsed_ms,
        )
    )


def parse_pairs(pairs: list[str], what: str) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE arguments as pairs. Raises InvalidInput naming the bad one."""
    parsed: list[tuple[str, str]] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{what} {pair!r} is not KEY=VALUE.")
        parsed.append((name, value))
    return tuple(parsed)


def pretty_body(response: ProbeResponse) -> str:
    """The body for reading: indented when it is JSON and complete, as received otherwise."""
    text = response.text()
    if response.complete and "json" in response.content_type:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text
