"""Which domain errors a function can raise, found by reading the code it can reach.

Follows every call to a function of the backend package (through module attributes
such as `users.create_user` and bare names), collecting each DomainError class that
is constructed on the way (`raise NotFound(...)`, or a helper returning one). Over-
approximates on purpose: a branch never taken from the API still counts.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from backend.services.errors import DomainError

PACKAGE = "backend."


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _own_function(target: Any) -> Callable[..., Any] | None:
    target = getattr(target, "__func__", target)
    if inspect.isfunction(target):
        target = inspect.unwrap(target)
    if inspect.isfunction(target) and target.__module__.startswith(PACKAGE):
        return target
    return None


def reachable_errors(call: Any) -> set[type[DomainError]]:
    """Every DomainError class `call` (a route or dependency function, or an object of a
    backend class), or a backend function it calls, constructs; a library's has none."""
    if not inspect.isfunction(call):
        # A dependency object (a security scheme): its own __call__, if it is ours.
        method = _own_function(vars(type(call)).get("__call__"))
        return set() if method is None else _walk(method, set())
    return _walk(inspect.unwrap(call), set())


def _walk(function: Callable[..., Any], seen: set[Callable[..., Any]]) -> set[type[DomainError]]:
    if function in seen:
        return set()
    seen.add(function)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    errors: set[type[DomainError]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, function.__globals__)
        if inspect.isclass(target) and issubclass(target, DomainError):
            errors.add(target)
        elif (callee := _own_function(target)) is not None:
            errors |= _walk(callee, seen)
    return errors
