"""Which roles may call each route, declared by the dependencies and published in OpenAPI.

The service layer enforces the rules (backend/services/permissions.py); a route only
says which of them applies, by taking StaffActorDep or AdminActorDep rather than
ActorDep. `install_role_docs` writes that into each operation as `x-roles` (and
`x-roles-note`), so that any client, such as the console's route probe, reads who may
call a route from the document instead of keeping a list of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from backend.models import Role

ROLES_KEY = "x-roles"
ROLES_NOTE_KEY = "x-roles-note"
EVERY_ROLE = tuple(role.value for role in Role)


def declare_roles(
    roles: tuple[Role, ...], note: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a dependency as standing for a route callable by `roles` only."""

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        dependency.x_roles = tuple(role.value for role in roles)  # type: ignore[attr-defined]
        dependency.x_roles_note = note  # type: ignore[attr-defined]
        return dependency

    return mark


def install_role_docs(app: FastAPI) -> None:
    """Add `x-roles` to every operation of `app`'s OpenAPI document that needs a token."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI rebuilds its cached document when routes are added; annotating is
        # idempotent, so each answer is annotated whether it was rebuilt or not.
        document = build()
        annotate(document, app.routes)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def annotate(document: dict[str, Any], routes: list[Any]) -> None:
    paths = document.get("paths", {})
    # Route contexts carry the full path of routes from included routers.
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(context.path_format, {}).get(method.lower())
            if operation is None or not operation.get("security"):
                continue
            declared = [call for call in _calls(route.dependant) if hasattr(call, "x_roles")]
            roles = declared[0].x_roles if declared else EVERY_ROLE
            operation[ROLES_KEY] = list(roles)
            if declared and declared[0].x_roles_note:
                operation[ROLES_NOTE_KEY] = declared[0].x_roles_note


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)
