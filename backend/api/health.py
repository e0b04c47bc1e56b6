"""GET /health: is the API up, can it reach its database, at which revision."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from backend.api.deps import DatabaseDep
from backend.api.errors import DATABASE_UNAVAILABLE, is_connection_error
from backend.services import schema

router = APIRouter(tags=["health"])


class HealthReport(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    revision: str | None
    detail: str | None = None


@router.get(
    "/health",
    summary="Liveness and database status",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "The database cannot be reached."}},
)
async def health(database: DatabaseDep) -> JSONResponse:
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await schema.current_revision(database.engine)
    except Exception as error:
        if not is_connection_error(error):
            raise
        body = {"status": "unavailable", "database": "unreachable", "revision": None}
        return JSONResponse({**body, "detail": DATABASE_UNAVAILABLE}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "revision": revision})
