"""The API's routes, read from its OpenAPI document (plain dicts: no FastAPI here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.services.errors import NotFound

# OpenAPI's operation keys inside a path item, in the order a listing shows them.
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One operation: what to call, what it does, and whether it needs a signed-in user."""

    method: str
    path: str
    summary: str
    tags: tuple[str, ...]
    requires_auth: bool
    auth_schemes: tuple[str, ...]
    operation_id: str | None
    deprecated: bool
    # Who may call it, from the API's own `x-roles` extension; () for a public route.
    roles: tuple[str, ...] = ()
    roles_note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def group(self) -> str:
        """The tag it is listed under (its first), or "other"."""
        return self.tags[0] if self.tags else "other"

    def matches(self, text: str) -> bool:
        """Every word of `text` is in its method, path or summary (any case)."""
        haystack = f"{self.method} {self.path} {self.summary}".lower()
        return all(word in haystack for word in text.lower().split())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists instead of tuples)."""
        return {
            "method": self.method,
            "path": self.path,
            "summary": self.summary,
            "tags": list(self.tags),
            "requires_auth": self.requires_auth,
            "auth_schemes": list(self.auth_schemes),
            "operation_id": self.operation_id,
            "deprecated": self.deprecated,
            "roles": list(self.roles),
            "roles_note": self.roles_note,
        }


def describe_routes(openapi: Mapping[str, Any]) -> list[RouteInfo]:
    """Every operation in an OpenAPI document, by path then method.

    An operation's own `security` overrides the document's; it requires auth when it
    lists requirements and none of them is the empty one (`{}` means anonymous is fine).
    Malformed parts are skipped rather than raised on.
    """
    default_security = openapi.get("security")
    routes: list[RouteInfo] = []
    paths = openapi.get("paths")
    if not isinstance(paths, Mapping):
        return routes
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, Mapping):
                routes.append(_route(method, str(path), operation, default_security))
    return sorted(routes, key=lambda route: (route.path, HTTP_METHODS.index(route.method.lower())))


def _route(
    method: str, path: str, operation: Mapping[str, Any], default_security: Any
) -> RouteInfo:
    security = operation.get("security", default_security)
    requirements = _requirements(security)
    tags = operation.get("tags")
    operation_id = operation.get("operationId")
    roles = operation.get("x-roles")
    note = operation.get("x-roles-note")
    return RouteInfo(
        method=method.upper(),
        path=path,
        summary=_summary(operation),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        requires_auth=bool(requirements) and all(requirements),
        auth_schemes=tuple(sorted({name for requirement in requirements for name in requirement})),
        operation_id=operation_id if isinstance(operation_id, str) else None,
        deprecated=operation.get("deprecated") is True,
        roles=tuple(str(role) for role in roles) if isinstance(roles, list) else (),
        roles_note=note if isinstance(note, str) else None,
    )


def _requirements(security: Any) -> list[Mapping[str, Any]]:
    if not isinstance(security, list):
        return []
    return [requirement for requirement in security if isinstance(requirement, Mapping)]


def _summary(operation: Mapping[str, Any]) -> str:
    """The summary, or else the description's first line."""
    summary = operation.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    description = operation.get("description")
    if isinstance(description, str) and description.strip():
        return description.strip().splitlines()[0]
    return ""


def find_operation(openapi: Mapping[str, Any], method: str, path: str) -> Mapping[str, Any]:
    """The operation for `method` and `path` (a template such as /api/users/{user_id}).

    Its path-level parameters are merged in (the operation's own win). Raises NotFound.
    """
    paths = openapi.get("paths")
    item = paths.get(path) if isinstance(paths, Mapping) else None
    operation = item.get(method.lower()) if isinstance(item, Mapping) else None
    if not isinstance(operation, Mapping):
        raise NotFound(f"The API has no route {method.upper()} {path}.")
    shared = item.get("parameters") if isinstance(item, Mapping) else None
    if not isinstance(shared, list) or not shared:
        return operation
    own_raw = operation.get("parameters")
    own: list[Any] = own_raw if isinstance(own_raw, list) else []
    named = {(p.get("name"), p.get("in")) for p in own if isinstance(p, Mapping)}
    inherited = [
        p for p in shared if isinstance(p, Mapping) and (p.get("name"), p.get("in")) not in named
    ]
    return {**operation, "parameters": [*inherited, *own]}


def match_route(routes: list[RouteInfo], method: str, concrete_path: str) -> RouteInfo | None:
    """The route whose template matches a concrete path (/api/users/7 -> /api/users/{user_id}).

    A literal segment beats a parameter: /api/users/me is the `me` route, not user "me".
    """
    wanted = method.upper()
    parts = concrete_path.split("?")[0].rstrip("/").split("/")
    best: tuple[int, RouteInfo] | None = None
    for route in routes:
        template = route.path.rstrip("/").split("/")
        if route.method != wanted or len(template) != len(parts):
            continue
        literal = 0
        for expected, actual in zip(template, parts, strict=True):
            if expected == actual:
                literal += 1
            elif not (expected.startswith("{") and expected.endswith("}") and actual):
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, route)
    return best[1] if best else None
