"""Alembic migrations on a fresh database of each kind: every step up and down, and the head
matching the models; the alembic command line and the service agree; env.py takes a handed
connection.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection
from test_cli import cli_environment

from backend.database import Base, Database
from backend.services import migrations
from backend.services.errors import InvalidInput
from backend.services.schema import REQUIRED_REVISION, current_revision, is_current

ROOT = Path(__file__).resolve().parents[1]
Schema = dict[str, dict[str, list[str]]]
# Revisions that change nothing on a dialect, by design.
NO_OP_ON = {"0003": "postgresql"}


def _read_schema(connection: Connection) -> Schema:
    """Tables, columns, indexes and constraints by name (SQLite: and AUTOINCREMENT);
    Alembic's own table aside."""
    inspector = inspect(connection)
    return {
        table: {
            "autoincrement": _sqlite_autoincrement(connection, table),
            "columns": sorted(column["name"] for column in inspector.get_columns(table)),
            "indexes": sorted(str(index["name"]) for index in inspector.get_indexes(table)),
            "checks": sorted(str(c["name"]) for c in inspector.get_check_constraints(table)),
            "uniques": sorted(str(u["name"]) for u in inspector.get_unique_constraints(table)),
        }
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def _sqlite_autoincrement(connection: Connection, table: str) -> list[str]:
    if connection.dialect.name != "sqlite":
        return []
    query = text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name")
    return ["AUTOINCREMENT"] if "AUTOINCREMENT" in connection.scalar(query, {"name": table}) else []


async def schema(database: Database) -> Schema:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_read_schema)


async def table_names(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(lambda sync: sorted(inspect(sync).get_table_names()))


def revisions_oldest_first() -> list[tuple[str, str]]:
    """(revision, the revision below it or "base") for every migration, oldest first."""
    scripts = reversed(list(migrations.script_directory().walk_revisions()))
    return [(script.revision, str(script.down_revision or "base")) for script in scripts]


async def test_every_revision_goes_up_and_down_one_step_at_a_time(fresh: Database) -> None:
    engine = fresh.engine
    steps = revisions_oldest_first()
    assert steps[0][1] == "base"
    assert steps[-1][0] == migrations.head_revision()
    for revision, below in steps:
        before = await schema(fresh)
        await migrations.upgrade(engine, revision)
        after = await schema(fresh)
        no_op = NO_OP_ON.get(revision) == fresh.dialect
        assert (after == before) is no_op, f"{revision} changed nothing" if not no_op else ""
        await migrations.downgrade(engine, below)
        assert await schema(fresh) == before, f"downgrading {revision} left changes behind"
        await migrations.upgrade(engine, revision)
        assert await current_revision(engine) == revision
        assert await schema(fresh) == after
    for revision, below in reversed(steps):
        assert await current_revision(engine) == revision
        await migrations.downgrade(engine, "-1")
        assert await current_revision(engine) == (None if below == "base" else below)


def test_the_code_requires_the_newest_revision() -> None:
    # The console and /health read the revision without Alembic and compare it to this.
    assert migrations.head_revision() == REQUIRED_REVISION


async def test_a_version_table_with_two_rows_is_at_no_single_revision(fresh: Database) -> None:
    await migrations.upgrade(fresh.engine)
    async with fresh.engine.begin() as connection:
        await connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    assert await current_revision(fresh.engine) == f"0001,{REQUIRED_REVISION}"
    assert not await is_current(fresh.engine)


async def test_models_match_the_migrated_schema(fresh: Database) -> None:
    await migrations.upgrade(fresh.engine)
    assert await is_current(fresh.engine)
    assert await migrations.pending_model_changes(fresh.engine) == []


async def index_definitions(database: Database, schema: str) -> dict[str, str]:
    """PostgreSQL's own definition of each index on users and audit_events in `schema`,
    the schema left out."""
    query = text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"
        " AND tablename IN ('users', 'audit_events')"
    )
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query, {"schema": schema})).all()
    return {name: definition.replace(f" {schema}.", " ") for name, definition in rows}


@pytest.mark.parametrize("fresh", ["postgresql"], indirect=True)
async def test_the_models_build_the_indexes_the_migrations_built(fresh: Database) -> None:
    # The models' PostgreSQL index options (operator classes, GIN, partial predicates)
    # are attached only once PostgreSQL is in use; built from the models into a schema
    # of their own, the indexes must come out as the migrations made them.
    await migrations.upgrade(fresh.engine)
    async with fresh.engine.begin() as connection:
        await connection.execute(text("CREATE SCHEMA from_models"))
        translated = await connection.execution_options(schema_translate_map={None: "from_models"})
        await translated.run_sync(Base.metadata.create_all)
    migrated = await index_definitions(fresh, "public")
    full_name_search = migrated["ix_users_full_name_trgm"]
    assert "USING gin (lower((full_name)::text) gin_trgm_ops)" in full_name_search
    assert "USING gin (lower((((((((actor" in migrated["ix_audit_events_search_trgm"]
    assert await index_definitions(fresh, "from_models") == migrated


async def test_downgrade_to_base_leaves_only_the_version_table(fresh: Database) -> None:
    await migrations.upgrade(fresh.engine)
    await migrations.downgrade(fresh.engine, "base")
    assert await table_names(fresh) == ["alembic_version"]
    assert await current_revision(fresh.engine) is None


