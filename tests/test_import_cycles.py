"""No import cycle between skewcheck's modules (issue 25): a cycle makes the import order matter,
and a detector that imports the context that imports it breaks the day someone moves a line.

Read from the source (ast), not by importing: module-level imports only, since an import inside a
function runs after every module has loaded. ``from pkg import submodule`` depends on the
submodule; an import under ``if TYPE_CHECKING:`` never runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "skewcheck"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(tree: ast.Module, modules: set[str]) -> set[str]:
    deps: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for n in ast.walk(node) if isinstance(node, (ast.Import, ast.ImportFrom, ast.Try, ast.If)) else ():
            if isinstance(n, ast.Import):
                deps.update(a.name for a in n.names if a.name in modules)
            elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module in modules:
                subs = [f"{n.module}.{a.name}" for a in n.names if f"{n.module}.{a.name}" in modules]
                deps.update(subs)
                if len(subs) < len(n.names):  # a name defined in the module itself
                    deps.add(n.module)
    return deps


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {
        name: top_level_imports(ast.parse(p.read_text(encoding="utf-8")), modules) - {name} for name, p in paths.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_skewcheck_modules():
    graph = import_graph()
    assert len(graph) > 100 and graph["skewcheck.audit"]  # the graph was read
    assert cycles(graph) == []
