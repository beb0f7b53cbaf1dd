"""Write docs/api.md, the API reference of ``import graphkit as gk``, from the docstrings.

    python tools/api_docs.py           # rewrite docs/api.md
    python tools/api_docs.py --check   # exit 1 when docs/api.md is not what the docstrings give

Every name of ``gk.__all__`` gets its signature and docstring, grouped by the
package it lives in (the tree is the table of contents); the docstrings'
runnable examples become ``pycon`` blocks. tests/test_api_docs.py fails when
the committed page is stale.
"""

from __future__ import annotations

import argparse
import ast
import os
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "api.md"
COMMAND = "python tools/api_docs.py"

#: Sections in the order of the package tree: (title, module prefix, what it holds).
SECTIONS = [
    ("Data model", "graphkit.model", "validated tables and the sparse views the scores are computed on"),
    ("Errors", "graphkit.errors", "every error graphkit raises on purpose is a GraphkitError"),
    ("Scoring", "graphkit.scoring", "influence per topic, communities, and the scores by name"),
    ("Marketing analytics", "graphkit.marketing", "loyalty, the flagship query, matrix, segments, KPIs, experts, behaviour, explanations"),
    ("Evidence", "graphkit.evidence", "does a score predict what followers do next?"),
    ("Data in and out", "graphkit.io", "dataset folders, bundled data, the generator, Neo4j, networkx and igraph"),
    ("Figures: gk.plot", "graphkit.plot", "matplotlib; every function takes ax=None and returns the Axes"),
]


def _markdown(doc: str) -> str:
    """A docstring as Markdown: doctests and ``::`` blocks fenced, reST roles and double backticks simplified."""
    out: list[str] = []
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            indent = min(len(b) - len(b.lstrip()) for b in block)
            out += ["```pycon", *(b[indent:] for b in block), "```"]
            continue
        if line.rstrip().endswith("::") and i + 1 < len(lines):
            out.append(_inline(line.rstrip()[:-1]))  # "as shown::" -> "as shown:"
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip())
            out += ["", "```python", *(b[indent:] for b in block), "```", ""]
            continue
        if i + 1 < len(lines) and line.strip() and set(lines[i + 1].strip()) == {"-"}:
            out.append(f"**{line.strip()}**")  # a numpydoc section title, not a Markdown heading
            i += 2
            continue
        item = re.match(r"^(\w[\w, *]*) : (.*)$", line)  # numpydoc "name : what it is"
        out.append(f"- `{item.group(1)}`: {_inline(item.group(2))}" if item else _inline(line))
        i += 1
    return "\n".join(out).strip()


def _inline(text: str) -> str:
    text = re.sub(r":[a-z]+:`~?([\w.]+)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1] if '~' in m.group(0) else m.group(1)}`", text)
    return text.replace("``", "`")


def _signature(name: str, obj: Any) -> str:
    """``name(a: int, *, b: str = 'x') -> T`` with annotations unquoted and private parameters left out."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    sig = sig.replace(parameters=[p for p in sig.parameters.values() if not p.name.startswith("_")])
    text = str(sig)
    text = re.sub(r"""(: |-> )(['"])(.*?)\2(?=[,)=]| =|$)""", lambda m: m.group(1) + m.group(3).strip("'\""), text)
    text = re.sub(r" at 0x[0-9a-f]+", "", text)  # no addresses: the page must not change from run to run
    from graphkit.version import __version__

    text = text.replace(repr(__version__), "__version__")  # installed or source tree: the same page
    return f"{name}{text}"


def _entry(title: str, call: str, obj: Any, level: str = "###") -> list[str]:
    doc = inspect.getdoc(obj) or "(no docstring)"
    return [f"{level} {title}", "", "```python", call, "```", "", _markdown(doc), ""]


