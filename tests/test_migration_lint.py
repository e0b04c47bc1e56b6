"""Lint: each rule found in a revision made for it, nothing open in our own revisions.

Offline only (no database): the SQL is rendered for each dialect's URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_kit import HEAD, project_with, revision_source

from backend.services import migrations
from backend.services.migrations import MigrationProject, Severity
from backend.services.migrations.lint import RULES

POSTGRES = "postgresql+asyncpg://u@h/db"
SQLITE = "sqlite+aiosqlite:///lint.db"
TABLE = (
    'op.create_table("things", sa.Column("id", sa.Integer, primary_key=True),'
    ' sa.Column("user_id", sa.Integer))'
)
# revision -> (upgrade body, downgrade body, the rule it must trigger, PostgreSQL only)
CASES: dict[str, tuple[str, str, str, bool]] = {
    "0201": ('op.drop_table("revoked_tokens")', "pass", "drop-table", False),
    "0202": ('op.drop_column("users", "locked_until")', "pass", "drop-column", False),
    "0203": (
        'op.alter_column("users", "full_name", type_=sa.Text())',
        "pass",
        "column-type",
        False,
    ),
    "0204": (
        'op.add_column("users", sa.Column("nickname", sa.String(20), nullable=False))',
        'op.drop_column("users", "nickname")',
        "not-null-without-default",
        False,
    ),
    "0205": (
        'op.alter_column("users", "last_login_at", nullable=False)',
        "pass",
        "set-not-null",
        False,
    ),
    "0206": (
        'op.create_index("ix_users_full_name", "users", ["full_name"])',
        'op.drop_index("ix_users_full_name", table_name="users")',
        "index-not-concurrent",
        True,
    ),
    "0207": (
        'op.create_foreign_key("fk_tokens_user", "revoked_tokens", "users", ["jti"], ["email"])',
        'op.drop_constraint("fk_tokens_user", "revoked_tokens")',
        "constraint-not-valid",
        True,
    ),
    "0208": (
        'op.create_check_constraint("ck_users_version", "users", "version > 0")',
        'op.drop_constraint("ck_users_version", "users")',
        "constraint-not-valid",
        True,
    ),
    "0209": (
        'op.rename_table("revoked_tokens", "revoked")',
        'op.rename_table("revoked", "revoked_tokens")',
        "rename",
        False,
    ),
    "0210": (TABLE, 'raise NotImplementedError("no way back")', "downgrade-raises", False),
    "0211": (
        'op.add_column("users", sa.Column("motto", sa.String(20)))',
        "pass",
        "downgrade-empty",
        False,
    ),
    "0212": (
        'op.execute("CREATE TABLE revoked_tokens_new (jti VARCHAR(64) PRIMARY KEY)")\n'
        'op.execute("INSERT INTO revoked_tokens_new SELECT jti FROM revoked_tokens")\n'
        'op.execute("DROP TABLE revoked_tokens")\n'
        'op.execute("ALTER TABLE revoked_tokens_new RENAME TO revoked_tokens")',
        'op.execute("SELECT 1")',
        "table-rebuild",
        False,
    ),
    "0213": (
        'op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()',
        "pass",
        "no-preview",
        False,
    ),
}


def test_every_rule_has_a_case() -> None:
    assert {case[2] for case in CASES.values()} == set(RULES)


def chain(cases: dict[str, tuple[str, str, str, bool]], *, extra: str = "") -> dict[str, str]:
    """Each case as a revision of its own, one after the other above our head."""
    files, down = {}, HEAD
    for revision, (upgrade, downgrade, _rule, _pg) in cases.items():
        files[f"{revision}_case.py"] = revision_source(
            revision, down, upgrade, downgrade, extra=extra
        )
        down = revision
    return files


def lint_above_head(project: MigrationProject, url: str) -> migrations.LintReport:
    scripts = project.scripts()
    plan = migrations.make_plan(scripts, migrations.state_for(scripts, (HEAD,)), "heads")
    return migrations.review(plan, url, project).lint


@pytest.mark.parametrize("url", [POSTGRES, SQLITE])
def test_each_rule_is_found_in_the_revision_made_for_it(tmp_path: Path, url: str) -> None:
    report = lint_above_head(project_with(tmp_path, chain(CASES)), url)
    for revision, (_up, _down, rule, postgresql_only) in CASES.items():
        rules = {finding.rule for finding in report.for_revision(revision)}
        if postgresql_only and url == SQLITE:
            assert rule not in rules, revision
        else:
            assert rule in rules, (revision, rules)
    drop = next(f for f in report.findings if f.rule == "drop-table")
    assert (drop.revision, drop.statement, drop.severity) == (
        "0201",
        "DROP TABLE revoked_tokens",
        Severity.DESTRUCTIVE,
    )
    assert "every row" in drop.why
    assert {f.revision for f in report.destructive} == {"0201", "0202"}
    # A table rebuilt under its own name loses nothing and renames nothing.
    assert {f.rule for f in report.for_revision("0212")} == {"table-rebuild"}


def test_a_new_table_with_its_indexes_and_keys_is_harmless(tmp_path: Path) -> None:
    harmless = {
        "0301": (
            TABLE.removesuffix(")") + ', sa.ForeignKeyConstraint(["user_id"], ["users.id"]))\n'
            'op.create_index("ix_things_user_id", "things", ["user_id"])\n'
            'op.create_check_constraint("ck_things_id", "things", "id > 0")',
            'op.drop_table("things")',
            "",
            False,
        )
    }
    report = lint_above_head(project_with(tmp_path, chain(harmless)), POSTGRES)
    assert report.for_revision("0301") == ()


def test_an_acknowledged_rule_is_listed_with_its_reason_and_blocks_nothing(
    tmp_path: Path,
) -> None:
    reviewed = 'lint_acknowledged = {"drop-column": "locked_until moved to a table of its own"}'
    put_back = 'op.add_column("users", sa.Column("locked_until", sa.DateTime()))'
    cases = {"0401": (CASES["0202"][0], put_back, "drop-column", False)}
    report = lint_above_head(project_with(tmp_path, chain(cases, extra=reviewed)), POSTGRES)
    (finding,) = report.for_revision("0401")
    assert finding.rule == "drop-column"
    assert finding.acknowledged == "locked_until moved to a table of its own"
    assert report.destructive == ()
    assert "[acknowledged: locked_until moved" in finding.describe()


@pytest.mark.parametrize("url", [POSTGRES, SQLITE])
def test_our_own_revisions_lint_clean(url: str) -> None:
    scripts = migrations.script_directory()
    plan = migrations.make_plan(scripts, migrations.state_for(scripts, ()), "heads")
    report = migrations.review(plan, url).lint
    assert report.open_findings == ()


def test_a_downgrade_to_base_is_destructive() -> None:
    scripts = migrations.script_directory()
    plan = migrations.make_plan(scripts, migrations.state_for(scripts, (HEAD,)), "base")
    report = migrations.review(plan, SQLITE).lint
    assert {f.statement for f in report.destructive} >= {
        "DROP TABLE users",
        "DROP TABLE revoked_tokens",
        "DROP TABLE audit_events",
    }


THINGS_COLUMNS = (
    'sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(20)),'
    ' sa.Column("n", sa.Integer), sa.Column("flag", sa.Boolean)'
)
THINGS = f'op.create_table("things", {THINGS_COLUMNS})'
BATCH_OPERATIONS = (
    'batch.drop_column("note")',
    'batch.alter_column("n", type_=sa.BigInteger())',
    'batch.alter_column("flag", nullable=False, new_column_name="flagged")',
    'batch.add_column(sa.Column("code", sa.String(8), nullable=False))',
)
# Revisions with batch_alter_table blocks: a table rebuild on SQLite, ALTERs elsewhere.
BATCH_CASES: dict[str, tuple[str, str, str, bool]] = {
    "0501": (THINGS, 'op.drop_table("things")', "", False),
    "0502": (  # copy_from: renderable offline, as a rebuild
        f'things = sa.Table("things", sa.MetaData(), {THINGS_COLUMNS})\n'
        'with op.batch_alter_table("things", copy_from=things) as batch:\n'
        + "\n".join(f"    {operation}" for operation in BATCH_OPERATIONS),
        'op.add_column("things", sa.Column("note", sa.String(20)))',
        "",
        False,
    ),
    "0503": (  # no copy_from: SQLite's rebuild needs the live table, so no offline SQL
        'with op.batch_alter_table("users") as batch:\n    batch.drop_column("locked_until")',
        'op.add_column("users", sa.Column("locked_until", sa.DateTime()))',
        "",
        False,
    ),
}


FLAG_ALTERED = (
    "batch_alter_table('things'): alter_column('flag', new_column_name='flagged', nullable=False)"
)


def test_a_batch_rebuild_on_sqlite_names_the_column_it_drops_and_the_type_it_changes(
    tmp_path: Path,
) -> None:
    report = lint_above_head(project_with(tmp_path, chain(BATCH_CASES)), SQLITE)
    rebuilt = {(f.rule, f.severity, f.statement) for f in report.for_revision("0502")}
    assert rebuilt == {
        ("table-rebuild", Severity.WARNING, "DROP TABLE things"),
        ("drop-column", Severity.DESTRUCTIVE, "batch_alter_table('things'): drop_column('note')"),
        (
            "column-type",
            Severity.WARNING,
            "batch_alter_table('things'): alter_column('n', type_=BIGINT)",
        ),
        ("set-not-null", Severity.WARNING, FLAG_ALTERED),
        ("rename", Severity.WARNING, FLAG_ALTERED),
        (
            "not-null-without-default",
            Severity.WARNING,
            "batch_alter_table('things'): add_column('code')",
        ),
    }
    unrendered = {(f.rule, f.statement) for f in report.for_revision("0503")}
    assert ("drop-column", "batch_alter_table('users'): drop_column('locked_until')") in unrendered
    assert "no-preview" in {rule for rule, _statement in unrendered}
    # Destructive: the console asks for the id typed, the CLI for --yes.
    assert {f.revision for f in report.destructive} == {"0502", "0503"}
    dropped = next(f for f in report.destructive if f.revision == "0502")
    assert "drops the column and its data" in dropped.describe()


def test_a_batch_on_postgresql_is_found_once_in_its_alter_table(tmp_path: Path) -> None:
    report = lint_above_head(project_with(tmp_path, chain(BATCH_CASES)), POSTGRES)
    for revision, dropped in (("0502", "things DROP COLUMN note"), ("0503", "users DROP")):
        (finding,) = [f for f in report.for_revision(revision) if f.rule == "drop-column"]
        assert finding.statement.startswith(f"ALTER TABLE {dropped}")
    (retyped,) = [f for f in report.for_revision("0502") if f.rule == "column-type"]
    assert retyped.statement == "ALTER TABLE things ALTER COLUMN n TYPE BIGINT"
