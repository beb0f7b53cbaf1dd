"""Loaders for the bundled data and for the public datasets in ``shared/datasets``.

Nothing here downloads: the bundled Ciao copy ships inside the package, and the
larger public datasets are read from a local folder (``GRAPHKIT_SHARED_DATASETS``
or ``../shared/datasets`` beside the repository).

>>> g = load_ciao()
>>> g.people.height, len(g.topics)
(7375, 28)
"""

from __future__ import annotations

import os
from pathlib import Path

from graphkit.errors import DataFileError
from graphkit.io.files import read_dataset
from graphkit.model.graph import TopicGraph

_PACKAGE = Path(__file__).resolve().parent.parent  # the graphkit package folder
_REPO = _PACKAGE.parent


def bundled_path(name: str = "ciao") -> Path:
    """Folder of a bundled dataset: inside the installed package, else in the source tree."""
    for candidate in (_PACKAGE / "_bundled" / name, _REPO / "datasets" / name):
        if (candidate / "people.parquet").exists():
            return candidate
    raise DataFileError(f"datasets/{name}", "bundled dataset not found; reinstall graphkit (pip install .)")


def load_ciao() -> TopicGraph:
    """The bundled Ciao product-review community (7,375 people, 28 topics; see datasets/ciao/SOURCE.md)."""
    return read_dataset(bundled_path("ciao"))


def shared_datasets_path() -> Path | None:
    """The local folder of public datasets, or None when there is none."""
    env = os.environ.get("GRAPHKIT_SHARED_DATASETS")
    candidates = [Path(env)] if env else []
    candidates += [_REPO.parent / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def shared_dataset(name: str) -> Path:
    """Folder of one public dataset (e.g. ``"higgs_twitter"``); raises when absent."""
    root = shared_datasets_path()
    if root is None or not (root / name).is_dir():
        raise DataFileError(
            f"shared/datasets/{name}", "not found; set GRAPHKIT_SHARED_DATASETS to the folder that holds it"
        )
    return root / name
