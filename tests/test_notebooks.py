"""Every notebook in notebooks/ runs top to bottom (nbclient + ipykernel) and is committed without outputs.

Each notebook is executed from a temporary copy, so no output is ever written
back. The kernel is the interpreter running the tests: a kernelspec named
``python3`` is written to a temporary folder and is the only one the kernel
manager sees, so a stale ``python3`` kernel installed elsewhere on the machine
(another Python, another venv) cannot be picked up, in a fresh CI venv or here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="install the test extras: pip install '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="install the test extras: pip install '.[test]'")
pytest.importorskip("ipykernel", reason="install the test extras: pip install '.[test]'")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS], "notebooks/ should hold the analysts' tour"
    assert "tour.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


def _kernel_manager(tmp: Path) -> KernelManager:
    """A manager whose only kernel, ``python3``, is this interpreter with this source tree importable."""
    spec_dir = tmp / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "graphkit tests",
        "language": "python",
        "env": {"PYTHONPATH": path},  # figures come out through ipykernel's inline backend
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs, ip="127.0.0.1")  # local only


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    copy = work / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    km = _kernel_manager(tmp_path)
    client = nbclient.NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the cell and the traceback when a cell fails
    assert km.kernel_spec.argv[0] == sys.executable
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 10, f"{path.name}: expected a figure per section, got {len(figures)}"
    assert nbformat.read(path, as_version=4).cells[0].source == nb.cells[0].source  # the original is untouched
