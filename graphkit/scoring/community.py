"""Communities per topic: Leiden on each topic's attention layer, seeded, compared up to relabelling.

:func:`topic_communities` partitions the people of every topic's layer (the
weighted attention graph of the influence model, see
:func:`graphkit.model.topics.topic_layer`) with igraph's Leiden algorithm
optimising modularity, and summarises each community: size, top influencers on
the topic, share of customers, best-matching explicit brand community and
modularity contribution. Topics run in parallel processes; the same ``seed``
gives the same partition whatever the number of processes.
:func:`compare_partitions` compares two memberships up to relabelling (NMI,
adjusted Rand index, identical or not).

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> people = pl.DataFrame({"person_id": ["a1", "a2", "a3", "b1", "b2", "b3"]})
>>> pairs = [("a1", "a2"), ("a2", "a3"), ("a3", "a1"), ("b1", "b2"), ("b2", "b3"), ("b3", "b1"), ("a1", "b1")]
>>> edges = pl.DataFrame({"src": [s for s, _ in pairs], "dst": [d for _, d in pairs],
...                       "kind": ["shares"] * 7, "topic": ["frogs"] * 7})
>>> res = topic_communities(TopicGraph.from_tables(people, edges), seed=1)
>>> res.membership.group_by("community").agg("person_id").sort("community")["person_id"].to_list()
[['a1', 'a2', 'a3'], ['b1', 'b2', 'b3']]
>>> round(res.modularity["frogs"], 4)
0.3571
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import zlib
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window, normalize_window, topic_activity, topic_layer
from graphkit.scoring.results import InfluenceResult
from graphkit.version import __version__

#: The community detection method of :func:`topic_communities`.
METHOD = "leiden"
#: Engines of :func:`topic_communities`: graphkit's own Leiden, or igraph's.
ENGINES: tuple[str, ...] = ("native", "igraph")
#: igraph's Leiden ``beta`` (randomness of the refinement step); igraph's default.
BETA = 0.01
#: With ``n_jobs=None``, graphs with fewer edges than this run in-process:
#: starting worker processes (about a second each) costs more than it saves.
PARALLEL_MIN_EDGES = 500_000

MEMBERSHIP_SCHEMA = {"person_id": pl.String, "topic": pl.String, "community": pl.UInt32}
SUMMARY_SCHEMA = {
    "topic": pl.String,
    "community": pl.UInt32,
    "size": pl.UInt32,
    "top_influencers": pl.List(pl.String),
    "customers": pl.UInt32,
    "customer_share": pl.Float64,
    "brand_community": pl.String,
    "brand_overlap": pl.UInt32,
    "brand_jaccard": pl.Float64,
    "brand_share": pl.Float64,
    "modularity_contribution": pl.Float64,
}


@dataclass(frozen=True)
class CommunityResult:
    """Communities of every requested topic and how they were found.

    ``membership`` has one row per (person, topic) for the people who have at
    least one edge in the topic's layer: ``person_id``, ``topic``,
    ``community`` (u32; 0 is the topic's largest community, ties broken by
    the smallest member's ``person_id``). ``summary`` has one row per
    (topic, community); see :func:`topic_communities` for its columns.
    ``modularity`` maps each requested topic to the modularity of its
    partition (NaN when the topic's layer has no edge). ``seconds`` times the
    phases in wall seconds (``layers``: building the layers and running
    Leiden, which overlap; ``summary``: influence and the summary table) and
    gives ``leiden_cpu``, the CPU seconds of the Leiden runs summed over topics
    and processes.
    """

    membership: pl.DataFrame
    summary: pl.DataFrame
    modularity: dict[str, float]
    seed: int
    parameters: dict[str, Any]
    method: str = METHOD
    seconds: dict[str, float] = field(default_factory=dict)
    version: str = __version__

    def of(self, topic: str) -> pl.DataFrame:
        """The summary rows of one topic, largest community first.

        >>> r = CommunityResult(pl.DataFrame(schema=MEMBERSHIP_SCHEMA),
        ...     pl.DataFrame({"topic": ["x", "x"], "community": [1, 0], "size": [2, 5]}), {"x": 0.3}, 0, {})
        >>> r.of("x")["size"].to_list()
        [5, 2]
        """
        if topic not in self.modularity:
            raise GraphkitError(f"topic {topic!r} is not in this result; it has {sorted(self.modularity)}")
        return self.summary.filter(pl.col("topic") == topic).sort("community")


def topic_communities(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    seed: int = 0,
    engine: str = "native",
    resolution: float = 1.0,
    n_iterations: int = 1,
    n_jobs: int | None = None,
    window: Window | None = None,
    influence: InfluenceResult | pl.DataFrame | None = None,
    n_influencers: int = 3,
) -> CommunityResult:
    """Leiden communities of every topic's attention layer, with a summary per community.

    Parameters
    ----------
    graph : the :class:`~graphkit.model.graph.TopicGraph`.
    topics : topics to partition; ``None`` takes every topic of the graph.
    seed : seeds the Leiden run of each topic (through a per-topic seed
        derived from ``seed`` and the topic's name): the same seed gives the
        same partition, in-process or in parallel, whatever else is requested.
    engine : ``"native"`` (default): graphkit's own Leiden
        (:mod:`graphkit.scoring.leiden`, numba), each topic's layer built and
        partitioned in one thread, topics on parallel threads; or
        ``"igraph"``: igraph's ``community_leiden`` in worker processes (the
        reference it was measured against: same modularity on average; at 1M
        people its Leiden took 120 CPU s on the layers graphkit's took in 32).
    resolution : modularity resolution (igraph ``resolution``, networkx
        ``resolution``, GDS Leiden ``gamma``): higher gives more, smaller
        communities.
    n_iterations : Leiden iterations per topic. 1 by default, by
        measurement (benchmarks/bench_communities.py): one iteration already
        matches igraph's Louvain modularity in less time (synthetic 1M people,
        16 topics: 0.6803 in 53 s vs 0.6804 in 139 s); a second iteration
        (igraph's default) gives 0.6819 for 1.5x the time (on Ciao 0.491 vs
        0.484). A negative number iterates until the partition is stable
        (many times longer on large layers).
    n_jobs : parallel workers (threads for the native engine, loky processes
        for igraph's, each receiving only its topic's edge arrays). ``None``
        uses every available core when the graph has at least
        :data:`PARALLEL_MIN_EDGES` edges, else runs in the calling thread;
        ``1`` always does.
    window : ``(start, end)``: the layers (and influence) count events with
        ``start <= ts < end``, as in :func:`graphkit.scoring.influence.topic_influence`.
    influence : topic influence to name each community's top influencers
        (an :class:`~graphkit.scoring.results.InfluenceResult` or a table with
        ``person_id``, ``topic``, ``score``); ``None`` computes
        :func:`graphkit.scoring.influence.topic_influence` with the same window.
    n_influencers : how many top influencers the summary lists per community.

    Returns
    -------
    A :class:`CommunityResult`. Its ``summary`` columns: ``topic``,
    ``community``, ``size``, ``top_influencers`` (up to ``n_influencers``
    person_ids, highest influence score on the topic first, ties by
    person_id), ``customers`` and ``customer_share`` (members with a
    ``customer_id``), ``brand_community`` (the explicit community, of any
    topic, whose ``member_of`` members overlap most with this one by Jaccard
    index; ties by community_id; null when no member belongs to any),
    ``brand_overlap`` (members in both), ``brand_jaccard``, ``brand_share``
    (share of this community's members who are in it), and
    ``modularity_contribution`` (``L_c / m - resolution * (d_c / 2m)^2``;
    they sum to the topic's modularity).

    Notes
    -----
    The layer of topic *t* is directed (attention giver -> receiver, see
    :func:`graphkit.model.topics.topic_layer`). Leiden runs on its undirected
    version: the weight between *i* and *j* is the attention *i* gives *j*
    plus the attention *j* gives *i* (``W + W.T``), so mutual attention
    counts twice. Self-loops do not exist in layers. People with no edge in a
    topic's layer (inactive, or unconnected on that topic) are left out of
    that topic's communities: they have no row in ``membership`` for it. A
    person is in at most one community per topic, and may be in communities
    of several topics.

    The native engine's Leiden refines greedily (no random draw in the
    refinement; node orders are drawn from the topic's seed). With
    ``engine="igraph"`` Leiden is igraph's
    ``community_leiden(objective_function="modularity")`` with ``beta`` =
    :data:`BETA`; igraph draws random numbers from one global generator, so
    each topic's run sets it to ``random.Random(topic_seed)`` and afterwards
    restores igraph's default (Python's :mod:`random` module).

    Examples
    --------
    >>> from graphkit.io.datasets import load_ciao
    >>> res = topic_communities(load_ciao(), topics=["Books"], seed=0)
    >>> res.modularity["Books"] > 0.3, res.summary.columns[:4]
    (True, ['topic', 'community', 'size', 'top_influencers'])
    """
    seed = _check_int("seed", seed, minimum=0)
    if not (isinstance(resolution, (int, float)) and np.isfinite(resolution) and resolution > 0):
        raise GraphkitError(f"resolution must be a positive number; got {resolution!r}")
    n_iterations = _check_int("n_iterations", n_iterations)
    if n_iterations == 0:
        raise GraphkitError("n_iterations must be positive (or negative to iterate until stable); got 0")
    if n_jobs is not None:
        n_jobs = _check_int("n_jobs", n_jobs, minimum=1)
    n_influencers = _check_int("n_influencers", n_influencers, minimum=0)
    names = _requested_topics(graph, topics)
    start, end = normalize_window(window)
    started = time.perf_counter()

    if engine not in ENGINES:
        raise GraphkitError(f"engine must be one of {ENGINES}; got {engine!r}")
    workers = _workers(graph, n_jobs, len(names))
    # Busiest topics first: their layers are the largest, so the workers finish evenly.
    activity = np.asarray(topic_activity(graph, window=(start, end)).sum(axis=0)).ravel()
    order = sorted(names, key=lambda t: (-activity[graph.topic_of(t)], t))
    if engine == "native":
        found, leiden_cpu = _native(graph, order, (start, end), seed, float(resolution), n_iterations, workers)
    else:
        found, leiden_cpu = _igraph_partitions(graph, order, (start, end), seed, float(resolution), n_iterations,
                                               workers)
    partitioned = time.perf_counter()

    by_id, id_rank = _id_order(graph)
    parts = {name: _relabel(*found[name], id_rank) for name in sorted(found)}
    modularity = {name: float(parts[name].contributions.sum()) if name in parts else float("nan") for name in names}
    scores = _influence_scores(graph, influence, list(parts), (start, end))
    grouped = {name: _grouped(part, by_id) for name, part in parts.items()}
    membership = _membership(graph, parts, grouped)
    summary = _summary(graph, parts, grouped, scores, n_influencers)
    parameters = {
        "topics": names,
        "resolution": float(resolution),
        "n_iterations": n_iterations,
        "beta": BETA,
        "objective_function": "modularity",
        "window": (start, end),
        "n_influencers": n_influencers,
        "n_jobs": workers,
        "engine": engine,
    }
    return CommunityResult(
        membership=membership,
        summary=summary,
        modularity=modularity,
        seed=seed,
        parameters=parameters,
        seconds={"layers": partitioned - started, "summary": time.perf_counter() - partitioned,
                 "leiden_cpu": leiden_cpu},
    )


def compare_partitions(a: CommunityResult | pl.DataFrame, b: CommunityResult | pl.DataFrame) -> pl.DataFrame:
    """Compare two memberships up to relabelling, per topic.

    ``a`` and ``b`` are :class:`CommunityResult` objects or tables with
    ``person_id`` and ``community`` (and ``topic``, compared topic by topic;
    without it each table is one partition). Returns one row per topic (null
    topic when there is none): ``topic``, ``people`` (in both), ``only_a``,
    ``only_b`` (people in one membership only; they are left out of the
    scores), ``nmi`` (normalised mutual information, 1 = same),
    ``adjusted_rand`` (1 = same, about 0 = chance), and ``same`` (True when
    both hold the same people and the same groups, whatever the labels).
    Scores are igraph's ``compare_communities``.

    >>> x = pl.DataFrame({"person_id": ["a", "b", "c", "d"], "community": [0, 0, 1, 1]})
    >>> y = pl.DataFrame({"person_id": ["a", "b", "c", "d"], "community": [7, 7, 3, 3]})
    >>> compare_partitions(x, y).select("nmi", "adjusted_rand", "same").row(0)
    (1.0, 1.0, True)
    >>> z = x.with_columns(community=pl.Series([0, 1, 0, 1]))
    >>> compare_partitions(x, z)["same"].to_list()
    [False]
    """
    import igraph as ig

    left, right = _as_membership(a, "a"), _as_membership(b, "b")
    has_topic = "topic" in left.columns and "topic" in right.columns
    if ("topic" in left.columns) != ("topic" in right.columns):
        raise GraphkitError("compare_partitions: one membership has a 'topic' column and the other has not")
    for name, table in (("a", left), ("b", right)):
        dup = table.select((["topic"] if has_topic else []) + ["person_id"]).is_duplicated()
        if dup.any():
            raise GraphkitError(f"compare_partitions: {name} lists a person more than once per topic "
                                f"(e.g. {table.filter(dup)['person_id'][0]!r})")
    if not has_topic:
        left, right = (df.with_columns(topic=pl.lit(None, dtype=pl.String)) for df in (left, right))
    topics = pl.concat([left["topic"], right["topic"]]).unique().sort(nulls_last=True).to_list()
    rows = []
    for topic in topics:
        pick = pl.col("topic").is_null() if topic is None else pl.col("topic") == topic
        la = left.filter(pick).select("person_id", pl.col("community").alias("ca"))
        lb = right.filter(pick).select("person_id", pl.col("community").alias("cb"))
        both = la.join(lb, on="person_id", how="inner")
        only_a, only_b = la.height - both.height, lb.height - both.height
        if both.height:
            ca = both["ca"].rank("dense").to_numpy().astype(np.int64) - 1
            cb = both["cb"].rank("dense").to_numpy().astype(np.int64) - 1
            nmi = float(ig.compare_communities(ca.tolist(), cb.tolist(), method="nmi"))
            ari = float(ig.compare_communities(ca.tolist(), cb.tolist(), method="adjusted_rand")) if both.height > 1 else 1.0
            # Same groups iff label pairs are one-to-one.
            pairs = both.select(pl.struct("ca", "cb").n_unique()).item()
            bijective = pairs == both["ca"].n_unique() == both["cb"].n_unique()
        else:
            nmi, ari, bijective = float("nan"), float("nan"), True
        rows.append((topic, both.height, only_a, only_b, nmi, ari, bijective and only_a == 0 and only_b == 0))
    return pl.DataFrame(
        rows,
        schema={"topic": pl.String, "people": pl.UInt32, "only_a": pl.UInt32, "only_b": pl.UInt32,
                "nmi": pl.Float64, "adjusted_rand": pl.Float64, "same": pl.Boolean},
        orient="row",
    )


def leiden(
    n_nodes: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    *,
    seed: int = 0,
    resolution: float = 1.0,
    n_iterations: int = 1,
    engine: str = "native",
) -> np.ndarray:
    """Leiden (modularity) membership of an undirected weighted graph given as edge arrays.

    The machinery under :func:`topic_communities`, for graphs that are not a
    topic layer: nodes are ``0 .. n_nodes - 1``, each undirected edge listed
    once. Returns the raw membership (labels are arbitrary; compare with
    :func:`compare_partitions`) of graphkit's Leiden (``engine="native"``) or
    igraph's (``"igraph"``). Same seed, same membership.

    >>> src, dst = np.array([0, 1, 2, 3, 4, 5, 0]), np.array([1, 2, 0, 4, 5, 3, 3])
    >>> m = leiden(6, src, dst, np.ones(7), seed=3)
    >>> len(set(m[:3])), len(set(m[3:])), bool(m[0] != m[3])
    (1, 1, True)
    """
    src, dst, weight = np.asarray(src), np.asarray(dst), np.asarray(weight, dtype=np.float64)
    if not (src.shape == dst.shape == weight.shape and src.ndim == 1):
        raise GraphkitError(f"src, dst and weight must be 1-d arrays of one length; got {src.shape}, {dst.shape}, {weight.shape}")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n_nodes):
        raise GraphkitError(f"edge endpoints must be node numbers in 0 .. {n_nodes - 1}")
    if weight.size and not (np.isfinite(weight).all() and weight.min() >= 0):
        raise GraphkitError("edge weights must be finite and >= 0")
    if engine not in ENGINES:
        raise GraphkitError(f"engine must be one of {ENGINES}; got {engine!r}")
    if engine == "native":
        from graphkit.scoring.leiden import leiden_membership

        return leiden_membership(n_nodes, src, dst, weight, seed=_check_int("seed", seed, minimum=0),
                                 resolution=float(resolution), n_iterations=_check_int("n_iterations", n_iterations))
    task = _Task("", _check_int("seed", seed, minimum=0), n_nodes, src, dst, weight, float(resolution),
                 _check_int("n_iterations", n_iterations), BETA)
    return _leiden_task(task)[1]


def _native(graph: TopicGraph, order: list[str], window, seed: int, resolution: float, n_iterations: int,
            workers: int) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], float]:
    """Each topic's (nodes, raw membership, modularity contribution per raw community), native engine.

    Every thread builds its topic's layer from the shared structure (no matrix per topic is
    kept), partitions it and keeps only the membership: memory holds ``workers`` layers at most.
    """
    from concurrent.futures import ThreadPoolExecutor

    from graphkit.model.topics import topic_structure
    from graphkit.scoring.leiden import community_totals, layer_csr, leiden_csr

    structure = topic_structure(graph, window=window)
    gt = sp.csr_array(structure.general.T)  # rows = receivers
    bounds = np.searchsorted(structure.topical_topic, np.arange(len(structure.topics) + 1))
    n = structure.n_people

    def run(name: str):
        cpu = time.thread_time()
        t = graph.topic_of(name)
        lo, hi = bounds[t], bounds[t + 1]
        nodes, ptr, idx, w = layer_csr(n, gt.indptr, gt.indices, gt.data, structure.follow_scale_t[t],
                                       structure.topical_src[lo:hi], structure.topical_dst[lo:hi],
                                       structure.topical_weight[lo:hi])
        if not w.size:
            return name, None, time.thread_time() - cpu
        raw = leiden_csr(ptr, idx, w, np.arange(nodes.size, dtype=np.int32), resolution,
                         np.uint64(_topic_seed(seed, name)), n_iterations)
        internal, volume = community_totals(ptr, idx, w, raw, int(raw.max()) + 1)
        m = w.sum() / 2  # every undirected edge is in two rows
        return name, (nodes, raw, internal / m - resolution * (volume / (2 * m)) ** 2), time.thread_time() - cpu

    if workers <= 1:
        results = list(map(run, order))
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphkit-leiden") as pool:
            results = list(pool.map(run, order))
    found = {name: part for name, part, _ in results if part is not None}
    return found, sum(cpu for _, _, cpu in results)


def _igraph_partitions(graph: TopicGraph, order: list[str], window, seed: int, resolution: float,
                       n_iterations: int, workers: int) -> tuple[dict[str, tuple], float]:
    """Each topic's (nodes, raw membership, contributions) from igraph's Leiden in worker processes."""
    layers: dict[str, _Layer] = {}

    def tasks() -> Iterator[_Task]:
        for name in order:
            layer = _undirected(topic_layer(graph, name, window=window))
            layers[name] = layer
            if layer.weight.size:
                yield _Task(name, _topic_seed(seed, name), layer.nodes.size, layer.src, layer.dst, layer.weight,
                            resolution, n_iterations, BETA)

    found, leiden_cpu = {}, 0.0
    for name, raw, cpu in _run(tasks(), workers):
        layer = layers[name]
        found[name] = (layer.nodes, raw, _contributions(layer, raw, int(raw.max()) + 1, resolution))
        leiden_cpu += cpu
    return found, leiden_cpu


# ----------------------------------------------------------------- internals
@dataclass(frozen=True, eq=False)
class _Layer:
    """A topic layer as undirected edges: ``nodes`` are people indices; src/dst index into them."""

    nodes: np.ndarray  # int64, sorted people indices with at least one edge
    src: np.ndarray  # int32 local node numbers, src < dst
    dst: np.ndarray
    weight: np.ndarray  # float64 > 0


@dataclass(frozen=True, eq=False)
class _Task:
    """What a worker needs for one topic: the edge arrays, not the graph."""

    topic: str
    seed: int
    n_nodes: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    resolution: float
    n_iterations: int
    beta: float


def _undirected(layer: sp.csr_array) -> _Layer:
    """``W + W.T`` as a list of undirected edges (each once), over the people who have one."""
    both = sp.triu(layer + layer.T, k=1, format="coo")
    keep = both.data > 0
    rows, cols, w = both.row[keep], both.col[keep], both.data[keep].astype(np.float64)
    present = np.zeros(layer.shape[0], dtype=bool)
    present[rows] = True
    present[cols] = True
    local = (np.cumsum(present) - 1).astype(np.int32)  # person index -> node number (O(n), no sort)
    return _Layer(np.flatnonzero(present), local[rows], local[cols], w)


def _topic_seed(seed: int, topic: str) -> int:
    """A seed for one topic's run, from the caller's seed and the topic's name only."""
    return int(np.random.SeedSequence([seed, zlib.crc32(topic.encode("utf-8"))]).generate_state(1, np.uint64)[0])


def _leiden_task(task: _Task) -> tuple[str, np.ndarray, float]:
    """Run one topic's Leiden (in a worker process or in-process); also its CPU seconds."""
    import igraph as ig

    cpu = time.process_time()
    graph = _igraph_from_edges(task.n_nodes, task.src, task.dst)
    ig.set_random_number_generator(random.Random(task.seed))
    try:
        clusters = graph.community_leiden(
            objective_function="modularity", weights=task.weight, resolution=task.resolution,
            beta=task.beta, n_iterations=task.n_iterations,
        )
    finally:
        ig.set_random_number_generator(random)  # igraph's default
    return task.topic, np.asarray(clusters.membership, dtype=np.int64), time.process_time() - cpu


def _igraph_from_edges(n_nodes: int, src: np.ndarray, dst: np.ndarray):
    """An undirected igraph Graph; large edge lists go through igraph's C edge-list reader,
    which measured 2.5x faster than ``Graph(edges=...)`` (that converts edge by edge)."""
    import igraph as ig

    if src.size < 100_000:
        return ig.Graph(n=n_nodes, edges=np.column_stack([src, dst]).tolist(), directed=False)
    with tempfile.TemporaryDirectory(prefix="graphkit-leiden-") as folder:
        path = os.path.join(folder, "edges.txt")
        pl.DataFrame({"s": src, "d": dst}).write_csv(path, separator=" ", include_header=False)
        graph = ig.Graph.Read_Edgelist(path, directed=False)
    if graph.vcount() < n_nodes:  # trailing nodes without edges (not in topic layers, possible via leiden())
        graph.add_vertices(n_nodes - graph.vcount())
    return graph


def _run(tasks: Iterator[_Task], workers: int) -> Iterator[tuple[str, np.ndarray, float]]:
    """Results of every task, from ``workers`` processes that start while later layers are still built.

    loky's workers do not re-run the caller's ``__main__`` (scripts need no
    ``if __name__ == "__main__":`` guard, unlike multiprocessing's spawn), are
    not forked from a process running polars' thread pool, and are reused
    between calls. Layers are built here, in the calling thread, and handed
    over as soon as each is ready.
    """
    if workers <= 1:
        yield from map(_leiden_task, tasks)
        return
    from loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=workers)
    futures = []
    try:
        for task in tasks:
            futures.append(executor.submit(_leiden_task, task))
        for future in as_completed(futures):
            yield future.result()
    except BrokenProcessPool as exc:
        raise GraphkitError(f"a Leiden worker process died ({exc}); is memory short? retry with n_jobs=1") from exc
    finally:  # on an error or an abandoned generator, queued topics are not run for nothing
        for future in futures:
            future.cancel()


def _workers(graph: TopicGraph, n_jobs: int | None, n_topics: int) -> int:
    if n_jobs is not None:
        return max(1, min(n_jobs, n_topics))
    if graph.edges.height < PARALLEL_MIN_EDGES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, n_topics))


