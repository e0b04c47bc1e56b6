"""create_app(): the FastAPI application, for `serve` and for the console's embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.api import auth, health, users
from backend.api.errors import install_error_handlers
from backend.api.openapi import install_openapi
from backend.api.roles import install_role_docs
from backend.config import Settings, get_settings
from backend.database import Database
from backend.middleware import (
    RequestIdMiddleware,
    RequestLoggingMiddleware,
    SecurityHeadersMiddleware,
)
from backend.middleware.request_log import RequestLog
from backend.services.policy import AuthPolicy

API_TITLE = "backend-console API"


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    request_log: RequestLog | None = None,
) -> FastAPI:
    """Build the API. Pass `database` to share the console's engine (it then owns it).

    `request_log` receives every request (the console's live log).

    Raises ConfigError when the settings are unusable (e.g. no SECRET_KEY in production).
    """
    settings = settings or get_settings()
    policy = AuthPolicy.from_settings(settings)
    owns_database = database is None
    database = database or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:
            await database.dispose()

    app = FastAPI(
        title=API_TITLE,
        version="0.1.0",
        lifespan=lifespan,
        swagger_ui_parameters={"persistAuthorization": True},
        # No OpenTelemetry here: FastAPI would otherwise ask the global providers
        # whether to trace, on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.policy = policy
    install_error_handlers(app)
    install_role_docs(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    install_openapi(app)
    # Added last, so they run first: every response, errors included, gets an id, a log
    # line and the security headers.
    app.add_middleware(SecurityHeadersMiddleware, token_paths={app.url_path_for("login")})
    app.add_middleware(RequestLoggingMiddleware, request_log=request_log)
    app.add_middleware(RequestIdMiddleware)
    return app
