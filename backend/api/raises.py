"""`@raises(...)`: a route or dependency declares the domain errors it may raise.

The OpenAPI document (backend/api/openapi.py) lists their statuses; a test walks the
routes and fails when one can raise an error its document leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from backend.services.errors import DomainError

Function = TypeVar("Function", bound=Callable[..., Any])
_DECLARED = "__domain_errors__"


def raises(*errors: type[DomainError]) -> Callable[[Function], Function]:
    """Declare the domain errors a route or dependency may raise (its document lists them)."""

    def declare(function: Function) -> Function:
        setattr(function, _DECLARED, (*getattr(function, _DECLARED, ()), *errors))
        return function

    return declare


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """The endpoint and every dependency under it, depth first."""
    if dependant.call is not None:
        yield dependant.call
    for dependency in dependant.dependencies:
        yield from dependency_calls(dependency)


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """The app's documented API routes, each as included (prefixed path, all dependencies)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def declared_errors(route: RouteContext) -> set[type[DomainError]]:
    """The domain errors a route's endpoint and all its dependencies declare."""
    calls = dependency_calls(route.dependant)
    return {error for call in calls for error in getattr(call, _DECLARED, ())}
