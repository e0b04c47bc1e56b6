"""Usage errors of every command: one sentence on stderr naming the command, exit 2, no box."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import assert_one_sentence, default_cli
from typer.testing import CliRunner

from console.cli import root

USAGE_CASES = [
    (["call", "GET"], "backend-console call needs its PATH argument"),
    (["call"], "backend-console call needs its METHOD argument"),
    (["call", "GET", "/x", "--verbos"], "has no option --verbos (perhaps --verbose;"),
    (["call", "GET", "/x", "--query"], "Option '--query' requires an argument"),
    (["users", "create", "a@example.com"], "users create needs the option --role"),
    (["users", "create", "a@example.com", "--role", "boss"], "'boss' is not one of"),
    (["users", "seed", "--count", "many"], "Invalid value for '--count'"),
    (["token", "issue"], "backend-console token issue needs its EMAIL argument"),
    (["token", "inspect", "a", "b"], "unexpected extra argument"),
    (["db", "upgrade", "--bogus"], "backend-console db upgrade has no option --bogus"),
    (["db"], "backend-console db needs a command: upgrade, downgrade"),
    (["audit", "prune"], "needs the option --older-than"),
    (["serve", "--port", "99999"], "Invalid value for '--port'"),
    (["--port", "x", "routes"], "Invalid value for '--port'"),
    (["nosuch"], "No such command 'nosuch'"),
]


@pytest.mark.parametrize(
    ("args", "fragment"), USAGE_CASES, ids=[" ".join(a) for a, _ in USAGE_CASES]
)
def test_a_usage_error_is_one_sentence_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(root.app, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert_one_sentence(result.stderr, fragment)
    assert "╭" not in result.stderr
    assert result.stderr.rstrip().endswith(" -h).")


def test_the_installed_command_prints_usage_errors_as_one_sentence(tmp_path: Path) -> None:
    cli = default_cli(tmp_path)
    cli("call", "GET").assert_error(
        "backend-console call needs its PATH argument (see backend-console call -h).", code=2
    )
    cli("users", "list", "--serach", "x").assert_error(
        "backend-console users list has no option --serach (perhaps --search;", code=2
    )


def test_help_is_still_help(tmp_path: Path) -> None:
    shown = default_cli(tmp_path)("call", "-h").assert_ok()
    assert "METHOD" in shown.stdout.upper()
    assert shown.stderr == ""