def _class_members(cls: type) -> list[str]:
    rows = []
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        doc = inspect.getdoc(member)
        if isinstance(member, property):
            call = name
        elif callable(member):
            call = _signature(name, member).replace("(self, ", "(").replace("(self)", "()").replace("(cls, ", "(")
        else:
            continue
        summary = _inline(doc.split("\n\n")[0].replace("\n", " ")) if doc else ""
        rows.append(f"- `{call}`" + (f": {summary}" if summary else ""))
    return rows


def _class(title: str, name: str, cls: type, level: str = "###") -> list[str]:
    lines = _entry(title, f"class {_signature(name, cls)}", cls, level)
    members = _class_members(cls)
    return lines + (["Members:", "", *members, ""] if members else [])


def _result_class(func: Any) -> type | None:
    """The graphkit class a function returns (InfluenceResult, ...), to document beside it."""
    try:
        returned = inspect.signature(func, eval_str=True).return_annotation
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate: nothing to add
        return None
    if inspect.isclass(returned) and returned.__module__.startswith("graphkit.") and inspect.getdoc(returned):
        return returned
    return None


def _defining_module(name: str) -> str:
    """The graphkit module with a top-level assignment to ``name`` (constants carry no __module__)."""
    for path in sorted((ROOT / "graphkit").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return ".".join(path.relative_to(ROOT).with_suffix("").parts)
    raise LookupError(f"no graphkit module assigns {name}")


def render() -> str:
    """The whole page, as the docstrings of this source tree give it."""
    sys.path.insert(0, str(ROOT))
    import graphkit as gk

    names = sorted(n for n in gk.__all__ if n != "__version__")
    placed: dict[str, list[str]] = {prefix: [] for _, prefix, _ in SECTIONS}
    for name in names:
        obj = getattr(gk, name)
        module = obj.__name__ if isinstance(obj, ModuleType) else getattr(obj, "__module__", None)
        if module is None:  # a constant: the module that assigns it
            module = _defining_module(name)
        prefix = next(p for _, p, _ in SECTIONS if module == p or module.startswith(p + "."))
        placed[prefix].append(name)

    lines = [
        "# API reference",
        "",
        "Everything below is reached from `import graphkit as gk` (heavy modules load on first use).",
        f"This page is generated from the docstrings by `{COMMAND}`; edit the docstrings, not this page.",
        "The examples are run by the test suite (`pytest --doctest-modules`).",
        "",
        "Contents: " + " · ".join(f"[{title}](#{_anchor(title)})" for title, _, _ in SECTIONS),
        "",
    ]
    documented: set[str] = set(names)
    for title, prefix, blurb in SECTIONS:
        lines += [f"## {title}", "", f"*{blurb}* (`{prefix}`)", ""]
        for name in placed[prefix]:
            obj = getattr(gk, name)
            if isinstance(obj, ModuleType):
                lines += [_markdown(inspect.getdoc(obj) or ""), ""]
                for fname, func in sorted(vars(obj).items()):
                    if inspect.isfunction(func) and func.__module__ == obj.__name__ and not fname.startswith("_"):
                        lines += _entry(f"gk.{name}.{fname}", _signature(f"{name}.{fname}", func), func)
            elif inspect.isclass(obj) and issubclass(obj, BaseException):
                bases = ", ".join(b.__name__ for b in obj.__bases__)
                lines += _entry(f"gk.{name}", f"class {name}({bases})", obj)
            elif inspect.isclass(obj):
                lines += _class(f"gk.{name}", name, obj)
            elif callable(obj):
                lines += _entry(f"gk.{name}", _signature(name, obj), obj)
                result = _result_class(obj)
                if result is not None and result.__name__ not in documented:
                    documented.add(result.__name__)
                    lines += _class(f"{result.__name__} (what {name} returns)", result.__name__, result, "####")
            else:
                lines += [f"### gk.{name}", "", "```python", f"{name} = {obj!r}", "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/api.md is stale; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{os.path.relpath(PAGE, ROOT)} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {os.path.relpath(PAGE, ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
