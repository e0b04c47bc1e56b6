"""create_app(): the FastAPI application, for `serve` and for the console's embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from backend.api import auth, health, users
from backend.api.errors import install_error_handlers
from backend.api.openapi import install_openapi
from backend.api.roles import install_role_docs
from backend.config import Settings, get_settings
from backend.database import Database
from backend.middleware import EdgeMiddleware
from backend.middleware.request_log import RequestLog
from backend.services import audit_key
from backend.services.policy import AuthPolicy

API_TITLE = "backend-console API"


class BackendAPI(FastAPI):
    """FastAPI with EdgeMiddleware (request id, security headers, access log) outside
    Starlette's own outermost middleware, which answers an unhandled error (500) past
    every middleware added with add_middleware: that answer gets them too."""

    token_paths: frozenset[str] = frozenset()
    request_log: RequestLog | None = None  # the console's live request log

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return EdgeMiddleware(stack, token_paths=self.token_paths, request_log=self.request_log)


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
    audit_key.use_settings(settings)  # the audit chain is signed with this SECRET_KEY
    owns_database = database is None
    database = database or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:
            await database.dispose()

    app = BackendAPI(
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
    # FastAPI tries included routers in order: /api/users/me, the most frequent request
    # by far, is found in the first one rather than after probing the others.
    app.include_router(users.router)
    app.include_router(auth.router)
    app.include_router(health.router)
    install_openapi(app)
    app.token_paths = frozenset({app.url_path_for("login")})
    app.request_log = request_log
    return app
