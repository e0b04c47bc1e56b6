"""The executable's bytecode cache (console/launcher.py), in fresh interpreters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imports a module of the test's own after cache_bytecode() and reports where Python
# keeps its bytecode, whether it was written, and the interpreter's settings.
PROBE = """
import importlib.util, json, sys
from console.launcher import bytecode_cache_dir, cache_bytecode
cache_bytecode()
import probe_module
compiled = importlib.util.cache_from_source(probe_module.__file__)
print(json.dumps({
    "compiled": compiled,
    "cache_dir": str(bytecode_cache_dir()),
    "prefix": sys.pycache_prefix,
    "dont_write": sys.dont_write_bytecode,
}))
"""


def probe(tmp_path: Path, **environment: str) -> dict[str, object]:
    source = tmp_path / "probe_module.py"
    source.write_text("ANSWER = 42\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    }
    env.update(environment, PYTHONPATH=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


@pytest.fixture
def cached_probe_removed(tmp_path: Path) -> Iterator[None]:
    # The environment's cache mirrors absolute paths: drop what the probe left there.
    yield
    cache_dir = Path(sys.prefix) / "pycache"
    shutil.rmtree(cache_dir / tmp_path.relative_to(tmp_path.anchor), ignore_errors=True)


@pytest.mark.usefixtures("cached_probe_removed")
def test_bytecode_goes_to_the_environments_cache_when_python_may_not_write_it(
    tmp_path: Path,
) -> None:
    report = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    compiled = Path(str(report["compiled"]))
    assert report["cache_dir"] == str(Path(sys.prefix) / "pycache")  # tests run in a venv
    assert compiled.is_relative_to(str(report["cache_dir"]))
    assert compiled.is_file()
    assert not (tmp_path / "__pycache__").exists()  # never beside the sources


def test_an_explicit_pycache_prefix_is_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    report = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(chosen))
    assert report["prefix"] == str(chosen)
    assert report["dont_write"] is True
    assert not chosen.exists()


def test_pythons_own_caching_is_left_alone(tmp_path: Path) -> None:
    report = probe(tmp_path)
    assert report["prefix"] is None
    assert Path(str(report["compiled"])).parent == tmp_path / "__pycache__"
    assert Path(str(report["compiled"])).is_file()
