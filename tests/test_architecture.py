"""ARCHITECTURE.md is the import graph: every module is on its page, no import runs up.

The floors are read from the page's first code block (``floor N  module.py ...``,
further modules of a floor indented to the same column); the imports from the code
itself, every ``import``/``from`` statement including those inside functions.
"""

import ast
import functools
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "cogarb"
HEAVY = ("pymc", "pytensor", "nutpie", "jax", "keras", "bayesflow", "dask", "arviz")
# modules that must stay free of the heavy dependencies (the DESIGN's floors)
LIGHT = ("schema", "tasks", "agents", "simulate", "schedules", "readers", "data", "analysis",
         "arrays", "model_spec", "toml_files", "fitspec")  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def floors(text: str) -> dict[str, int]:
    """``{entry: floor}`` from the page's code block; an entry is a file or a folder/."""
    block = text.split("```")[1]
    found, floor = {}, None
    for line in block.splitlines():
        match = re.match(r"^(?:floor (\d)  | {9})(\S+)\s", line + " ")
        if not match:
            continue
        if match.group(1) is not None:
            floor = int(match.group(1))
        found[match.group(2)] = floor
    return found


def floor_of(module: str, entries: dict[str, int]) -> int | None:
    relative = module.removeprefix("cogarb").removeprefix(".").replace(".", "/")
    if (PACKAGE / relative / "__init__.py").is_file() or not relative:
        relative = f"{relative}/__init__" if relative else "__init__"
    for entry, floor in entries.items():
        if entry.endswith("/") and relative.startswith(entry):
            return floor
        if entry == f"{relative}.py":
            return floor
    return None


def imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at module level or in a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            for alias in node.names:  # ``from cogarb import runs`` imports a submodule
                candidate = f"{node.module}.{alias.name}"
                if candidate in modules():
                    found.add(candidate)
    return found


@pytest.fixture(scope="module")
def entries():
    return floors((REPO / "ARCHITECTURE.md").read_text())


def test_every_module_is_on_the_page(entries):
    missing = [m for m in modules() if floor_of(m, entries) is None]
    assert not missing, f"modules not in ARCHITECTURE.md: {missing}"
    stale = [e for e in entries if not (PACKAGE / e).exists()]
    assert not stale, f"ARCHITECTURE.md names modules that do not exist: {stale}"


def test_no_import_runs_up_a_floor(entries):
    upward = []
    for module, path in modules().items():
        here = floor_of(module, entries)
        for target in imports(path):
            if target.startswith("cogarb") and target in modules():
                there = floor_of(target, entries)
                if there > here:
                    upward.append(f"{module} (floor {here}) imports {target} (floor {there})")
    assert not upward, "\n".join(upward)


def test_the_import_graph_has_no_cycles():
    graph = {m: {t for t in imports(p) if t in modules() and t != m} for m, p in modules().items()}
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_kernels_import_only_numpy_numba_and_each_other():
    allowed = ("numpy", "numba", "math", "__future__", "collections", "dataclasses", "hashlib",
               "os", "pathlib",
               "cogarb._kernels")  # fmt: skip
    for path in (PACKAGE / "_kernels").glob("*.py"):
        bad = [t for t in imports(path) if not t.startswith(allowed)]
        assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("name", LIGHT)
def test_the_light_modules_never_import_a_heavy_dependency(name):
    paths = (
        [PACKAGE / f"{name}.py"]
        if (PACKAGE / f"{name}.py").is_file()
        else list((PACKAGE / name).glob("*.py"))
    )
    for path in paths:
        heavy = [t for t in imports(path) if t.split(".")[0] in HEAVY]
        assert not heavy, f"{path.relative_to(REPO)} imports {heavy}"


def test_no_module_imports_a_private_name_of_another():
    private = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cogarb"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        target = f"{node.module}.{alias.name}"
                        if target not in modules():  # a private module is a package helper
                            private.append(f"{module}: from {node.module} import {alias.name}")
    assert not private, "\n".join(private)


def test_the_library_never_imports_the_cli():
    users = [m for m, p in modules().items() if "cogarb.cli" in imports(p)
             and m not in ("cogarb.cli", "cogarb.__main__")]  # fmt: skip
    assert not users


def test_the_page_parser_reads_floors_and_folders():
    text = "```\nfloor 2  a.py   x\n         b/     y\n            not an entry\nfloor 0  c.py\n```"
    assert floors(text) == {"a.py": 2, "b/": 2, "c.py": 0}
