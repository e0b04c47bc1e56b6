"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server, trust auth). A
throwaway database is created for the run and dropped afterwards. Without a server
the PostgreSQL tests are skipped with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings, load_settings
from backend.database import Database
from backend.main import create_app
from backend.models import AuditChain, Role, User
from backend.models.audit import GENESIS_HASH
from backend.schemas.user import UserCreate
from backend.services import audit_key, migrations, users
from backend.services.actor import Actor
from backend.services.policy import AuthPolicy

DEFAULT_TEST_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
TEST_PASSWORD = "correct horse battery"
TABLES = ("audit_events", "revoked_tokens", "users")
BACKENDS = ("sqlite", "postgresql")
# A statement that keeps its connection busy for a few seconds, per dialect.
SLOW_QUERIES = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 20000000) "
    "SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(3)",
}


async def assert_nothing_left_running(tasks_before: set[asyncio.Task[Any]]) -> None:
    """Do what asyncio.run does once its main task ends, and check that it can end.

    asyncio.run cancels every task still there, once, and waits for them all: a task
    that outlives that wait keeps the process from exiting.
    """
    leftovers = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    if leftovers:
        _done, pending = await asyncio.wait(leftovers, timeout=10)
        assert not pending, pending


# Keep tests hermetic: no developer .env or SECRET_KEY leaks in.
for _name in ("DATABASE_URL", "SECRET_KEY", "ENVIRONMENT"):
    os.environ.pop(_name, None)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_postgres_database(server_url: str) -> str | None:
    """A fresh database on the server, or None when no server answers."""
    name = f"bc_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    connection = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked postgres_only is not collected on SQLite (its feature is not there)."""
    sqlite_only_copies = [
        item
        for item in items
        if item.get_closest_marker("postgres_only") is not None
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database_url") == "sqlite"  # type: ignore[attr-defined]
    ]
    if sqlite_only_copies:
        config.hook.pytest_deselected(items=sqlite_only_copies)
        items[:] = [item for item in items if item not in sqlite_only_copies]


_TEST_KEY_SETTINGS = load_settings(secret_key=TEST_SECRET_KEY)
# Already for the session's own fixtures (they migrate, and 0005 signs the chain): without
# it the key would come from the environment's settings, a key generated in the user's
# own data dir.
audit_key.use_settings(_TEST_KEY_SETTINGS)


@pytest.fixture(autouse=True)
def audit_chain_key() -> None:
    """Each test signs the audit chain with the tests' key, as each edge sets it from its
    settings (never a generated key): an app built with another key does not carry over."""
    audit_key.use_settings(_TEST_KEY_SETTINGS)


@pytest.fixture(scope="session")
async def postgresql_url() -> AsyncIterator[str]:
    """The URL of this run's throwaway PostgreSQL database."""
    server_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    database_url = await _create_postgres_database(server_url)
    if database_url is None:
        reason = f"no PostgreSQL server answers at {make_url(server_url).render_as_string()}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    yield database_url
    await _drop_postgres_database(server_url, database_url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises every database test over both backends."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="session")
async def migrated_database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database.engine)
    yield database
    await database.dispose()


async def _empty_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            await connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
        else:
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))
            # Like RESTART IDENTITY: AUTOINCREMENT's counters start again (migration 0003).
            await connection.execute(text("DELETE FROM sqlite_sequence"))
        # The audit chain starts again with the emptied log.
        await connection.execute(
            update(AuditChain).values(
                head_seq=0, head_hash=GENESIS_HASH, pruned_through_seq=0, anchor_hash=GENESIS_HASH
            )
        )


@pytest.fixture
async def db(migrated_database: Database) -> Database:
    """A migrated database (SQLite, then PostgreSQL), emptied for this test."""
    await _empty_tables(migrated_database)
    return migrated_database


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "bcrypt_rounds": 4,
        "data_dir": data_dir,
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
async def sqlite_settings(sqlite_url: str, data_dir: Path) -> Settings:
    """For tests where the database does not matter: SQLite only, migrated."""
    database = Database(sqlite_url)
    try:
        await migrations.upgrade(database.engine)
    finally:
        await database.dispose()
    return make_settings(sqlite_url, data_dir)


@pytest.fixture
def settings(db: Database, data_dir: Path) -> Settings:
    return make_settings(db.url, data_dir)


@pytest.fixture
def policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy.from_settings(settings)


@pytest.fixture
def console_actor() -> Actor:
    return Actor.console("tester")


UserFactory = Callable[..., Awaitable[User]]


@pytest.fixture
def make_user(session: AsyncSession, policy: AuthPolicy) -> UserFactory:
    """Create a user through the service layer, as an administrator would."""
    counter = iter(range(1, 1_000_000))

    async def factory(
        role: Role = Role.USER,
        email: str | None = None,
        password: str = TEST_PASSWORD,
        full_name: str = "Test User",
    ) -> User:
        data = UserCreate(
            email=email or f"{role.value}{next(counter)}@example.com",
            password=password,
            full_name=full_name,
            role=role,
        )
        return await users.create_user(session, Actor.cli("fixture"), data, policy.hasher)

    return factory


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class LoginAs(Protocol):
    def __call__(self, user: User, password: str = TEST_PASSWORD) -> Awaitable[dict[str, str]]: ...


@pytest.fixture
def login_as(client: httpx.AsyncClient) -> LoginAs:
    """Log in over HTTP and return the Authorization header."""

    async def login(user: User, password: str = TEST_PASSWORD) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", data={"username": user.email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return login


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database of its own (a new SQLite file, a new PostgreSQL database)."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield database
        await database.dispose()
        return
    server_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    url = await _create_postgres_database(server_url)
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server answers; CI must run the PostgreSQL tests")
        pytest.skip("no PostgreSQL server answers")
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        await _drop_postgres_database(server_url, url)
