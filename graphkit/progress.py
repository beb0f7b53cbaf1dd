"""Progress of long steps, on stderr, so stdout stays clean for data: the one place graphkit reports it.

Three modes, chosen once per step:

* ``"bar"``: a tqdm progress bar (``tqdm.auto``: a widget in Jupyter when
  ipywidgets is installed, text otherwise) when stderr is a terminal or the
  code runs in a Jupyter kernel. Steps whose size is known show a percentage;
  the others show the time spent so far, ticking.
* ``"lines"``: when stderr is not a terminal (a batch job's log), exactly two
  lines per step, ``label ...`` when it starts and ``label: done in N s``
  (with the count, for counted steps) when it ends; no carriage returns.
* ``"off"``: ``enabled=False`` (the CLI's ``--quiet``): nothing at all.

>>> with step("counting", enabled=False):
...     total = sum(range(10))
>>> total
45
>>> [x for x in track(range(3), "items", enabled=False)]
[0, 1, 2]
>>> mode(False)
'off'
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Literal, TypeVar

T = TypeVar("T")
Mode = Literal["bar", "lines", "off"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where stderr is not a terminal but a bar still renders)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - an odd IPython: treat as no notebook
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def mode(enabled: bool = True) -> Mode:
    """How progress is shown now: ``"off"`` when not enabled, ``"bar"`` on a terminal or in Jupyter, else ``"lines"``."""
    if not enabled:
        return "off"
    stream = sys.stderr
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        tty = False
    return "bar" if tty or in_notebook() else "lines"


def _bar(label: str, total: int | None) -> Any:
    """A tqdm bar on stderr; a widget in Jupyter when ipywidgets is there (text otherwise, no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm.auto warns when ipywidgets is missing; the text bar is fine
        from tqdm.auto import tqdm

    fmt = ("{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]" if total is not None
           else "{desc}: {elapsed}")
    return tqdm(total=total, desc=label, file=sys.stderr, bar_format=fmt, leave=True, dynamic_ncols=True)


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Progress:
    """Handle a step yields: ``update(n)`` advances a counted step (a no-op in the other modes)."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar
        self.count = 0

    def update(self, n: int = 1) -> None:
        self.count += n
        if self._bar is not None:
            self._bar.update(n)


@contextmanager
def step(label: str, *, total: int | None = None, enabled: bool = True) -> Iterator[Progress]:
    """Report a long step around a block: a bar (ticking clock, or a percentage with ``total``), two lines, or nothing.

    With ``total``, call ``.update()`` on the yielded handle as parts finish.
    """
    how = mode(enabled)
    start = time.perf_counter()
    if how == "off":
        yield Progress()
        return
    if how == "lines":
        _line(f"{label} ...")
        handle = Progress()
        yield handle
        counted = f" ({handle.count}/{total})" if total is not None else ""
        _line(f"{label}: done{counted} in {time.perf_counter() - start:.1f} s")
        return
    bar = _bar(label, total)
    stop = threading.Event()
    ticker = None
    if total is None:  # nothing to count: refresh the clock twice a second so the user sees it is alive
        def tick() -> None:
            while not stop.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=tick, name="graphkit-progress", daemon=True)
        ticker.start()
    try:
        yield Progress(bar)
    finally:
        stop.set()
        if ticker is not None:
            ticker.join()
        bar.close()


def track(items: Iterable[T], label: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` while reporting how many are done (a bar with a percentage, or a start and a done line)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with step(label, total=total, enabled=enabled) as progress:
        for item in items:
            yield item
            progress.update()