async def test_a_migration_failing_half_way_leaves_the_database_as_it_was(
    fresh: Database,
) -> None:
    # The initial migration's last table already exists, so it fails after creating the
    # others (as a first start interrupted half-way would stop): nothing may remain.
    async with fresh.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE audit_events (id INTEGER)"))
    with pytest.raises(migrations.MigrationFailed) as caught:
        await migrations.upgrade(fresh.engine)
    assert caught.value.message.startswith("Revision 0001 (upgrade) failed at `CREATE TABLE")
    assert caught.value.message.endswith("; the database is at base.")
    assert await table_names(fresh) == ["audit_events"]
    assert await current_revision(fresh.engine) is None


async def test_alembic_command_line_and_the_service_reach_the_same_revision(
    fresh: Database, tmp_path: Path
) -> None:
    alembic = Path(sys.executable).with_name("alembic")
    # The tests' key and a data dir of its own: 0005 signs the audit chain.
    environment = {**cli_environment(tmp_path), "DATABASE_URL": fresh.url}
    process = await asyncio.create_subprocess_exec(
        str(alembic),
        "upgrade",
        "head",
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()
    by_command_line = (await current_revision(fresh.engine), await schema(fresh))
    await migrations.downgrade(fresh.engine, "base")
    await migrations.upgrade(fresh.engine)
    by_service = (await current_revision(fresh.engine), await schema(fresh))
    assert by_command_line == by_service
    assert by_service[0] == migrations.head_revision()


async def test_unknown_revision_is_invalid_input_and_changes_nothing(fresh: Database) -> None:
    with pytest.raises(InvalidInput) as caught:
        await migrations.upgrade(fresh.engine, "nope")
    assert caught.value.message.endswith(".")
    assert "\n" not in caught.value.message
    assert await current_revision(fresh.engine) is None


async def test_state_marks_applied_revisions_newest_first(fresh: Database) -> None:
    (first, _base), *_newer = revisions_oldest_first()
    await migrations.upgrade(fresh.engine, first)
    state = await migrations.load_state(fresh.engine)
    assert state.current == (first,)
    listed = state.nodes
    assert [r.revision for r in listed] == [r for r, _ in reversed(revisions_oldest_first())]
    applied = {r.revision: r.is_applied for r in listed}
    assert applied == {r: r == first for r, _ in revisions_oldest_first()}
    assert [r.revision for r in listed if r.is_head] == [migrations.head_revision()]


async def test_stamp_records_a_revision_without_running_it(fresh: Database) -> None:
    await migrations.stamp(fresh.engine, "head")
    assert await current_revision(fresh.engine) == migrations.head_revision()
    assert await table_names(fresh) == ["alembic_version"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///offline.db", "CREATE TABLE users"),
        ("postgresql+asyncpg://u@h/db", "CREATE EXTENSION IF NOT EXISTS pg_trgm"),
    ],
)
def test_offline_sql_prints_the_dialect_specific_migration(url: str, expected: str) -> None:
    sql = migrations.offline_sql("upgrade", "head", url)
    assert expected in sql
    assert "DROP TABLE users" in migrations.offline_sql("downgrade", "base", url)


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_env_accepts_a_sync_engine_or_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    engine = create_engine(url)
    try:
        config = migrations.alembic_config()
        config.attributes["connection"] = engine
        command.upgrade(config, "head")
        assert "users" in _tables(url)
        with engine.begin() as connection:
            config = migrations.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()
    assert _tables(url) == ["alembic_version"]


async def _users_rows(database: Database) -> list[tuple[object, ...]]:
    async with database.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text("SELECT * FROM users"))]


async def _index_sql(database: Database) -> dict[str, str]:
    query = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'")
    async with database.engine.connect() as connection:
        return {name: sql for name, sql in await connection.execute(query)}


@pytest.mark.parametrize("fresh", ["sqlite"], indirect=True)
async def test_0003_keeps_the_users_and_indexes_and_never_reuses_a_deleted_id(
    fresh: Database,
) -> None:
    await migrations.upgrade(fresh.engine, "0002")
    async with fresh.engine.begin() as connection:
        for user_id in (1, 2, 3):
            await connection.execute(
                text(
                    "INSERT INTO users (id, email, hashed_password, created_at, updated_at)"
                    " VALUES (:id, :email, 'h', '2026-12-01 10:00:00', '2026-12-01 10:00:00')"
                ),
                {"id": user_id, "email": f"u{user_id}@example.com"},
            )
        # User 4 was deleted before the migration: only the audit trail still names them.
        await connection.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, target, changes)"
                " VALUES ('2026-12-01 10:00:00', 'cli', 'user.delete', 'user:4', '{}')"
            )
        )
        await connection.execute(text("DELETE FROM users WHERE id = 3"))
    rows, indexes = await _users_rows(fresh), await _index_sql(fresh)

    await migrations.upgrade(fresh.engine, "0003")

    assert await _users_rows(fresh) == rows
    assert await _index_sql(fresh) == indexes
    assert (await schema(fresh))["users"]["autoincrement"] == ["AUTOINCREMENT"]
    async with fresh.engine.begin() as connection:
        await connection.execute(text("DELETE FROM users WHERE id = 2"))
        new_id = await connection.scalar(
            text(
                "INSERT INTO users (email, hashed_password, created_at, updated_at)"
                " VALUES ('new@example.com', 'h', '2026-12-02 10:00:00', '2026-12-02 10:00:00')"
                " RETURNING id"
            )
        )
    assert new_id == 5
