"""The package tree stays a table of contents: imports point down, no circles, no private names across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import graphkit as gk

PACKAGE = Path(gk.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """Module -> [(imported graphkit module, names imported from it)], top-level and function-level alike."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphkit"):
                found.append((node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names if a.name.startswith("graphkit")]
        out[name] = found
    return out


def _is_package_init(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def test_no_import_circles_between_modules():
    # a package's __init__ re-exports its own submodules; the edges that matter are module -> module
    graph = {m: {t for t, _ in deps if t != m and not _is_package_init(t)} for m, deps in _imports().items()
             if not _is_package_init(m)}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if seen.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m)


def test_no_private_name_imported_from_another_module():
    offenders = [(m, t, n) for m, deps in _imports().items() for t, names in deps for n in names
                 if n.startswith("_") and not n.startswith("__") and t != m]
    assert offenders == []


def test_the_data_model_imports_nothing_above_it():
    above = ("graphkit.scoring", "graphkit.marketing", "graphkit.evidence", "graphkit.io", "graphkit.cli",
             "graphkit.plot", "graphkit.demo")
    for m, deps in _imports().items():
        if m.startswith("graphkit.model"):
            for t, _ in deps:
                assert not t.startswith(above), (m, t)


def test_every_public_name_of_gk_resolves():
    for name in gk.__all__:
        assert getattr(gk, name) is not None, name
    assert callable(gk.topic_influence) and callable(gk.influential_loyal_customers)
    assert gk.plot.__name__ == "graphkit.plot"
