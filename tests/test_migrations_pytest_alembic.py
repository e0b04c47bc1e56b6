"""pytest-alembic's standard checks, on a fresh SQLite file and a fresh PostgreSQL database.

One head; upgrade from base to head; the models match what the migrations built; every
revision's downgrade works from its upgrade. The plugin itself is off (pyproject.toml:
its collector fails on pytest 9); its checks and runner fixture are imported here. The
runner hands env.py a sync connection from the async engine (env.py accepts one), so the
project's env.py runs as in production.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from conftest import DEFAULT_TEST_POSTGRES_URL, _create_postgres_database, _drop_postgres_database
from pytest_alembic.plugin.fixtures import alembic_runner
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from backend.database import Database
from backend.models.user import use_postgresql_index_options
from backend.services import migrations

__all__ = [
    "alembic_runner",
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

# The PostgreSQL-only expression index cannot be reflected on SQLite; env.py leaves it
# out of the comparison there (dialect_filter), after Alembic has said so.
pytestmark = pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"
)


@pytest.fixture
def alembic_config() -> Config:
    return migrations.alembic_config()


@pytest.fixture(params=["sqlite", "postgresql"])
def alembic_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AsyncEngine]:
    """A new empty database (PostgreSQL's index options attached, as the app does).

    No pool: the runner opens a new event loop for every step, and a pooled connection
    would outlive the loop it belongs to."""
    if request.param == "sqlite":
        database = Database(
            f"sqlite+aiosqlite:///{tmp_path / 'pytest-alembic.db'}", poolclass=NullPool
        )
        yield database.engine
        asyncio.run(database.dispose())
        return
    server_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    url = asyncio.run(_create_postgres_database(server_url))
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server answers; CI must run the PostgreSQL tests")
        pytest.skip("no PostgreSQL server answers")
    use_postgresql_index_options()
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        asyncio.run(engine.dispose())
        asyncio.run(_drop_postgres_database(server_url, url))
