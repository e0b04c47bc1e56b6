"""The layers stay one-way: services know nothing of HTTP or Textual; the console skips the API.

Imports are read from each file's syntax tree (nothing is imported). For services the
check follows imports through the project's own modules, so a helper module that pulls
in fastapi on a service's behalf is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("backend", "console")
UI_AND_HTTP = ("fastapi", "starlette", "textual")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> tuple[set[str], set[str]]:
    """(modules `source` imports, names that are modules only if they exist as files).

    Relative imports are made absolute; `from backend.services import users` yields
    `backend.services` and the candidate `backend.services.users`.
    """
    names: set[str] = set()
    candidates: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            candidates.update(f"{base}.{alias.name}" for alias in node.names)
    return names, candidates


def project_imports(root: Path) -> dict[str, set[str]]:
    """module -> the modules it imports, for every module of the project packages."""
    parsed: dict[str, tuple[set[str], set[str]]] = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            source = path.read_text(encoding="utf-8")
            parsed[module] = imported_names(source, module, path.name == "__init__.py")
    return {
        module: names | {name for name in candidates if name in parsed}
        for module, (names, candidates) in parsed.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> Iterator[tuple[str, str]]:
    """(importer, imported) for everything `start` imports, directly or through project modules."""
    seen, queue = {start}, [start]
    while queue:
        module = queue.pop()
        for name in sorted(graph.get(module, ())):
            yield module, name
            if name in graph and name not in seen:
                seen.add(name)
                queue.append(name)


def is_within(name: str, roots: Iterable[str]) -> bool:
    return any(name == root or name.startswith(f"{root}.") for root in roots)


def service_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{start} imports {name} (via {importer})"
        for start in graph
        if is_within(start, ["backend.services"])
        for importer, name in reachable(graph, start)
        if is_within(name, [*UI_AND_HTTP, "backend.api", "backend.main", "console"])
    )


def console_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in graph.items()
        if is_within(module, ["console"])
        for name in names
        if is_within(name, ["backend.api"])
    )


def test_services_import_neither_http_nor_textual() -> None:
    assert service_violations(project_imports(ROOT)) == []


def test_console_does_not_import_the_api_routers() -> None:
    assert console_violations(project_imports(ROOT)) == []


def test_the_checks_see_every_project_module() -> None:
    graph = project_imports(ROOT)
    assert {"backend.services.users", "backend.api.users", "console.context"} <= graph.keys()
    assert (
        "fastapi" in graph["backend.api.users"] or "fastapi.APIRouter" in graph["backend.api.users"]
    )


def _write(root: Path, module: str, source: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"backend.services.bad": "from fastapi import HTTPException\n"},
            ["backend.services.bad imports fastapi (via backend.services.bad)"],
        ),
        (
            {"backend.services.bad": "import textual.app\n"},
            ["backend.services.bad imports textual.app (via backend.services.bad)"],
        ),
        (
            {
                "backend.services.bad": "from . import helper\n",
                "backend.services.helper": "from ..util import web\n",
                "backend.util.web": "import starlette.requests\n",
            },
            [
                "backend.services.bad imports starlette.requests (via backend.util.web)",
                "backend.services.helper imports starlette.requests (via backend.util.web)",
            ],
        ),
        (
            {"backend.services.fine": "import sqlalchemy\nfrom backend.models import User\n"},
            [],
        ),
    ],
    ids=["direct-fastapi", "textual", "through-a-helper", "clean"],
)
def test_service_check_catches_violations(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    for module, source in files.items():
        _write(tmp_path, module, source)
    assert service_violations(project_imports(tmp_path)) == expected


def test_console_check_catches_an_api_import(tmp_path: Path) -> None:
    _write(tmp_path, "console.screens.users", "from backend.api.users import router\n")
    _write(tmp_path, "backend.services.users", "")
    assert console_violations(project_imports(tmp_path)) == [
        "console.screens.users imports backend.api.users"
    ]
    _write(tmp_path, "console.screens.users", "from backend.services import users\n")
    assert console_violations(project_imports(tmp_path)) == []