def _requested_topics(graph: TopicGraph, topics: Sequence[str] | None) -> list[str]:
    if topics is None:
        return list(graph.topics)
    if isinstance(topics, str):
        raise GraphkitError(f"topics must be a list of topic names, not a single string; use topics=[{topics!r}]")
    names = list(topics)
    for name in names:
        graph.topic_of(name)  # raises with the choices
    if len(set(names)) != len(names):
        raise GraphkitError(f"topics lists a topic more than once: {names}")
    if not names:
        raise GraphkitError("topics is empty; pass None to take every topic")
    return names


def _check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise GraphkitError(f"{name} must be an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise GraphkitError(f"{name} must be >= {minimum}; got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=False)
class _Partition:
    """One topic's communities: ``community[k]`` of person index ``nodes[k]``, numbered 0.. by size."""

    nodes: np.ndarray
    community: np.ndarray
    contributions: np.ndarray  # modularity contribution of each community

    @property
    def k(self) -> int:
        return self.contributions.size


def _id_order(graph: TopicGraph) -> tuple[np.ndarray, np.ndarray]:
    """People indices sorted by person_id, and each person's position in that order
    (ties are broken by person_id, not by row)."""
    by_id = graph.people["person_id"].arg_sort().to_numpy().astype(np.int64)
    rank = np.empty(by_id.size, dtype=np.int64)
    rank[by_id] = np.arange(by_id.size)
    return by_id, rank


