"""graphkit: who really influences whom, on which subject, and which of them are your loyal customers.

>>> import graphkit
>>> graphkit.__version__ >= "0.1"
True
"""

from importlib.metadata import PackageNotFoundError, version as _version

from graphkit.errors import GraphkitError, ValidationError
from graphkit.graph import TopicGraph
from graphkit.store.files import read_dataset, write_dataset

try:  # the version is declared once, in pyproject.toml
    __version__ = _version("graphkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0+src"

__all__ = ["TopicGraph", "read_dataset", "write_dataset", "GraphkitError", "ValidationError", "__version__"]
