"""ARCHITECTURE.md stays true: every module it names exists, every module is named, sizes and imports hold."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from support import ROOT

MAX_LINES = 600
PACKAGES = ("coach", "ui")
#: Imported by `coach --help` only over the commands' own bodies, never at start-up.
HEAVY = ("torch", "chromadb", "gradio", "langchain_core", "sentence_transformers", "onnxruntime", "sqlalchemy", "numpy")


def source_modules() -> list[Path]:
    """Every Python module of the library and the app (migrations aside)."""
    found: list[Path] = []
    for pkg in PACKAGES:
        found += [p for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts and "__pycache__" not in p.parts]
    return sorted(found)


def documented_modules() -> set[str]:
    """Module paths named in the first column of ARCHITECTURE.md's tables."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\|\s*`((?:coach|ui)/[\w/]+\.py)`", text, re.MULTILINE))


def test_every_documented_module_exists() -> None:
    missing = sorted(m for m in documented_modules() if not (ROOT / m).is_file())
    assert not missing, f"ARCHITECTURE.md names modules that no longer exist: {missing}"


def test_every_module_is_documented() -> None:
    named = documented_modules()
    unnamed = [str(p.relative_to(ROOT)) for p in source_modules() if str(p.relative_to(ROOT)) not in named]
    unnamed = [m for m in unnamed if not m.endswith("__init__.py")]
    assert not unnamed, f"add these modules to the table in ARCHITECTURE.md: {unnamed}"


def test_no_module_over_the_line_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in source_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path) -> set[str]:
    """Project modules imported when this module is imported (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in [node] if not isinstance(node, (ast.If, ast.Try)) else ast.walk(node):
            if isinstance(sub, ast.Import):
                out |= {a.name for a in sub.names}
            elif isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                out.add(sub.module)
                out |= {f"{sub.module}.{a.name}" for a in sub.names}
    return {m for m in out if m.split(".")[0] in PACKAGES}


def test_no_import_cycles() -> None:
    modules = {_module_name(p): p for p in source_modules()}
    graph = {name: {m for m in _top_level_imports(p) if m in modules and m != name} for name, p in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_cli_start_up_imports_nothing_heavy() -> None:
    code = "import sys, coach.cli; print(','.join(sorted(m for m in sys.modules if '.' not in m)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.strip().split(","))
    assert not loaded & set(HEAVY), f"`coach --help` imports {sorted(loaded & set(HEAVY))}"
