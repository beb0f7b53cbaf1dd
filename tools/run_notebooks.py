"""Execute the notebooks in notebooks/ top to bottom and save them WITH their outputs (figures inline).

    python tools/run_notebooks.py                 # every notebook
    python tools/run_notebooks.py notebooks/tour.ipynb

The committed notebooks carry their outputs so that a reader browsing the
repository sees the tour; tests/test_notebooks.py re-executes them and fails
when the fresh outputs no longer have the committed structure (then run this).
Each notebook runs from a temporary folder (files it writes land there), in a
kernel that is this interpreter with this source tree importable.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COMMAND = "python tools/run_notebooks.py"


def kernel_manager(folder: Path):
    """A kernel manager whose only kernel, ``python3``, is this interpreter with this source tree importable.

    A kernelspec written to ``folder`` is the only one it sees, so a stale
    ``python3`` kernel installed elsewhere (another Python, another venv) is never picked up.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = folder / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
        "env": {"PYTHONPATH": path},  # figures come out through ipykernel's inline backend
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs, ip="127.0.0.1")  # local only


def execute(path: Path, folder: Path | None = None, timeout: int = 900):
    """Run a copy of notebook ``path`` in ``folder`` (a temporary one by default); return the executed notebook."""
    import nbclient
    import nbformat

    with tempfile.TemporaryDirectory(prefix="graphkit-nb-") as tmp:
        work = Path(folder or tmp)
        run = work / "run"
        run.mkdir(parents=True, exist_ok=True)
        copy = run / path.name
        shutil.copy(path, copy)
        nb = nbformat.read(copy, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        client = nbclient.NotebookClient(nb, km=kernel_manager(work), timeout=timeout, record_timing=False,
                                         resources={"metadata": {"path": str(run)}})
        client.execute()  # raises CellExecutionError naming the cell and the traceback when a cell fails
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: every notebook in notebooks/)")
    args = parser.parse_args(argv)
    for path in args.paths or sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = execute(path)
        nbformat.write(nb, path)
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        print(f"{path}: executed, {figures} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
