"""The installed graphkit version, read once from the package metadata.

>>> __version__ >= "0.1"
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("graphkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0+src"

__all__ = ["__version__"]
