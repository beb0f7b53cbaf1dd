"""Every notebook in notebooks/ is committed WITH its outputs (a reader browsing the repository sees the tour) and
stays honest: re-executed top to bottom, its outputs must have the committed structure.

"Structure" is, cell by cell: the kinds of outputs (stream, result, figure) and their formats, and the words of the
text outputs (column names, labels, topics; numbers left out, since timings vary). When code changes what the tour
shows, re-execute and commit: ``python tools/run_notebooks.py``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="install the test extras: pip install '.[test]'")
pytest.importorskip("nbclient", reason="install the test extras: pip install '.[test]'")
pytest.importorskip("ipykernel", reason="install the test extras: pip install '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RERUN = "re-execute and commit it: python tools/run_notebooks.py"


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z_]+", text)


def structure(nb) -> list[list[tuple]]:
    """Per code cell, per output: (kind, formats, words of its text)."""
    cells = []
    for cell in _code_cells(nb):
        outs = []
        for o in cell.outputs:
            if o.output_type == "stream":
                # the kernel may deliver consecutive prints as one chunk or several: join them
                if outs and outs[-1][:2] == ("stream", o.name):
                    outs[-1] = ("stream", o.name, outs[-1][2] + tuple(_words(o.text)))
                else:
                    outs.append(("stream", o.name, tuple(_words(o.text))))
            elif o.output_type in ("execute_result", "display_data"):
                data = o.get("data", {})
                outs.append((o.output_type, tuple(sorted(data)), tuple(_words(data.get("text/plain", ""))
                                                                       if "image/png" not in data else ())))
            else:
                outs.append((o.output_type, o.get("ename", ""), ()))
        cells.append(outs)
    return cells


def figures(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in _code_cells(nb) for o in c.outputs)


def test_there_are_notebooks():
    assert "tour.ipynb" in [p.name for p in NOTEBOOKS], "notebooks/ should hold the analysts' tour"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_executed_with_its_figures(path):
    nb = nbformat.read(path, as_version=4)
    cells = _code_cells(nb)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), \
        f"{path.name}: not executed top to bottom in one run; {RERUN}"
    silent = [i for i, c in enumerate(cells) if not c.outputs and not c.source.rstrip().endswith(";")]
    assert len(silent) <= len(cells) // 4, f"{path.name}: code cells {silent} have no output; {RERUN}"
    outputs = [o for c in cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "warnings or progress bars"
    assert figures(nb) >= 10, f"{path.name}: expected a figure per section, got {figures(nb)}"
    text = nbformat.writes(nb)
    assert str(ROOT) not in text and "/home/" not in text, "a local path leaked into the committed outputs"
    for cell in cells:  # a figure cell shows the figure, not the repr of the Axes it returned
        if cell.source.rstrip().endswith(";"):
            assert not [o for o in cell.outputs if o.output_type == "execute_result"], cell.source


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_reruns_to_the_committed_structure(path, tmp_path):
    committed = nbformat.read(path, as_version=4)
    fresh = _runner().execute(path, tmp_path)
    assert nbformat.read(path, as_version=4) == committed  # the original is untouched
    assert figures(fresh) == figures(committed), f"{path.name}: the number of figures changed; {RERUN}"
    was, now = structure(committed), structure(fresh)
    assert len(was) == len(now)
    for i, (a, b) in enumerate(zip(was, now)):
        assert a == b, f"{path.name}: code cell {i} now shows something else; {RERUN}\ncommitted: {a}\nnow: {b}"
