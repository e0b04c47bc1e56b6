"""The console's areas: the key that opens each, its title, and how to build its screen.

Screens are imported when first opened, so start-up loads only the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class Area:
    mode: str
    key: str
    title: str
    purpose: str
    build: Callable[[], Screen[Any]]


def _dashboard() -> Screen[Any]:
    from console.screens.dashboard import DashboardScreen

    return DashboardScreen()


def _users() -> Screen[Any]:
    from console.screens.users import UsersScreen

    return UsersScreen()


def _tokens() -> Screen[Any]:
    from console.screens.tokens import TokensScreen

    return TokensScreen()


def _migrations() -> Screen[Any]:
    from console.screens.migrations import MigrationsScreen

    return MigrationsScreen()


def _routes() -> Screen[Any]:
    from console.screens.routes import RoutesScreen

    return RoutesScreen()


def _audit() -> Screen[Any]:
    from console.screens.audit import AuditScreen

    return AuditScreen()


_DASHBOARD = "Health of the API and the database at a glance."
_MIGRATIONS = "Run and roll back Alembic migrations."
_ROUTES = "Probe the API's routes."
_AUDIT = "Browse the audit log."
AREAS: tuple[Area, ...] = (
    Area("dashboard", "d", "Dashboard", _DASHBOARD, _dashboard),
    Area("users", "u", "Users", "Find and manage user accounts.", _users),
    Area("tokens", "t", "Tokens", "Issue, inspect and revoke JWTs.", _tokens),
    Area("migrations", "m", "Migrations", _MIGRATIONS, _migrations),
    Area("routes", "r", "Routes", _ROUTES, _routes),
    Area("audit", "a", "Audit", _AUDIT, _audit),
)
