"""What every subcommand shares: the dataset argument, ``--json`` / ``--quiet``, answers and figures.

One name for the bundled data: the word ``bundled`` wherever a dataset
folder is accepted (a folder of that name is ``./bundled``). The older
spellings still work and say so on stderr: ``--bundled`` (influence,
communities, backtest) and ``ciao`` (matrix, segments, experts, acts, explain).

With ``--json`` a command prints exactly one JSON object on stdout (strict
JSON, see :mod:`graphkit.cli.output`): its answer, or the error object;
progress and notes go to stderr.

>>> figure_path("out/matrix.png", "matrix.png").name
'matrix.png'
>>> figure_path("plot", "matrix.png").name  # no suffix: .png added, and reported
'plot.png'
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from graphkit.cli import UsageError
from graphkit.cli.output import print_json
from graphkit.errors import GraphkitError
from graphkit.io.files import FORMATS
from graphkit.io.ownership import DEFAULT_WAIT
from graphkit.model.graph import TopicGraph
from graphkit.progress import step
from graphkit.scoring.registry import DEFAULT_SCORE, FALLBACK_SCORE, SCORES, Ranking, label, ranking

BUNDLED = "bundled"
#: Older names of the bundled data, still accepted with a note on stderr.
DEPRECATED_BUNDLED = ("ciao",)
DATASET_HELP = f"dataset folder (people, edges, ... as .parquet or .csv), or '{BUNDLED}' for the bundled Ciao data"


def add_dataset(p: argparse.ArgumentParser, *, optional_flag: bool = False, lenient: bool = True) -> None:
    """The positional dataset argument, with ``--lenient`` / ``--rejects`` unless ``lenient=False``.

    ``optional_flag`` keeps the deprecated ``--bundled`` flag working.
    """
    if optional_flag:
        p.add_argument("path", nargs="?", help=DATASET_HELP)
        p.add_argument("--bundled", action="store_true", help=argparse.SUPPRESS)  # deprecated: PATH 'bundled'
    else:
        p.add_argument("path", help=DATASET_HELP)
    if lenient:
        add_lenient(p)


def add_output(p: argparse.ArgumentParser, *, quiet: bool = True) -> None:
    """``--json`` (one JSON object on stdout, errors too) and ``--quiet`` (no progress on stderr)."""
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout (an error object on failure)")
    if quiet:
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def seconds(text: str) -> float:
    """An argparse type: a number of seconds >= 0.

    >>> seconds("2.5")
    2.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def add_dataset_out(p: argparse.ArgumentParser, dest: str, *, what: str = "file format") -> None:
    """The dataset folder a command writes (positional ``dest``) with ``--format``, ``--force`` and ``--wait``."""
    p.add_argument(dest, metavar="OUT",
                   help="dataset folder to write: a new or empty folder, or one graphkit wrote (replaced as a whole)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help=f"{what} (default parquet)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT even if it is a non-empty folder graphkit did not make (deletes what is in it)")
    p.add_argument("--wait", type=seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                   help=f"how long to wait for another job writing OUT before giving up with exit code 4 "
                        f"(default {DEFAULT_WAIT:g})")


def add_score(p: argparse.ArgumentParser, what: str = "ranking score") -> None:
    """``--score``: which ranking score (default: the registry's default)."""
    p.add_argument("--score", choices=SCORES, default=DEFAULT_SCORE,
                   help=f"{what} (default {DEFAULT_SCORE}; where it cannot be computed, {FALLBACK_SCORE}, "
                        "said in one line on stderr)")


def rank(graph: TopicGraph, score: str, *, topics: list[str] | None = None, window: Any = None,
         quiet: bool = False) -> Ranking:
    """The ranking ``score`` on ``topics``; a fallback is said in one line on stderr, even with ``--quiet``."""
    with step(label(score), enabled=not quiet):
        r = ranking(graph, score=score, topics=topics, window=window)
    if r.note is not None:
        print(r.note, file=sys.stderr)
    return r


def dataset_name(args: argparse.Namespace) -> str:
    """The dataset the user named: PATH, or ``bundled`` for the deprecated ``--bundled`` flag."""
    if getattr(args, "bundled", False):
        if args.path is not None:
            raise UsageError(f"give either PATH or --bundled, not both (got {args.path!r}); --bundled is now "
                                f"written as the PATH '{BUNDLED}'")
        print(f"note: --bundled is deprecated; write the dataset as '{BUNDLED}'", file=sys.stderr)
        return BUNDLED
    if args.path is None:
        raise UsageError(f"name a dataset: a folder, or '{BUNDLED}' for the bundled Ciao data")
    return args.path


def dataset_folder(path: str) -> Path:
    """The folder a dataset argument names: the bundled data's folder for ``bundled`` (and its old names)."""
    if path in DEPRECATED_BUNDLED and not Path(path).exists():
        print(f"note: '{path}' for the bundled data is deprecated; write '{BUNDLED}'", file=sys.stderr)
        path = BUNDLED
    if path == BUNDLED:
        from graphkit.io.datasets import bundled_path

        return bundled_path("ciao")
    return Path(path)


def add_lenient(p: argparse.ArgumentParser, where: str = "PATH") -> None:
    """``--lenient`` (bad rows left out, not fatal) and ``--rejects`` (where they go)."""
    p.add_argument("--lenient", action="store_true",
                   help="leave bad rows of the dataset out (each written with its reason to --rejects) "
                        "instead of failing; the count is reported")
    p.add_argument("--rejects", metavar="FILE", help=f"where --lenient writes rejected rows (default {where}/rejects.csv)")


def check_lenient(source: str, *, lenient: bool, rejects: str | None) -> None:
    """Refuse ``--rejects`` without ``--lenient``, and ``--lenient`` on data that is not a dataset folder."""
    if rejects and not lenient:
        raise GraphkitError("--rejects is where --lenient writes rejected rows: add --lenient")
    if lenient and (source == BUNDLED or source in DEPRECATED_BUNDLED and not Path(source).exists()):
        raise GraphkitError(f"--lenient is for a dataset folder, not {source!r} (already validated)")


def load_graph(path: str, *, quiet: bool = False, lenient: bool = False, rejects: str | None = None) -> TopicGraph:
    """Read a dataset folder, or the bundled data for ``bundled``; with ``lenient``, bad rows go to ``rejects``.

    Rows left out are counted in one ``note:`` line on stderr (even with ``--quiet``).
    """
    from graphkit.io.files import read_dataset

    check_lenient(path, lenient=lenient, rejects=rejects)
    folder = dataset_folder(path)
    with step(f"reading {path}", enabled=not quiet):
        graph = read_dataset(folder, lenient=lenient, rejects_path=rejects)
    if graph.rejects.height:
        print(f"note: {graph.rejects.height} bad row(s) of {path} left out, written with their reasons to "
              f"{rejects or Path(folder) / 'rejects.csv'}", file=sys.stderr)
    return graph


def answer(args: argparse.Namespace, payload: dict[str, Any], text: str | Callable[[], str]) -> None:
    """Print the command's answer: ``payload`` as JSON with ``--json``, else ``text``."""
    if getattr(args, "json", False):
        print_json(payload)
    else:
        print(text() if callable(text) else text)


def figure_path(png: str, default_name: str) -> Path:
    """Where ``--png`` writes: inside it when it is a folder, with ``.png`` added when it has no suffix."""
    path = Path(png)
    if path.is_dir() or png.endswith(("/", "\\")):
        return path / default_name
    if path.suffix == "":
        return path.with_name(path.name + ".png")
    if path.suffix.lower() != ".png":
        raise GraphkitError(f"--png writes a PNG image: name the file .png, or give a folder; got {png!r}")
    return path


def save_figure(figure: Any, path: Path) -> Path:
    """Save a matplotlib figure (creating the folder) and close it; return the path written."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def use_agg() -> None:
    """Draw without a display (the CLI only writes files)."""
    import matplotlib

    matplotlib.use("Agg")


def add_spark_options(p: argparse.ArgumentParser) -> None:
    """``--strategy`` and ``--partitions``: the options of ``--engine spark``."""
    p.add_argument("--strategy", choices=("auto", "topics", "iterations"), default="auto",
                   help="with --engine spark: topics (each task solves its share of the topics), iterations "
                        "(PageRank as DataFrame iterations, for graphs that do not fit a worker) or auto (default)")
    p.add_argument("--partitions", type=int, metavar="N",
                   help="with --engine spark: tasks sharing the work (default: Spark's default parallelism)")


def spark_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``topic_influence`` for the parsed Spark options (none unless --engine spark)."""
    if args.engine != "spark":
        if args.strategy != "auto" or args.partitions is not None:
            raise GraphkitError("--strategy and --partitions are options of --engine spark")
        return {}
    return {"strategy": args.strategy, "partitions": args.partitions}
