"""The shape of the code (docs/architecture.md): rules that stay true because a test fails otherwise.

The import-linter contracts in pyproject.toml run here too (and in `make test`),
so a broken rule fails `pytest` alone as well.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from flask import Blueprint

from widget_server import create_app

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "widget_server"
MAX_LINES = 400
# Modules that are declarations only may be longer: every table in one place (DESIGN.md) reads
# better than tables split by length.
LONGER = {"widget_server/models.py": 600}
# The modules whose job is HTTP (or request hooks): everything else is a service or a helper
# that takes what it needs as parameters and never reads the request.
REQUEST_MODULES = {
    "widget_server/web.py", "widget_server/cors.py", "widget_server/extensions.py", "widget_server/hosts.py",
    "widget_server/assets.py", "widget_server/ops/observability.py",
} | {str(p.relative_to(ROOT)) for p in PACKAGE.glob("*/api.py")} | {
    str(p.relative_to(ROOT)) for p in PACKAGE.glob("*/pages.py")} | {
    "widget_server/comments/feeds.py", "widget_server/moderation/page.py",
    # The admin blueprints' shared door (the token, ?site=) and the tokens and sites APIs.
    "widget_server/moderation/guard.py", "widget_server/moderation/tokens_api.py",
    "widget_server/moderation/sites_api.py"}


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph, skip: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(module: str) -> None:
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module) - skip:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules - skip):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_inside_the_package():
    graph = grimp.build_graph("widget_server", exclude_type_checking_imports=True)
    assert len(graph.modules) > 50, "the graph is empty: the check would prove nothing"
    # The package's __init__ (create_app) imports every area inside the factory, and the CLI
    # imports create_app back: the documented exception, so the root is left out.
    assert _cycles(graph, skip={"widget_server"}) == []


def _function_level_relative_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level > 0:
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno} in {node.name}()")
    return found


def test_no_relative_import_inside_a_function_outside_the_factory_and_the_cli():
    # The CLI is ops/cli.py with its database helpers (cli_base.py), data commands (data_cli.py)
    # and site commands (site_cli.py).
    cli = ("cli.py", "cli_base.py", "data_cli.py", "site_cli.py")
    allowed = {PACKAGE / "__init__.py"} | {PACKAGE / "ops" / name for name in cli}
    found = [hit for path in sources() if path not in allowed
             for hit in _function_level_relative_imports(path)]
    assert found == []


def test_no_module_grows_past_400_lines():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text("utf-8").splitlines()) for p in sources()}
    long = {name: n for name, n in lengths.items() if n > LONGER.get(name, MAX_LINES)}
    assert long == {}


@pytest.mark.parametrize("path", [p for p in sources() if str(p.relative_to(ROOT)) not in REQUEST_MODULES],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_services_never_read_the_request(path):
    """Actor, client address and bearer token are parameters: the CLI, the worker and unit
    tests call services without faking a request."""
    banned = {"request", "g", "session", "has_request_context"}
    found = [f"line {node.lineno}: {alias.name}"
             for node in ast.walk(ast.parse(path.read_text("utf-8")))
             if isinstance(node, ast.ImportFrom) and node.module == "flask"
             for alias in node.names if alias.name in banned]
    assert found == []


def _blueprints() -> dict[str, str]:
    """Every Blueprint object a module of the package defines, by name."""
    import importlib

    found = {}
    for path in sources():
        if path.name == "__main__.py":  # importing it runs the command line
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Blueprint) and value.import_name == module.__name__:
                found[value.name] = name
    return found


def test_every_blueprint_is_registered_in_create_app(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test"})
    defined = _blueprints()
    assert defined, "no blueprints found: the scan is broken"
    assert set(app.blueprints) == set(defined)
    factory = (PACKAGE / "__init__.py").read_text("utf-8")
    # One place: no other module registers a blueprint.
    elsewhere = [str(p.relative_to(ROOT)) for p in sources()
                 if p != PACKAGE / "__init__.py" and "register_blueprint" in p.read_text("utf-8")]
    assert elsewhere == [] and "for blueprint in (" in factory
