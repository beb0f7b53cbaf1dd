"""Progress lines for long steps, on stderr, so stdout stays clean for data.

>>> with step("counting", enabled=False):
...     total = sum(range(10))
>>> total
45
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def step(label: str, *, enabled: bool = True) -> Iterator[None]:
    """Print ``label ...`` then ``done in N s`` around a block."""
    start = time.perf_counter()
    if enabled:
        print(f"{label} ...", file=sys.stderr, flush=True)
    yield
    if enabled:
        print(f"{label}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def track(items: Iterable[T], label: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` while printing ``label i/total`` at most about twice a second."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)  # type: ignore[arg-type]
    last = 0.0
    for i, item in enumerate(items, 1):
        now = time.perf_counter()
        if enabled and (now - last > 0.5 or i == total):
            print(f"\r{label} {i}/{total if total is not None else '?'}", end="", file=sys.stderr, flush=True)
            last = now
        yield item
    if enabled:
        print(file=sys.stderr, flush=True)
