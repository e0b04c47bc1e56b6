"""The API's routes, read from its OpenAPI document (plain dicts: no FastAPI here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    return RouteInfo(
        method=method.upper(),
        path=path,
        summary=_summary(operation),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        requires_auth=bool(requirements) and all(requirements),
        auth_schemes=tuple(sorted({name for requirement in requirements for name in requirement})),
        operation_id=operation_id if isinstance(operation_id, str) else None,
        deprecated=operation.get("deprecated") is True,
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