def _relabel(nodes: np.ndarray, raw: np.ndarray, contributions: np.ndarray, id_rank: np.ndarray) -> _Partition:
    """Number communities by size (largest = 0), ties by their smallest member's person_id."""
    k = int(raw.max()) + 1
    size = np.bincount(raw, minlength=k)
    first = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(first, raw, id_rank[nodes])
    relabel = np.empty(k, dtype=np.int64)
    relabel[np.lexsort((first, -size))] = np.arange(k)
    ordered = np.empty(k)
    ordered[relabel] = contributions
    return _Partition(nodes, relabel[raw], ordered)


def _contributions(layer: _Layer, community: np.ndarray, k: int, resolution: float) -> np.ndarray:
    """Each community's ``L_c / m - resolution * (d_c / 2m)^2`` (weighted; sums to the modularity)."""
    m = layer.weight.sum()
    cs, cd = community[layer.src], community[layer.dst]
    internal = np.bincount(cs[cs == cd], weights=layer.weight[cs == cd], minlength=k)
    strength = np.bincount(layer.src, weights=layer.weight, minlength=layer.nodes.size) + np.bincount(
        layer.dst, weights=layer.weight, minlength=layer.nodes.size
    )
    volume = np.bincount(community, weights=strength, minlength=k)
    return internal / m - resolution * (volume / (2 * m)) ** 2


