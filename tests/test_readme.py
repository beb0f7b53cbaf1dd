"""The README is the front door: its Python tour runs, and its commands are the real ones."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import matplotlib
import pytest

from graphkit.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    """Fenced blocks of the README whose info string is ``lang`` ("" for plain blocks)."""
    found, current, open_lang = [], [], None
    for line in README.splitlines():
        if line.startswith("```"):
            if open_lang is None:
                open_lang, current = line[3:].strip(), []
            else:
                if open_lang == lang:
                    found.append("\n".join(current) + "\n")
                open_lang = None
        elif open_lang is not None:
            current.append(line)
    return found


def test_python_tour_runs(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # the tour writes its figure to the working folder
    code = blocks("python")
    assert code, "README has no Python tour"
    namespace: dict = {}
    for block in code:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "value_influence.png").stat().st_size > 10_000


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README


def test_every_subcommand_is_documented_and_every_documented_one_exists():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    documented = set(re.findall(r"^graphkit ([a-z]+)", "\n".join(blocks("")), flags=re.M))
    assert commands == documented, (sorted(commands - documented), sorted(documented - commands))


@pytest.mark.parametrize("line", [l for b in blocks("") for l in b.splitlines() if l.startswith("graphkit ")])
def test_documented_command_lines_parse(line):
    """Each documented usage line names real options (placeholders like PATH are filled in)."""
    words = shlex.split(line.split("  ")[0].replace("|", " ").replace("[", "").replace("]", "").replace("...", ""))
    assert words[0] == "graphkit"
    sub = build_parser()._subparsers._group_actions[0].choices[words[1]]
    known = {opt for action in sub._actions for opt in action.option_strings}
    for w in words[2:]:
        if w.startswith("--"):
            assert w.split("=")[0] in known, f"{w} is not an option of graphkit {words[1]}"
