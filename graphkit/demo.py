"""The main job on the embedded default: bundled Ciao -> influence, loyalty, flagship query.

:func:`run_demo` loads the bundled real data, ranks every person on every
topic by the default ranking score (:data:`graphkit.scoring.registry.DEFAULT_SCORE`),
measures loyalty, answers "which of our loyal customers are influential on
this topic?" for a few topics, and writes the tables (Parquet) and figures
(PNG) into an output folder. Its table, its figures and its files all rank
people by that one score. ``graphkit demo`` is a thin wrapper.

>>> import tempfile
>>> report = run_demo(tempfile.mkdtemp(), topics=["Books"], top=3, progress=False)
>>> sorted(p.name for p in report.files)[:2]
['influence.parquet', 'influential_loyal_customers.parquet']
>>> report.answers["topic"].unique().to_list(), report.score == DEFAULT_SCORE
(['Books'], True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.io.datasets import load_ciao
from graphkit.io.files import write_table
from graphkit.marketing.loyalty import influential_loyal_customers, loyalty
from graphkit.model.graph import TopicGraph
from graphkit.progress import step
from graphkit.scoring.registry import DEFAULT_SCORE, label, ranking


@dataclass(frozen=True)
class DemoReport:
    """What the demo computed and where it wrote it.

    ``score``: the ranking score used (the default, or the score it fell back
    to, ``fallback`` saying why); ``shown``: per figure file name, the people
    it shows in order (``top_influencers.png``: its bars, top first).
    """

    graph: TopicGraph
    topics: tuple[str, ...]
    answers: pl.DataFrame  # influential loyal customers for ``topics``
    files: tuple[Path, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    score: str = DEFAULT_SCORE
    fallback: str | None = None
    shown: dict[str, list[str]] = field(default_factory=dict)


def busiest_topics(graph: TopicGraph, k: int = 3) -> list[str]:
    """The ``k`` topics on which most people are active (ties by name).

    >>> busiest_topics(load_ciao(), 2)
    ['Ciao Café', 'DVDs']
    """
    counts = (
        graph.activity_edges.group_by("topic_idx").agg(pl.col("src_idx").n_unique().alias("people"))
        .join(graph.topic_index, on="topic_idx")
        .sort(["people", "topic"], descending=[True, False])
    )
    return counts["topic"].head(k).to_list()


def run_demo(
    out: str | Path = "graphkit-output",
    *,
    topics: Sequence[str] | None = None,
    top: int = 10,
    top_percentile: float = 10.0,
    min_loyalty: float = 0.5,
    graph: TopicGraph | None = None,
    progress: bool = True,
) -> DemoReport:
    """Run the main job end to end and write its results into ``out``.

    Every person is ranked on every topic by
    :data:`graphkit.scoring.registry.DEFAULT_SCORE` (or the score it falls
    back to, see :func:`graphkit.scoring.registry.ranking`); the influential
    loyal customers, ``influence.parquet`` and both figures use that ranking.
    """
    if top < 1:
        raise GraphkitError(f"top must be at least 1, got {top}")
    out = Path(out)
    seconds: dict[str, float] = {}

    def timed(label: str, key: str):
        seconds[key] = time.perf_counter()
        return step(label, enabled=progress)

    with timed("Loading the bundled Ciao data", "load"):
        graph = graph if graph is not None else load_ciao()
    seconds["load"] = time.perf_counter() - seconds["load"]
    chosen = list(topics) if topics else busiest_topics(graph)
    for t in chosen:
        graph.topic_of(t)  # unknown topic: clear error with the choices
    with timed(f"Ranking by {label(DEFAULT_SCORE)} on {len(graph.topics)} topics", "score"):
        ranked = ranking(graph, score=DEFAULT_SCORE)
    seconds["score"] = time.perf_counter() - seconds["score"]
    table = ranked.table
    with timed("Loyalty (recency, frequency, monetary, tenure)", "loyalty"):
        loyal = loyalty(graph)
    seconds["loyalty"] = time.perf_counter() - seconds["loyalty"]
    answers = influential_loyal_customers(
        graph, topics=chosen, influence=table, top_percentile=top_percentile,
        min_loyalty=min_loyalty, limit=top,
    )
    shown: dict[str, list[str]] = {}
    with timed(f"Writing results to {out}/", "write"):
        files = [
            write_table(table, out / "influence.parquet"),
            write_table(loyal, out / "loyalty.parquet"),
            write_table(answers, out / "influential_loyal_customers.parquet"),
            *_figures(graph, table, ranked.score, loyal, chosen, out, shown),
        ]
    seconds["write"] = time.perf_counter() - seconds["write"]
    return DemoReport(graph, tuple(chosen), answers, tuple(files), seconds, ranked.score, ranked.fallback, shown)


def _figures(graph: TopicGraph, ranking: pl.DataFrame, score: str, loyal: pl.DataFrame,
             topics: list[str], out: Path, shown: dict[str, list[str]]) -> list[Path]:
    """Top influencers of the first topic, and its value x influence matrix, both by ``ranking``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from graphkit import plot
    from graphkit.marketing import value_influence_matrix

    files = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot.top_influencers(ranking, topics[0], ax=ax, score_label=label(score))
    shown["top_influencers.png"] = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
    files.append(out / "top_influencers.png")
    fig.savefig(files[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    matrix = value_influence_matrix(graph, topic=topics[0], influence=ranking, loyalty=loyal)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    plot.value_influence(matrix, ax=ax, score_label=label(score))
    files.append(out / "value_influence.png")
    fig.savefig(files[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return files


def render(report: DemoReport, *, top_percentile: float, min_loyalty: float) -> str:
    """The demo's answer as text, one small table per topic."""
    g = report.graph
    lines = [
        f"graphkit demo: bundled Ciao ({g.people.height:,} people, {len(g.topics)} topics, "
        f"{g.edges.filter(pl.col('kind') == 'follows').height:,} follows, {g.transactions.height:,} reviews)",
        f"ranked by {label(report.score)} ({report.score}) on {len(g.topics)} topics in "
        f"{report.seconds['score']:.1f} s",
        "",
    ]
    cols = ["loyal_rank", "person_id", "score", "percentile", "audience", "active_audience",
            "recency_days", "frequency", "loyalty_score"]
    for t in report.topics:
        rows = report.answers.filter(pl.col("topic") == t).select(cols).with_columns(
            pl.col("score").round(5), pl.col("percentile").round(2), pl.col("recency_days").round(0).cast(pl.Int64),
            pl.col("loyalty_score").round(3),
        )
        lines.append(f"Influential loyal customers on {t!r} (top {top_percentile:g}% by "
                     f"{label(report.score)}, "
                     f"loyalty >= {min_loyalty:g}): {rows.height} shown")
        with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=50,
                       tbl_cols=-1, tbl_width_chars=200):
            lines.append(str(rows) if rows.height else "  (nobody qualifies)")
        lines.append("")
    lines.append("written: " + ", ".join(str(p) for p in report.files))
    return "\n".join(lines)