def _grouped(part: _Partition, by_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The partition's people indices sorted by community then person_id, and their communities.

    People are taken in person_id order and grouped by a stable counting sort (1M people x 16
    topics: 0.1 instead of 1.9 CPU s with ``np.lexsort``)."""
    from graphkit.scoring.leiden import grouped_order

    community_of = np.full(by_id.size, -1, dtype=np.int64)
    community_of[part.nodes] = part.community
    c = community_of[by_id]
    keep = c >= 0
    people, c = by_id[keep], c[keep]
    order = grouped_order(c, part.k)
    return people[order], c[order]


def _membership(graph: TopicGraph, parts: dict[str, _Partition],
                grouped: dict[str, tuple[np.ndarray, np.ndarray]]) -> pl.DataFrame:
    """Rows sorted by topic, community, person_id."""
    ids = graph.people["person_id"]
    frames = []
    for name in parts:
        people, community = grouped[name]
        frames.append(pl.DataFrame({
            "person_id": ids.gather(people),
            "topic": pl.repeat(name, people.size, dtype=pl.String, eager=True),
            "community": community.astype(np.uint32),
        }))
    return pl.concat(frames) if frames else pl.DataFrame(schema=MEMBERSHIP_SCHEMA)


def _influence_scores(
    graph: TopicGraph, influence: InfluenceResult | pl.DataFrame | None, topics: list[str], window
) -> dict[str, np.ndarray]:
    """Each topic's influence score by person index (NaN where the table has none)."""
    if not topics:
        return {}
    if influence is None:
        from graphkit.scoring.influence import topic_influence

        influence = topic_influence(graph, topics=topics, window=window)
    table = influence.table if isinstance(influence, InfluenceResult) else influence
    if not isinstance(table, pl.DataFrame):
        raise GraphkitError(f"influence must be an InfluenceResult or a polars DataFrame; got {type(influence).__name__}")
    missing_cols = {"person_id", "topic", "score"} - set(table.columns)
    if missing_cols:
        raise GraphkitError(f"influence table lacks column(s) {sorted(missing_cols)}; pass topic_influence(...).table")
    out = _scores_in_graph_order(table, graph.people["person_id"], set(topics))
    rest = sorted(set(topics) - set(out))
    if not rest:
        return out
    absent = sorted(set(rest) - set(table["topic"].unique().to_list()))
    if absent:
        raise GraphkitError(f"influence has no scores for topic(s) {absent}; compute it with those topics")
    rows = table.filter(pl.col("topic").is_in(rest)).select("person_id", "topic", pl.col("score").cast(pl.Float64))
    for (topic,), part in rows.partition_by("topic", as_dict=True).items():
        hit = part.join(graph.person_index, on="person_id", how="inner")
        if hit.height != part.height:
            unknown = part.join(graph.person_index, on="person_id", how="anti")["person_id"].head(3).to_list()
            raise GraphkitError(f"influence has person_id(s) that are not in the graph, e.g. {unknown}; "
                                "compute it on the same graph")
        scores = np.full(graph.n_people, np.nan)
        scores[hit["idx"].to_numpy()] = hit["score"].to_numpy()
        out[topic] = scores
    return out


def _scores_in_graph_order(table: pl.DataFrame, ids: pl.Series, topics: set[str]) -> dict[str, np.ndarray]:
    """Scores of the topics whose rows are one block of every person in graph order (topic_influence's
    layout): read by slicing, without grouping the table (1M people x 16 topics: 0.06 instead of 1.6 CPU s)."""
    n, out = ids.len(), {}
    if n == 0 or table.height % n:
        return out
    for b in range(table.height // n):
        block = table.slice(b * n, n)
        topic = block["topic"][0]
        if topic in topics and topic not in out and (block["topic"] == topic).all() and block["person_id"].equals(ids):
            out[topic] = block["score"].cast(pl.Float64).to_numpy()
    return out


def _summary(
    graph: TopicGraph, parts: dict[str, _Partition], grouped: dict[str, tuple[np.ndarray, np.ndarray]],
    scores: dict[str, np.ndarray], n_influencers: int,
) -> pl.DataFrame:
    from graphkit.scoring.leiden import grouped_order

    ids = graph.people["person_id"]
    is_customer = graph.people["customer_id"].is_not_null().to_numpy()
    brands = _brand_members(graph)
    frames = []
    for name, part in parts.items():
        k, c = part.k, part.community
        size = np.bincount(c, minlength=k)
        customers = np.bincount(c, weights=is_customer[part.nodes], minlength=k)
        # Top influencers: within each community, highest score first (no score: last), ties by person_id.
        people, pc = grouped[name]  # by community, then person_id
        s = scores[name][people]
        by_score = np.argsort(np.where(np.isnan(s), np.inf, -s), kind="stable")  # ties stay in person_id order
        order = by_score[grouped_order(pc[by_score], k)]
        starts = np.searchsorted(pc, np.arange(k))
        pick = order[np.arange(order.size) - starts[pc[order]] < n_influencers]
        top = (
            pl.DataFrame({"community": pc[pick], "person_id": ids.gather(people[pick])})
            .group_by("community", maintain_order=True)
            .agg(pl.col("person_id").alias("top_influencers"))
        )
        frame = pl.DataFrame({
            "community": np.arange(k), "size": size, "customers": customers.astype(np.int64),
            "customer_share": customers / size, "modularity_contribution": part.contributions,
        }).join(top, on="community", how="left").join(_brand_match(part, size, brands, graph.n_people),
                                                      on="community", how="left")
        frames.append(frame.with_columns(topic=pl.lit(name)))
    if not frames:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    return (
        pl.concat(frames, how="diagonal_relaxed")
        .with_columns(pl.col("top_influencers").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                      pl.col("brand_overlap").fill_null(0))
        .select(list(SUMMARY_SCHEMA))
        .cast(SUMMARY_SCHEMA)
    )


@dataclass(frozen=True, eq=False)
class _Brands:
    """Explicit community membership (member_of edges) by person index; ``ids`` sorted, codes index them."""

    ids: pl.Series
    person: np.ndarray
    code: np.ndarray
    size: np.ndarray


def _brand_members(graph: TopicGraph) -> _Brands:
    m = (graph.edges.filter(pl.col("kind") == "member_of").select("src", "dst").unique()
         .join(graph.person_index, left_on="src", right_on="person_id", how="inner"))
    ids = m["dst"].unique().sort()
    code = np.searchsorted(ids.to_numpy(), m["dst"].to_numpy()) if ids.len() else np.zeros(0, dtype=np.int64)
    return _Brands(ids, m["idx"].to_numpy().astype(np.int64), code, np.bincount(code, minlength=ids.len()))


def _brand_match(part: _Partition, size: np.ndarray, brands: _Brands, n_people: int) -> pl.DataFrame:
    """Best explicit community of each detected one: highest Jaccard index, ties by community_id."""
    schema = {"community": pl.Int64, "brand_community": pl.String, "brand_overlap": pl.Int64,
              "brand_jaccard": pl.Float64, "brand_share": pl.Float64}
    if not brands.ids.len():
        return pl.DataFrame(schema=schema)
    community_of = np.full(n_people, -1, dtype=np.int64)
    community_of[part.nodes] = part.community
    c = community_of[brands.person]
    inside = c >= 0
    pairs, overlap = np.unique(c[inside] * brands.ids.len() + brands.code[inside], return_counts=True)
    pc, pb = np.divmod(pairs, brands.ids.len())
    jaccard = overlap / (size[pc] + brands.size[pb] - overlap)
    order = np.lexsort((pb, -jaccard, pc))
    best = order[np.r_[True, pc[order][1:] != pc[order][:-1]]] if order.size else order
    return pl.DataFrame({
        "community": pc[best], "brand_community": brands.ids.gather(pb[best]), "brand_overlap": overlap[best],
        "brand_jaccard": jaccard[best], "brand_share": overlap[best] / size[pc[best]],
    }, schema=schema)


def _as_membership(x: CommunityResult | pl.DataFrame, name: str) -> pl.DataFrame:
    table = x.membership if isinstance(x, CommunityResult) else x
    if not isinstance(table, pl.DataFrame):
        raise GraphkitError(f"compare_partitions: {name} must be a CommunityResult or a DataFrame; got {type(x).__name__}")
    missing = {"person_id", "community"} - set(table.columns)
    if missing:
        raise GraphkitError(f"compare_partitions: {name} lacks column(s) {sorted(missing)}")
    return table.select(["person_id", "community"] + (["topic"] if "topic" in table.columns else []))
