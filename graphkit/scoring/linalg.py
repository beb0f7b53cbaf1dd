"""Numerics of topic influence: all topics as one sparse system, and the solvers.

:class:`TopicSystem` holds every topic's random walk at once. Its states are
the *live* (person, topic) pairs: a person is live on a topic when they get
teleport (they are active on it) or receive attention on it; every other
person's score on that topic is exactly 0, so it is left out. States are
grouped by topic (topic *k* owns ``offsets[k]:offsets[k+1]``) and the
transition is one CSR matrix over all states (row = receiving state, entries
= probability that the walk moves there from a giving state of the same
topic). It is built from the shared parts of :func:`graphkit.model.topics.topic_structure`
(one ``general`` matrix for all topics, an n x T scaling, the labelled
interactions) in one numba pass, one topic per thread, never one matrix per topic.

Why live states rather than an n x T dense block times one shared matrix:
a person is live on few topics (2.9 of 16 on average in the synthetic graphs,
8 of 28 on Ciao), so the dense product does 3-6 times the arithmetic and moves
a full n x T row for every edge; see ``docs/engine.md`` for the measurements.

Solvers (numba kernels, deterministic whatever the thread count: each topic is
swept by one thread):

* :func:`solve_ppr` -- personalised PageRank, Gauss-Seidel sweeps on
  ``x = d P^T x + v`` then each topic normalised to sum 1. Dangling mass goes
  back to the teleport vector ``v`` (igraph / PRPACK): with that convention the
  stationary scores are proportional to the solution of this system, and
  Gauss-Seidel needs fewer sweeps than power iteration (29 vs 48 at 100k people).
* :func:`solve_gds` -- Neo4j GDS PageRank semantics (Pregel, see there).

>>> import numpy as np, scipy.sparse as sp
>>> w = sp.csr_array(np.array([[0, 1.0], [0, 0]]))   # person 0 attends to person 1
>>> system = TopicSystem.build(w, np.ones((2, 1)), restart=np.array([[0.5], [0.5]]))
>>> sol = solve_ppr(system, damping_factor=0.85, max_iter=100, tol=1e-12)
>>> np.round(sol.scores.ravel(), 4).tolist(), bool(sol.converged.all())
([0.3509, 0.6491], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from graphkit.errors import GraphkitError
from graphkit.model.topics import interaction_order

#: Smallest relative L1 change float32 arithmetic can resolve reliably.
FLOAT32_TOL_FLOOR = 1e-6


# ---------------------------------------------------------------------------------- kernels
@njit(parallel=True, cache=True)
def _live_states(act_t, scale_t, receives, tt_start, tt_dst, gt_indptr, rank_t, sizes, bounds):  # pragma: no cover
    # Per topic: number its live people in person order (rank_t, -1 elsewhere; it comes in
    # filled with -1) and bound its row entries (in-degrees of scaled receivers + labelled ones).
    n_topics, n = act_t.shape
    for k in prange(n_topics):
        for q in range(tt_start[k], tt_start[k + 1]):
            rank_t[k, tt_dst[q]] = 0  # receives labelled attention: live
        c = 0
        e = tt_start[k + 1] - tt_start[k]
        for j in range(n):
            scaled = scale_t[k, j] > 0
            if act_t[k, j] > 0 or (scaled and receives[j]) or rank_t[k, j] == 0:
                rank_t[k, j] = c
                c += 1
            if scaled:
                e += gt_indptr[j + 1] - gt_indptr[j]
        sizes[k] = c
        bounds[k] = e


@njit(parallel=True, cache=True)
def _topic_rows(gt_indptr, gt_indices, gt_data, scale_t, out_t, act_t, rank_t, offsets, order,
                tt_start, tt_dst, tt_src, tt_w, seg_start, lengths, seg_used, indices, prob, person,
                activity):  # pragma: no cover
    # One topic per thread, so each topic's lookups (rank, out-weight: a few MB) stay in
    # cache. Topic k writes its rows one after the other from seg_start[k] (room for its
    # bound); row of a state: general entries (by giver), then labelled ones (by giver).
    n_topics, n = scale_t.shape
    for b in prange(n_topics):
        k = order[b]
        base = offsets[k]
        q = tt_start[k]
        c = seg_start[k]
        for j in range(n):
            r = rank_t[k, j]
            if r < 0:
                continue
            person[base + r] = j
            activity[base + r] = act_t[k, j]
            row = c
            sj = scale_t[k, j]
            if sj > 0:
                for p in range(gt_indptr[j], gt_indptr[j + 1]):
                    i = gt_indices[p]
                    ri = rank_t[k, i]
                    if ri >= 0:
                        o = out_t[k, i]
                        indices[c] = base + ri
                        prob[c] = gt_data[p] * sj / o if o > 0 else 0.0
                        c += 1
            while q < tt_start[k + 1] and tt_dst[q] < j:
                q += 1
            while q < tt_start[k + 1] and tt_dst[q] == j:
                i = tt_src[q]
                ri = rank_t[k, i]
                if ri >= 0:
                    o = out_t[k, i]
                    indices[c] = base + ri
                    prob[c] = tt_w[q] / o if o > 0 else 0.0
                    c += 1
                q += 1
            lengths[base + r] = c - row
        seg_used[k] = c - seg_start[k]


@njit(parallel=True, cache=True)
def _gauss_seidel(indptr, indices, prob, offsets, order, restart, x, d, tol, max_iter,
                  iterations, residuals):  # pragma: no cover
    # Each topic is swept to convergence by one thread, in state order, while it stays in
    # cache; topics are independent, so no thread waits for another between sweeps.
    for b in prange(len(order)):
        k = order[b]
        lo, hi = offsets[k], offsets[k + 1]
        if lo == hi:
            continue
        for it in range(1, max_iter + 1):
            r = 0.0
            total = 0.0
            for j in range(lo, hi):
                acc = 0.0
                for p in range(indptr[j], indptr[j + 1]):
                    acc += prob[p] * x[indices[p]]
                val = d * acc + restart[j]
                r += abs(val - x[j])
                total += val
                x[j] = val
            iterations[k] = it
            residuals[k] = r / total if total > 0 else 0.0
            if residuals[k] < tol:
                break


@njit(parallel=True, cache=True)
def _pregel(indptr, indices, prob, offsets, order, rank, msg, nxt, d, tol, max_iter, iterations, converged):  # pragma: no cover
    # GDS PageRankComputation, one topic per thread: superstep 0 sends every rank; then
    # delta = d * sum(messages), rank += delta, and a node sends delta only while delta > tol.
    for b in prange(len(order)):
        k = order[b]
        lo, hi = offsets[k], offsets[k + 1]
        if lo == hi:
            converged[k] = True
            continue
        for j in range(lo, hi):
            msg[j] = rank[j]
        iterations[k] = 1
        for step in range(1, max_iter):
            sent = 0
            for j in range(lo, hi):
                acc = 0.0
                for p in range(indptr[j], indptr[j + 1]):
                    acc += prob[p] * msg[indices[p]]
                delta = d * acc
                rank[j] += delta
                if delta > tol:
                    nxt[j] = delta
                    sent += 1
                else:
                    nxt[j] = 0.0
            for j in range(lo, hi):
                msg[j] = nxt[j]
            iterations[k] = step + 1
            if sent == 0:
                converged[k] = True
                break


# ---------------------------------------------------------------------------------- system
@dataclass(frozen=True, eq=False)
class TopicSystem:
    """Every topic's walk over its live (person, topic) states, as one CSR matrix.

    ``indptr``/``indices``/``prob``: rows are receiving states, ``prob`` the
    probability of moving from the giving state (weight / giver's total
    weight on the topic). ``person[s]`` is the person of state ``s``;
    ``restart`` the teleport weight (each topic's states sum to 1);
    ``activity`` the raw activity (GDS source bias).
    """

    n_people: int
    offsets: np.ndarray
    person: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    prob: np.ndarray
    restart: np.ndarray
    activity: np.ndarray

    @classmethod
    def build(
        cls,
        general: sp.sparray,
        scale: np.ndarray,
        topical: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
        *,
        restart: np.ndarray,
        out: np.ndarray | None = None,
        dtype: str = "float64",
        topic_major: bool = False,
    ) -> TopicSystem:
        """From the layers' shared parts: topic *k*'s weights are
        ``general @ diag(scale[:, k])`` plus the ``topical`` interactions
        ``(src, dst, column, weight)`` with that column; ``restart`` (n x K)
        is the raw teleport weight (activity), normalised here per column.
        ``out`` (n x K) is each giver's total weight per topic, when part of
        it passes nothing (that part returns to the teleport vector); by
        default the row sums of the weights. With ``topic_major=True``,
        ``scale``, ``restart`` and ``out`` are given transposed (K x n), which
        saves copies on large graphs.

        >>> import numpy as np, scipy.sparse as sp
        >>> g = sp.csr_array(np.array([[0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]))
        >>> s = TopicSystem.build(g, np.array([[1.0, 0], [2.0, 0], [0, 1.0]]),
        ...                       restart=np.array([[1.0, 0], [1.0, 1.0], [0, 1.0]]))
        >>> s.offsets.tolist(), s.person.tolist(), s.prob.tolist()
        ([0, 2, 4], [0, 1, 1, 2], [1.0])
        """
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise GraphkitError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")

        def topic_rows(a: np.ndarray, name: str) -> np.ndarray:
            a = np.asarray(a, dtype=np.float64)
            a = a if topic_major else a.T
            if a.shape != scale_t.shape:
                shape = a.shape if topic_major else a.T.shape
                want = scale_t.shape if topic_major else scale_t.T.shape
                raise GraphkitError(f"{name} must be {want[0]} x {want[1]} like scale; got {shape}")
            return np.ascontiguousarray(a)

        scale_t = np.ascontiguousarray(np.asarray(scale, dtype=np.float64) if topic_major else np.asarray(scale).T,
                                       dtype=np.float64)
        n_topics, n = scale_t.shape
        general = sp.csr_array(general, dtype=np.float64)
        if general.shape != (n, n):
            raise GraphkitError(f"general must be {n} x {n} to match scale; got {general.shape}")
        act_t = topic_rows(restart, "restart")
        if topical is None:
            topical = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        src, dst, col = (np.asarray(a).astype(np.int64, copy=False) for a in topical[:3])
        w = np.asarray(topical[3], dtype=np.float64)
        keep = w > 0
        if not keep.all():
            src, dst, col, w = src[keep], dst[keep], col[keep], w[keep]

        # Each giver's total weight per topic: what its attention is divided by.
        if out is None:
            out_t = np.ascontiguousarray(np.asarray(general @ scale_t.T).T)
            np.add.at(out_t, (col, src), w)
        else:
            out_t = topic_rows(out, "out")

        # Labelled interactions by topic, receiver, giver (usually sorted already: see topic_structure).
        order = interaction_order(col, dst, src, n_topics=n_topics, n=n)
        if order is not None:
            src, dst, col, w = src[order], dst[order], col[order], w[order]
        tt_start = np.searchsorted(col, np.arange(n_topics + 1)).astype(np.int64)
        gt = sp.csr_array(general.T)  # rows = receivers
        gt.sort_indices()
        gi, gx = gt.indptr.astype(np.int64), gt.indices.astype(np.int32, copy=False)

        # Live states: teleport, or attention received (general scaled > 0, or labelled).
        receives = np.asarray(general.sum(axis=0)).ravel() > 0
        rank_t = np.full((n_topics, n), -1, dtype=np.int32)
        sizes = np.zeros(n_topics, dtype=np.int64)
        bounds = np.zeros(n_topics, dtype=np.int64)
        _live_states(act_t, scale_t, receives, tt_start, dst, gi, rank_t, sizes, bounds)
        offsets = np.zeros(n_topics + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        n_states = int(offsets[-1])

        seg_start = np.zeros(n_topics + 1, dtype=np.int64)
        np.cumsum(bounds, out=seg_start[1:])
        indices = np.empty(seg_start[-1], dtype=np.int32)
        prob = np.empty(seg_start[-1], dtype=np.float64)
        lengths = np.zeros(n_states, dtype=np.int64)
        seg_used = np.zeros(n_topics, dtype=np.int64)
        person = np.empty(n_states, dtype=np.int32)
        act = np.empty(n_states, dtype=np.float64)
        biggest_first = np.argsort(-bounds, kind="stable").astype(np.int64)
        with numba.parallel_chunksize(1):  # topics differ a lot in size: hand them out one by one
            _topic_rows(gi, gx, gt.data, scale_t, out_t, act_t, rank_t, offsets, biggest_first, tt_start, dst, src,
                        w, seg_start, lengths, seg_used, indices, prob, person, act)
        del rank_t, gt, gi, gx
        # Close the gaps between topics' segments (moving left, in topic order, is safe).
        at = 0
        for k in range(n_topics):
            used = int(seg_used[k])
            if seg_start[k] != at:
                indices[at:at + used] = indices[seg_start[k]:seg_start[k] + used]
                prob[at:at + used] = prob[seg_start[k]:seg_start[k] + used]
            at += used
        indices, prob = indices[:at], prob[:at]
        indptr = np.zeros(n_states + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])

        totals = np.bincount(np.repeat(np.arange(n_topics), sizes), weights=act, minlength=n_topics)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = act / np.repeat(totals, sizes)
        return cls(
            n_people=n,
            offsets=offsets,
            person=person,
            indptr=indptr,
            indices=indices,
            prob=prob.astype(dt, copy=False),
            restart=np.nan_to_num(v).astype(dt),
            activity=act,
        )

    @property
    def n_topics(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_states(self) -> int:
        return len(self.person)

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def bytes_per_iteration(self) -> int:
        """Bytes one sweep must move at least: the matrix once (row pointers,
        indices, probabilities) and the state vector read and written once,
        plus the teleport vector. The memory-bandwidth bound of an iteration
        is this over the machine's bandwidth."""
        fsize = self.prob.dtype.itemsize
        return self.indptr.nbytes + self.indices.nbytes + self.prob.nbytes + 3 * self.n_states * fsize

    def dense(self, values: np.ndarray) -> np.ndarray:
        """n x K float64 matrix from per-state values (0 for people not live on a topic)."""
        out = np.zeros((self.n_people, self.n_topics))
        topic = np.repeat(np.arange(self.n_topics), np.diff(self.offsets))
        out[self.person, topic] = values
        return out

    def _order(self) -> np.ndarray:
        # Largest topics first, so that dynamic scheduling balances threads.
        return np.argsort(-np.diff(self.indptr[self.offsets]), kind="stable").astype(np.int64)


@dataclass(frozen=True)
class Solution:
    """Scores (n x K float64) and, per topic: iterations run, convergence, last change."""

    scores: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    residuals: np.ndarray


def solve_ppr(system: TopicSystem, *, damping_factor: float, max_iter: int, tol: float) -> Solution:
    """Personalised PageRank of every topic: Gauss-Seidel on ``x = d P^T x + v``, then normalised.

    A topic stops when its sweep changes its scores by less than ``tol`` in
    L1, relative to their sum (for float32, at least :data:`FLOAT32_TOL_FLOOR`).
    Dangling mass returns to ``v``: solving the unnormalised system and
    normalising gives exactly that stationary distribution.

    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.csr_array(np.array([[0, 1.0], [1.0, 0]]))
    >>> s = TopicSystem.build(w, np.ones((2, 1)), restart=np.array([[1.0], [0.0]]))
    >>> np.round(solve_ppr(s, damping_factor=0.5, max_iter=200, tol=1e-12).scores.ravel(), 6).tolist()
    [0.666667, 0.333333]
    """
    d = float(damping_factor)
    if system.prob.dtype == np.float32:
        tol = max(tol, FLOAT32_TOL_FLOOR)
    k = system.n_topics
    x = system.restart.copy()
    iterations = np.zeros(k, dtype=np.int64)
    residuals = np.zeros(k)
    with numba.parallel_chunksize(1):
        _gauss_seidel(system.indptr, system.indices, system.prob, system.offsets, system._order(),
                      system.restart, x, d, float(tol), int(max_iter), iterations, residuals)
    todo = (residuals >= tol) & (np.diff(system.offsets) > 0)
    converged = ~todo
    sizes = np.diff(system.offsets)
    totals = np.bincount(np.repeat(np.arange(k), sizes), weights=x, minlength=k)
    normalised = x / np.repeat(totals, sizes)
    return Solution(system.dense(normalised), iterations, converged, residuals)


def solve_gds(
    system: TopicSystem, *, damping_factor: float, max_iter: int, tol: float, bias: np.ndarray | None = None
) -> Solution:
    """Neo4j GDS PageRank (``gds.pageRank``) semantics, every topic at once.

    Reproduces GDS's Pregel ``PageRankComputation``: each node starts at
    ``(1 - d) * bias`` (``sourceNodes`` with a bias; ``bias`` defaults to the
    system's activity); at superstep 0 every node sends its rank, afterwards
    ``delta = d * sum(received)``, ``rank += delta``, and a node sends
    ``delta`` (divided among its out-weights) only while ``delta > tol``
    (per-node tolerance: smaller deltas are dropped). Dangling mass is lost
    and scores are not normalised. ``max_iter`` counts supersteps, superstep 0
    included (GDS ``maxIterations``, default 20); a topic converges when no
    node sends.

    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.csr_array(np.array([[0, 1.0], [1.0, 0]]))
    >>> s = TopicSystem.build(w, np.ones((2, 1)), restart=np.ones((2, 1)))
    >>> np.round(solve_gds(s, damping_factor=0.85, max_iter=20, tol=1e-7).scores.ravel(), 6).tolist()
    [0.96124, 0.96124]
    """
    d = float(damping_factor)
    k = system.n_topics
    bias = system.activity if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (system.n_states,):
        raise GraphkitError(f"bias must have one value per state ({system.n_states}); got {bias.shape}")
    dt = system.prob.dtype
    rank = ((1.0 - d) * bias).astype(dt)
    msg, nxt = np.zeros_like(rank), np.zeros_like(rank)
    iterations = np.zeros(k, dtype=np.int64)
    converged = np.zeros(k, dtype=np.bool_)
    with numba.parallel_chunksize(1):
        _pregel(system.indptr, system.indices, system.prob, system.offsets, system._order(),
                rank, msg, nxt, d, float(tol), int(max_iter), iterations, converged)
    return Solution(system.dense(rank.astype(np.float64)), iterations, converged, np.zeros(k))


# ---------------------------------------------------------------------------------- resamples
# Bootstrap resamples of topic influence as extra columns of the batched solver: the system's
# structure (live states, rows, givers) is built once; each resample b changes only numbers
# that the kernel derives on the fly from counter-based random draws (no per-resample matrix).
_STREAM_ACTIVITY, _STREAM_GENERAL, _STREAM_TOPICAL = 1, 2, 3
_GOLDEN = 0x9E3779B97F4A7C15


@njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - splitmix64 finaliser
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _base(seed, stream, b):  # pragma: no cover
    # The part of a draw's hash that depends on (seed, stream, resample) only: computed once per
    # resample by the kernels that draw many keys, and finished per key by _uniform_at.
    h = _mix(np.uint64(seed) + np.uint64(_GOLDEN) * np.uint64(stream + 1))
    return _mix(h ^ (np.uint64(b) * np.uint64(0xD1B54A32D192ED03)))


@njit(cache=True, inline="always")
def _uniform_at(base, key, salt):  # pragma: no cover
    h = _mix(base ^ (np.uint64(key) * np.uint64(0xAEF17502108EF2D9) + np.uint64(salt)))
    return (np.float64(h >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _uniform(seed, stream, b, key, salt):  # pragma: no cover
    # A uniform in (0, 1) that depends only on (seed, stream, resample, key, salt): the same draw
    # whatever the thread count, the chunking of resamples or the topics solved together.
    return _uniform_at(_base(seed, stream, b), key, salt)


@njit(cache=True, inline="always")
def _invert_poisson(u, lam, p0):  # pragma: no cover
    # The smallest k whose Poisson(lam) CDF reaches u (p0 = exp(-lam)); capped at 200.
    p = p0
    f = p
    k = 0
    while u > f and k < 200:
        k += 1
        p *= lam / k
        f += p
    return k


@njit(cache=True)
def _poisson_at(base, key, lam):  # pragma: no cover
    # Poisson(lam) by inversion; above 30, the normal approximation (relative error of the
    # variance below 2 %, and a count that large moves a rank by much less than its neighbours do).
    if lam <= 0.0:
        return 0.0
    if lam < 30.0:
        return float(_invert_poisson(_uniform_at(base, key, 0), lam, np.exp(-lam)))
    u1 = _uniform_at(base, key, 1)
    u2 = _uniform_at(base, key, 2)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return max(0.0, np.floor(lam + np.sqrt(lam) * z + 0.5))


@njit(cache=True)
def _poisson(seed, stream, b, key, lam):  # pragma: no cover
    return _poisson_at(_base(seed, stream, b), key, lam)


#: Cumulative Poisson(1) probabilities of 0..9 (the rest: 10, probability below 1e-7).
_POISSON1_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1)) for k in range(10)])
#: The Poisson(1) count of each 16-bit uniform (inversion at the middle of its slot).
_POISSON1_TABLE = np.searchsorted(_POISSON1_CDF, (np.arange(65536) + 0.5) / 65536).astype(np.uint8)


@njit(parallel=True, cache=True)
def _draw_counts(seed, stream, bs, n, table, out):  # pragma: no cover
    # out[e, c] = Poisson(1) count of unit e in resample bs[c] (bs < 0: the data itself, count 1).
    # One hash of (seed, stream, resample // 4, e) gives the draws of four resamples (16 bits each,
    # turned into a count by the table of Poisson(1) inversion: the probabilities of the counts are
    # within 2e-5 of Poisson(1)'s), each still a function of its own resample only, whatever the chunking.
    bases = np.empty(len(bs), dtype=np.uint64)
    for c in range(len(bs)):
        bases[c] = _base(seed, stream, max(bs[c], 0) // 4)
    for e in prange(n):
        h = np.uint64(0)
        group = -1
        for c in range(len(bs)):
            if bs[c] < 0:
                out[e, c] = 1
                continue
            if bs[c] // 4 != group:
                group = bs[c] // 4
                h = _mix(bases[c] ^ (np.uint64(e) * np.uint64(0xAEF17502108EF2D9)))
            out[e, c] = table[(h >> np.uint64(16 * (bs[c] % 4))) & np.uint64(0xFFFF)]


#: Streams of the rows of a graph's tables (:func:`poisson1_counts`): edges, transactions.
STREAM_EDGES, STREAM_TRANSACTIONS = 4, 5


def poisson1_counts(seed: int, stream: int, resample: int, n: int) -> np.ndarray:
    """``Poisson(1)`` counts of ``n`` rows in resample ``resample`` of ``seed`` (uint8), from the counter-based draws.

    Row ``e``'s count depends only on (seed, stream, resample, e): the same
    whatever else is drawn, so that a resampled graph and a closed-form
    resample of a score see the same counts.

    >>> c = poisson1_counts(0, STREAM_EDGES, 3, 100_000)
    >>> c.dtype.name, round(float(c.mean()), 1), bool((c == poisson1_counts(0, STREAM_EDGES, 3, 100_000)).all())
    ('uint8', 1.0, True)
    """
    out = np.empty((int(n), 1), dtype=np.uint8)
    if n:
        _draw_counts(np.uint64(seed), int(stream), np.array([int(resample)], dtype=np.int64), int(n), _POISSON1_TABLE,
                     out)
    return out[:, 0]


@njit(parallel=True, cache=True)
def new_follower_counts(seed, first, n_res, n_cols, col_of, rv_rows, rv_key, n_keys, ar_rows, ar_person, ar_topic,
                        br_rows, br_person, br_topic, br_key, ab_rows, ab_person, ab_topic, bb_rows, bb_person,
                        bb_topic, f_rows, f_pair, n_pairs, slot, sub_indptr, pair_sel, follower, at_slot, at_col,
                        acts_out, new_out, positive):  # pragma: no cover
    # (Closed-form resamples of graphkit.scoring.uncertainty.new_follower_draws.) Resamples first ..
    # first + n_res - 1 (first a multiple of 4), four at a time from one hash per row: the Poisson(1)
    # counts _draw_counts gives the rows (edge rows on STREAM_EDGES, purchase rows on
    # STREAM_TRANSACTIONS). A row is an act in the recent year (ar: contributions, br: purchases, which
    # count unless a review of theirs, rv, keyed by br_key, is left in the resample), an act before now
    # (ab, bb), or a follow (f, of follower pair f_pair). For listed cell i (leader slot at_slot[i] < 0:
    # none; chosen topic at_col[i]): acts_out[c, i] = its recent acts in resample first + c,
    # new_out[c, i] = its alive followers active lately with no act on the topic before now;
    # positive[c]: some leader cell has both. Counts are whole numbers: the same in any order of summing.
    table = _POISSON1_TABLE
    n = len(slot)
    n_lead = len(sub_indptr) - 1
    w = max(n_cols, 1)
    for gi in prange((n_res + 3) // 4):
        width = min(4, n_res - 4 * gi)
        eb = _base(seed, STREAM_EDGES, first // 4 + gi)
        tb = _base(seed, STREAM_TRANSACTIONS, first // 4 + gi)
        # bit r of a mask: resample first + 4 gi + r
        reviewed = np.zeros(n_keys, dtype=np.uint8)
        for q in range(len(rv_rows)):
            h = _mix(eb ^ (np.uint64(rv_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            for r in range(width):
                if table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)] > 0:
                    reviewed[rv_key[q]] |= np.uint8(1 << r)
        active = np.zeros(n, dtype=np.uint8)
        acts = np.zeros((n_lead, w, 4), dtype=np.int32)
        for q in range(len(ar_rows)):
            h = _mix(eb ^ (np.uint64(ar_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            p = ar_person[q]
            j = col_of[ar_topic[q]]
            s = slot[p]
            for r in range(width):
                k = table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)]
                if k > 0:
                    active[p] |= np.uint8(1 << r)
                    if j >= 0 and s >= 0:
                        acts[s, j, r] += k
        for q in range(len(br_rows)):
            h = _mix(tb ^ (np.uint64(br_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            p = br_person[q]
            j = col_of[br_topic[q]]
            s = slot[p]
            gone = reviewed[br_key[q]] if br_key[q] >= 0 else np.uint8(0)
            for r in range(width):
                k = table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)]
                if k > 0 and not (gone >> r) & 1:
                    active[p] |= np.uint8(1 << r)
                    if j >= 0 and s >= 0:
                        acts[s, j, r] += k
        adopted = np.zeros((n, w), dtype=np.uint8)
        for q in range(len(ab_rows)):
            h = _mix(eb ^ (np.uint64(ab_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            j = col_of[ab_topic[q]]
            for r in range(width):
                if table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)] > 0:
                    adopted[ab_person[q], j] |= np.uint8(1 << r)
        for q in range(len(bb_rows)):
            h = _mix(tb ^ (np.uint64(bb_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            j = col_of[bb_topic[q]]
            for r in range(width):
                if table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)] > 0:
                    adopted[bb_person[q], j] |= np.uint8(1 << r)
        alive = np.zeros(n_pairs, dtype=np.uint8)
        for q in range(len(f_rows)):
            h = _mix(eb ^ (np.uint64(f_rows[q]) * np.uint64(0xAEF17502108EF2D9)))
            for r in range(width):
                if table[(h >> np.uint64(16 * r)) & np.uint64(0xFFFF)] > 0:
                    alive[f_pair[q]] |= np.uint8(1 << r)
        new = np.zeros((n_lead, w, 4), dtype=np.int32)
        tot = np.zeros(4, dtype=np.int32)
        pos = np.zeros(4, dtype=np.bool_)
        for s in range(n_lead):
            tot[:] = 0
            for p in range(sub_indptr[s], sub_indptr[s + 1]):
                fw = follower[pair_sel[p]]
                m = alive[pair_sel[p]] & active[fw]
                if m == 0:
                    continue
                for r in range(width):
                    tot[r] += (m >> r) & 1
                for j in range(n_cols):
                    a = adopted[fw, j] & m
                    if a:
                        for r in range(width):
                            new[s, j, r] -= (a >> r) & 1
            for j in range(n_cols):
                for r in range(width):
                    new[s, j, r] += tot[r]
                    if new[s, j, r] > 0 and acts[s, j, r] > 0:
                        pos[r] = True
        for r in range(width):
            c = 4 * gi + r
            positive[c] = pos[r]
            for i in range(len(at_slot)):
                s = at_slot[i]
                if s >= 0:
                    acts_out[c, i] = acts[s, at_col[i], r]
                    new_out[c, i] = new[s, at_col[i], r]
                else:
                    acts_out[c, i] = 0.0
                    new_out[c, i] = 0.0


@njit(parallel=True, cache=True)
def _draw_activity(seed, bs, cell_topic, cell_person, cell_count, n_people, state_cell, table, act, active):  # pragma: no cover
    # Every (person, topic) cell of activity is redrawn Poisson(count): the sum of one Poisson(1)
    # draw per contribution (so drawn, by table, for whole counts up to 16; by inversion above). act[s, c] is the draw of state s's cell; active[p, c] says whether
    # person p has any contribution left in resample c (all topics, not only the solved ones).
    n_cells = len(cell_count)
    drawn = np.empty((n_cells, len(bs)), dtype=np.float32)
    bases = np.empty(len(bs), dtype=np.uint64)
    for c in range(len(bs)):
        bases[c] = _base(seed, _STREAM_ACTIVITY, max(bs[c], 0))
    for q in prange(n_cells):
        key = cell_topic[q] * n_people + cell_person[q]
        lam = cell_count[q]
        p0 = np.exp(-lam)
        h = np.uint64(0)
        for c in range(len(bs)):
            if bs[c] < 0:
                drawn[q, c] = lam
            elif lam <= 16.0 and lam == np.floor(lam):  # a sum of lam Poisson(1) counts, four per hash
                t = 0
                for j in range(int(lam)):
                    if j % 4 == 0:
                        h = _mix(bases[c] ^ (np.uint64(key) * np.uint64(0xAEF17502108EF2D9) + np.uint64(8 + j // 4)))
                    t += table[(h >> np.uint64(16 * (j % 4))) & np.uint64(0xFFFF)]
                drawn[q, c] = t
            elif lam < 30.0:  # inversion, as _poisson_at, with exp(-lam) once per cell
                drawn[q, c] = _invert_poisson(_uniform_at(bases[c], key, 0), lam, p0)
            else:
                drawn[q, c] = _poisson_at(bases[c], key, lam)
    for c in prange(len(bs)):
        for q in range(n_cells):
            if drawn[q, c] > 0:
                active[cell_person[q], c] = True
    for s in prange(len(state_cell)):
        q = state_cell[s]
        for c in range(len(bs)):
            act[s, c] = 0.0 if q < 0 else drawn[q, c]


@njit(parallel=True, cache=True)
def _resample_rows(gt_indptr, gt_indices, gt_data, scale_t, rank_t, offsets, order, tt_start, tt_dst, tt_src,
                   tt_w, seg_start, lengths, seg_used, indices, edge, weight, person):  # pragma: no cover
    # As _topic_rows, but an entry keeps its raw weight and where it came from: edge[p] >= 0 is
    # the entry of the untopical matrix (one follow or untopical pair), edge[p] < 0 the labelled
    # interaction -edge[p] - 1. The receiver's scale and the giver's total are applied per resample.
    n_topics, n = scale_t.shape
    for b in prange(n_topics):
        k = order[b]
        base = offsets[k]
        q = tt_start[k]
        c = seg_start[k]
        for j in range(n):
            r = rank_t[k, j]
            if r < 0:
                continue
            person[base + r] = j
            row = c
            if scale_t[k, j] > 0:
                for p in range(gt_indptr[j], gt_indptr[j + 1]):
                    ri = rank_t[k, gt_indices[p]]
                    if ri >= 0:
                        indices[c] = base + ri
                        edge[c] = p
                        weight[c] = gt_data[p]
                        c += 1
            while q < tt_start[k + 1] and tt_dst[q] < j:
                q += 1
            while q < tt_start[k + 1] and tt_dst[q] == j:
                ri = rank_t[k, tt_src[q]]
                if ri >= 0:
                    indices[c] = base + ri
                    edge[c] = -q - 1
                    weight[c] = tt_w[q]
                    c += 1
                q += 1
            lengths[base + r] = c - row
        seg_used[k] = c - seg_start[k]


@njit(parallel=True, cache=True)
def _resampled_ppr(indptr, indices, edge, weight, offsets, order, person, cred, share, act, active, cnt_g, cnt_t,
                   x0, x, d, tol, max_iter, iterations, totals, sweeps, normalise):  # pragma: no cover
    # One topic per thread; its resamples are the columns of x (states x resamples), swept together
    # so that every matrix entry is read once per sweep for all of them. Per resample c:
    # teleport v = act / sum(act); an untopical entry (a follow) weighs its raw weight x its draw x
    # the receiver's resampled activity x credibility, a labelled one its weight x its draw; a giver
    # passes the share of its attention it passes in the data, divided among its resampled
    # out-weights; a giver with no contribution left in the resample passes nothing (inactive).
    # Sweeps start from x0 (the data's unnormalised solution: a resample's is close to it); the
    # per-resample weights and the walk's state are float32 (half the memory traffic), sums float64.
    # totals[k, c] gets the sum of the topic's unnormalised scores, 0 when nobody is left active; x gets
    # the scores divided by it when normalise (NaN when nobody is left active), else unnormalised.
    n_res = x.shape[1]
    for bb in prange(len(order)):
        k = order[bb]
        lo, hi = offsets[k], offsets[k + 1]
        m = hi - lo
        if m == 0:
            continue
        tot = np.zeros(n_res)
        for j in range(lo, hi):
            for c in range(n_res):
                tot[c] += act[j, c]
        v = np.zeros((m, n_res), dtype=np.float32)
        for j in range(lo, hi):
            for c in range(n_res):
                if tot[c] > 0:
                    v[j - lo, c] = act[j, c] / tot[c]
        p0 = indptr[lo]
        wc = np.empty((indptr[hi] - p0, n_res), dtype=np.float32)
        passed = np.zeros((m, n_res))
        for j in range(lo, hi):
            for p in range(indptr[j], indptr[j + 1]):
                i = indices[p] - lo
                e = edge[p]
                w = weight[p]
                if e >= 0:
                    for c in range(n_res):
                        wc[p - p0, c] = w * cnt_g[e, c] * act[j, c] * cred[j]
                else:
                    for c in range(n_res):
                        wc[p - p0, c] = w * cnt_t[-e - 1, c]
                for c in range(n_res):
                    passed[i, c] += wc[p - p0, c]
        inv = np.zeros((m, n_res), dtype=np.float32)
        for i in range(m):
            pi = person[lo + i]
            for c in range(n_res):
                if passed[i, c] > 0 and active[pi, c]:
                    inv[i, c] = share[lo + i] / passed[i, c]
        y = np.zeros((m, n_res), dtype=np.float32)
        xw = np.zeros((m, n_res))  # the walk's state; a resample's column is copied out when it converges
        for i in range(m):
            for c in range(n_res):
                xw[i, c] = x0[lo + i] if tot[c] > 0 else 0.0
                y[i, c] = xw[i, c] * inv[i, c]
        # Slot a of the arrays below holds resample col[a]. A resample that converges is written out
        # at once; its slot keeps sweeping (harmless) until half the slots are done, when the ones
        # left are packed into narrower arrays (one pass over the entries), so that later sweeps move
        # and multiply only what is left. A column's arithmetic is the same in whichever slot it is:
        # the results do not depend on which other resamples converge when.
        col = np.arange(n_res)
        live = np.ones(n_res, dtype=np.bool_)
        width = n_res
        left = n_res
        acc = np.zeros(n_res, dtype=np.float32)
        r = np.zeros(n_res)
        total = np.zeros(n_res)
        for it in range(1, max_iter + 1):
            r[:width] = 0.0
            total[:width] = 0.0
            for j in range(lo, hi):
                acc[:width] = 0.0
                for p in range(indptr[j] - p0, indptr[j + 1] - p0):
                    yi = y[indices[p + p0] - lo]
                    wp = wc[p]
                    for a in range(width):
                        acc[a] += wp[a] * yi[a]
                jl = j - lo
                for a in range(width):
                    val = d * acc[a] + v[jl, a]
                    r[a] += abs(val - xw[jl, a])
                    total[a] += val
                    xw[jl, a] = val
                    y[jl, a] = val * inv[jl, a]
            iterations[k] = it
            for a in range(width):
                c = col[a]
                if live[a] and (tot[c] <= 0 or r[a] < tol * total[a] or it == max_iter):
                    # each resample stops on its own test: its result does not depend on the others
                    live[a] = False
                    left -= 1
                    sweeps[k, c] = it
                    totals[k, c] = total[a] if tot[c] > 0 else 0.0
                    t = totals[k, c]
                    for i in range(m):
                        if not normalise:
                            x[lo + i, c] = xw[i, a]
                        elif t > 0:
                            x[lo + i, c] = xw[i, a] / t
                        else:
                            x[lo + i, c] = np.nan
            if left == 0:
                break
            if left <= width // 2:
                keep = np.flatnonzero(live[:width])
                v2 = np.empty((m, left), dtype=np.float32)
                inv2 = np.empty((m, left), dtype=np.float32)
                y2 = np.empty((m, left), dtype=np.float32)
                xw2 = np.empty((m, left))
                for i in range(m):
                    for a in range(left):
                        v2[i, a] = v[i, keep[a]]
                        inv2[i, a] = inv[i, keep[a]]
                        y2[i, a] = y[i, keep[a]]
                        xw2[i, a] = xw[i, keep[a]]
                wc2 = np.empty((wc.shape[0], left), dtype=np.float32)
                for q in range(wc.shape[0]):
                    for a in range(left):
                        wc2[q, a] = wc[q, keep[a]]
                v, inv, y, xw, wc = v2, inv2, y2, xw2, wc2
                col = col[keep]
                live = np.ones(left, dtype=np.bool_)
                width = left


@njit(parallel=True, cache=True)
def rank_columns(st, seed, topic, tie_rel, ranks_t, n_pos):  # pragma: no cover
    # (Summaries of graphkit.scoring.uncertainty.) Per resample c (a row of st, resamples x people,
    # so that a resample's scores are contiguous; NaN counts as 0): positive scores ranked from 1 into
    # ranks_t[c], ties (within tie_rel) shuffled with a counter-based draw of (seed, topic, resample,
    # position); zeros at the rank after the last positive one. The order: a stable radix sort on the
    # float32 image of the score (three 11-bit passes over keys that carry the position), then runs
    # equal in float32 ordered by the float64 score -- the exact descending order, equal scores by
    # position, in linear time.
    b, m = st.shape
    for c in prange(b):
        s_c = st[c]
        f32 = np.empty(m, dtype=np.float32)
        for i in range(m):
            f32[i] = s_c[i]
        u32 = f32.view(np.uint32)
        keys = np.empty(m, dtype=np.uint64)
        k = 0
        for i in range(m):
            if s_c[i] > 0:
                keys[k] = ((np.uint64(0xFFFFFFFF) - np.uint64(u32[i])) << np.uint64(32)) | np.uint64(i)
                k += 1
        n_pos[c] = k
        src = keys
        dst = np.empty(k, dtype=np.uint64)
        for shift in (32, 43, 54):
            cnt = np.zeros(2049, dtype=np.int64)
            for q in range(k):
                cnt[((src[q] >> np.uint64(shift)) & np.uint64(2047)) + 1] += 1
            for r in range(2048):
                cnt[r + 1] += cnt[r]
            for q in range(k):
                d = (src[q] >> np.uint64(shift)) & np.uint64(2047)
                dst[cnt[d]] = src[q]
                cnt[d] += 1
            src, dst = dst, src
        order = np.empty(k, dtype=np.int64)
        for q in range(k):
            order[q] = np.int64(src[q] & np.uint64(0xFFFFFFFF))
        q = 0
        while q < k:
            e = q + 1
            hi = src[q] >> np.uint64(32)
            while e < k and (src[e] >> np.uint64(32)) == hi:
                e += 1
            if e - q > 1:
                run = order[q:e].copy()
                vals = np.empty(e - q)
                for a in range(e - q):
                    vals[a] = -s_c[run[a]]
                o = np.argsort(vals, kind="mergesort")
                for a in range(e - q):
                    order[q + a] = run[o[a]]
            q = e
        start = 0
        while start < k:
            end = start + 1
            while end < k and s_c[order[end - 1]] - s_c[order[end]] <= tie_rel * s_c[order[end - 1]]:
                end += 1
            for q in range(end - 1, start, -1):  # Fisher-Yates on the tie group
                u = _uniform(np.uint64(seed), np.int64(topic), np.int64(c), np.int64(q), 7)
                r = start + int(u * (q - start + 1))
                tmp = order[q]
                order[q] = order[r]
                order[r] = tmp
            start = end
        ranks_t[c, :] = k + 1
        for q in range(k):
            ranks_t[c, order[q]] = q + 1


@njit(cache=True, inline="always")
def _select(a, n, kth):  # pragma: no cover
    # Hoare's selection in place: a[kth] becomes the kth smallest of a[:n] (those before it are <=).
    lo, hi = 0, n - 1
    while hi > lo:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            break
    return a[kth]


@njit(cache=True)
def _ends(a, n, i_lo, i_hi, low, high):  # pragma: no cover
    # The i_lo-th and i_hi-th smallest of a[:n] (0-based, i_lo <= i_hi): the i_lo + 1 smallest and the
    # n - i_hi largest are kept in two small sorted buffers in one pass (an interval's ends are near
    # the extremes: 5 and 5 of 100 at 90 %), else by selection. a may be reordered.
    nl, nh = i_lo + 1, n - i_hi
    if nl > len(low) or nh > len(high):
        hi_v = _select(a, n, i_hi)
        return _select(a, i_hi + 1, i_lo), hi_v
    cl = 0
    ch = 0
    for q in range(n):
        x = a[q]
        if cl < nl or x < low[nl - 1]:  # insert into the ascending buffer of the smallest
            pos = cl if cl < nl else nl - 1
            while pos > 0 and low[pos - 1] > x:
                low[pos] = low[pos - 1]
                pos -= 1
            low[pos] = x
            if cl < nl:
                cl += 1
        if ch < nh or x > high[nh - 1]:  # and into the descending buffer of the largest
            pos = ch if ch < nh else nh - 1
            while pos > 0 and high[pos - 1] < x:
                high[pos] = high[pos - 1]
                pos -= 1
            high[pos] = x
            if ch < nh:
                ch += 1
    return low[nl - 1], high[nh - 1]


@njit(parallel=True, cache=True)
def row_summary(s, ranks, lo_q, hi_q, ks, out_s, out_r, counts):  # pragma: no cover
    # Per person (a row of s and of ranks, people x resamples; NaN counts as 0): order statistics of
    # score and rank (numpy's "lower" / "higher" quantiles) and how many resamples put them in each
    # top k (a score of 0 is never in a top). Rows are done in blocks, each with its own buffers.
    m, b = s.shape
    i_lo = int(np.floor(lo_q * (b - 1)))
    i_hi = int(np.ceil(hi_q * (b - 1) - 1e-12))
    block = 512
    for blk in prange((m + block - 1) // block):
        row = np.empty(b)
        rr = np.empty(b, dtype=np.int32)
        low_s = np.empty(16)
        high_s = np.empty(16)
        low_r = np.empty(16, dtype=np.int32)
        high_r = np.empty(16, dtype=np.int32)
        for i in range(blk * block, min(m, (blk + 1) * block)):
            for c in range(b):
                row[c] = 0.0 if np.isnan(s[i, c]) else s[i, c]
                rr[c] = ranks[i, c]
            for j in range(len(ks)):
                n = 0
                for c in range(b):
                    if row[c] > 0 and rr[c] <= ks[j]:
                        n += 1
                counts[i, j] = n
            out_s[i, 0], out_s[i, 1] = _ends(row, b, i_lo, i_hi, low_s, high_s)
            out_r[i, 0], out_r[i, 1] = _ends(rr, b, i_lo, i_hi, low_r, high_r)


@dataclass(frozen=True, eq=False)
class ResampleSystem:
    """Every topic's walk over its live states, with each entry's raw weight and origin, for resampling.

    The same live states and rows as :class:`TopicSystem`, but an entry keeps
    its raw weight and where it came from (``edge``: an entry of the
    untopical matrix, or ``-q - 1`` for labelled interaction ``q``), so that
    :func:`solve_ppr_resamples` can redraw the evidence per resample without
    building a matrix per resample. Per state: ``person``, the cell of the
    activity table it reads (``cell``), its credibility factor (``cred``:
    follow scale over activity) and the share of its attention that passes
    influence in the data (``share``).
    """

    n_people: int
    offsets: np.ndarray
    person: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    edge: np.ndarray
    weight: np.ndarray
    cred: np.ndarray
    share: np.ndarray
    cell: np.ndarray
    cell_topic: np.ndarray
    cell_person: np.ndarray
    cell_count: np.ndarray
    n_general: int
    n_topical: int

    @classmethod
    def build(
        cls,
        general: sp.sparray,
        scale_t: np.ndarray,
        topical: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        *,
        activity_t: np.ndarray,
        out_t: np.ndarray,
        topic_idx: np.ndarray,
        all_activity_t: np.ndarray,
    ) -> ResampleSystem:
        """From the parts of :meth:`TopicSystem.build` given topic-major (K x n):
        ``scale_t``, ``activity_t`` (raw counts of contributions) and ``out_t``;
        ``topical`` labelled interactions ``(src, dst, column, weight)`` sorted
        by column, receiver, giver; ``topic_idx`` the graph topic of each
        column and ``all_activity_t`` (T x n) every topic's activity, which
        says who is active at all.

        >>> import numpy as np, scipy.sparse as sp
        >>> g = sp.csr_array(np.array([[0, 1.0], [0, 0]]))
        >>> a = np.array([[1.0, 2.0]])
        >>> s = ResampleSystem.build(g, a, (np.zeros(0, int),) * 3 + (np.zeros(0),), activity_t=a, out_t=np.array([[2.0, 0.0]]),
        ...                          topic_idx=np.array([0]), all_activity_t=a)
        >>> s.person.tolist(), s.edge.tolist(), s.share.tolist()
        ([0, 1], [0], [1.0, 0.0])
        """
        scale_t = np.ascontiguousarray(scale_t, dtype=np.float64)
        act_t = np.ascontiguousarray(activity_t, dtype=np.float64)
        out_t = np.ascontiguousarray(out_t, dtype=np.float64)
        n_topics, n = scale_t.shape
        general = sp.csr_array(general, dtype=np.float64)
        src, dst, col = (np.asarray(a).astype(np.int64, copy=False) for a in topical[:3])
        w = np.asarray(topical[3], dtype=np.float64)
        keep = w > 0
        if not keep.all():
            src, dst, col, w = src[keep], dst[keep], col[keep], w[keep]
        order = interaction_order(col, dst, src, n_topics=n_topics, n=n)
        if order is not None:
            src, dst, col, w = src[order], dst[order], col[order], w[order]
        tt_start = np.searchsorted(col, np.arange(n_topics + 1)).astype(np.int64)
        gt = sp.csr_array(general.T)
        gt.sort_indices()
        gi, gx = gt.indptr.astype(np.int64), gt.indices.astype(np.int32, copy=False)
        receives = np.asarray(general.sum(axis=0)).ravel() > 0
        rank_t = np.full((n_topics, n), -1, dtype=np.int32)
        sizes = np.zeros(n_topics, dtype=np.int64)
        bounds = np.zeros(n_topics, dtype=np.int64)
        _live_states(act_t, scale_t, receives, tt_start, dst, gi, rank_t, sizes, bounds)
        offsets = np.zeros(n_topics + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        n_states = int(offsets[-1])
        seg_start = np.zeros(n_topics + 1, dtype=np.int64)
        np.cumsum(bounds, out=seg_start[1:])
        indices = np.empty(seg_start[-1], dtype=np.int32)
        edge = np.empty(seg_start[-1], dtype=np.int64)
        weight = np.empty(seg_start[-1], dtype=np.float64)
        lengths = np.zeros(n_states, dtype=np.int64)
        seg_used = np.zeros(n_topics, dtype=np.int64)
        person = np.empty(n_states, dtype=np.int32)
        biggest_first = np.argsort(-bounds, kind="stable").astype(np.int64)
        with numba.parallel_chunksize(1):
            _resample_rows(gi, gx, gt.data, scale_t, rank_t, offsets, biggest_first, tt_start, dst, src, w,
                           seg_start, lengths, seg_used, indices, edge, weight, person)
        at = 0
        for k in range(n_topics):
            used = int(seg_used[k])
            if seg_start[k] != at:
                for a in (indices, edge, weight):
                    a[at:at + used] = a[seg_start[k]:seg_start[k] + used]
            at += used
        indices, edge, weight = indices[:at], edge[:at], weight[:at]
        indptr = np.zeros(n_states + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])

        topic_of_state = np.repeat(np.arange(n_topics), sizes)
        act = act_t[topic_of_state, person]
        scale = scale_t[topic_of_state, person]
        with np.errstate(divide="ignore", invalid="ignore"):
            cred = np.where(act > 0, scale / act, 0.0)
        # what each giver passes in the data, over all the attention it gives: held in every resample
        receiver = np.repeat(np.arange(n_states), lengths)
        gen = edge >= 0
        passed = np.bincount(indices, weights=weight * np.where(gen, scale[receiver], 1.0), minlength=n_states)
        out = out_t[topic_of_state, person]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(out > 0, np.minimum(passed / out, 1.0), 0.0)
        all_act = np.asarray(all_activity_t, dtype=np.float64)
        cell_topic, cell_person = np.nonzero(all_act)
        cell_count = all_act[cell_topic, cell_person]
        cell_key = cell_topic.astype(np.int64) * n + cell_person
        state_key = np.asarray(topic_idx, dtype=np.int64)[topic_of_state] * n + person
        pos = np.searchsorted(cell_key, state_key)  # np.nonzero gives the cells in key order
        pos = np.minimum(pos, max(len(cell_key) - 1, 0))
        hit = (len(cell_key) > 0) & (cell_key[pos] == state_key) if len(cell_key) else np.zeros(n_states, bool)
        cell = np.where(hit, pos, -1).astype(np.int64)
        return cls(n_people=n, offsets=offsets, person=person, indptr=indptr, indices=indices, edge=edge,
                   weight=weight, cred=cred, share=share, cell=cell, cell_topic=cell_topic.astype(np.int64),
                   cell_person=cell_person.astype(np.int64), cell_count=cell_count, n_general=general.nnz,
                   n_topical=len(w))

    @property
    def n_topics(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_states(self) -> int:
        return len(self.person)


def solve_ppr_resamples(
    system: ResampleSystem,
    resamples: np.ndarray,
    *,
    seed: int,
    damping_factor: float,
    max_iter: int,
    tol: float,
    chunk: int = 25,
) -> ResampleSolution:
    """Personalised PageRank of every topic on every resample of the evidence.

    Resample ``b`` redraws, from ``(seed, b)`` alone, every contribution and
    every untopical attention entry (a follow) and labelled interaction
    Poisson(1) times: a (person, topic) cell of activity becomes a
    Poisson(count) draw, an entry's weight is multiplied by its draw. A
    negative ``b`` is the data itself (every count 1), which gives the scores
    of :func:`solve_ppr`. The data is solved first; resamples then start
    from its solution and are solved ``chunk`` at a time as extra columns of
    one Gauss-Seidel sweep (memory: about ``3 x entries x chunk`` floats). A
    topic on which a resample leaves nobody active gets NaN scores.

    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array(np.array([[0, 1.0], [0, 0]]))
    >>> a = np.array([[1.0, 1.0]])
    >>> s = ResampleSystem.build(g, a, (np.zeros(0, int),) * 3 + (np.zeros(0),), activity_t=a, out_t=np.array([[1.0, 0.0]]),
    ...                          topic_idx=np.array([0]), all_activity_t=a)
    >>> np.round(solve_ppr_resamples(s, np.array([-1]), seed=0, damping_factor=0.85, max_iter=100, tol=1e-12).scores, 4).ravel().tolist()
    [0.3509, 0.6491]
    """
    resamples = np.asarray(resamples, dtype=np.int64)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise GraphkitError(f"chunk must be a positive integer; got {chunk!r}")
    n_states, n_res, k = system.n_states, len(resamples), system.n_topics
    order = np.argsort(-np.diff(system.indptr[system.offsets]), kind="stable").astype(np.int64)
    topic = np.repeat(np.arange(k), np.diff(system.offsets))

    def solve(bs: np.ndarray, x0: np.ndarray, x: np.ndarray, normalise: bool) -> tuple[np.ndarray, np.ndarray]:
        m = len(bs)
        cnt_g = np.empty((system.n_general, m), dtype=np.uint8)
        cnt_t = np.empty((system.n_topical, m), dtype=np.uint8)
        _draw_counts(np.uint64(seed), _STREAM_GENERAL, bs, system.n_general, _POISSON1_TABLE, cnt_g)
        _draw_counts(np.uint64(seed), _STREAM_TOPICAL, bs, system.n_topical, _POISSON1_TABLE, cnt_t)
        act = np.empty((n_states, m), dtype=np.float32)
        active = np.zeros((system.n_people, m), dtype=np.bool_)
        _draw_activity(np.uint64(seed), bs, system.cell_topic, system.cell_person, system.cell_count,
                       system.n_people, system.cell, _POISSON1_TABLE, act, active)
        iterations = np.zeros(k, dtype=np.int64)
        totals = np.zeros((k, m))
        sweeps = np.zeros((k, m), dtype=np.int64)
        with numba.parallel_chunksize(1):
            _resampled_ppr(system.indptr, system.indices, system.edge, system.weight, system.offsets, order,
                           system.person, system.cred, system.share, act, active, cnt_g, cnt_t, x0, x,
                           float(damping_factor), float(tol), int(max_iter), iterations, totals, sweeps,
                           bool(normalise))
        return totals, sweeps

    x0 = np.empty((n_states, 1))
    data_totals, _ = solve(np.array([-1]), np.zeros(n_states), x0, False)  # the data: where resamples start
    x0 = x0[:, 0].copy()
    scores = np.empty((n_states, n_res))  # each chunk's kernel writes its columns, normalised
    valid = np.zeros((k, n_res), dtype=bool)
    sweeps = np.zeros((k, n_res), dtype=np.int64)
    for lo in range(0, n_res, chunk):
        bs = resamples[lo:lo + chunk]
        if (bs < 0).all() and len(bs) == 1:  # the data alone: its solution as solved above
            totals = data_totals
            with np.errstate(divide="ignore", invalid="ignore"):
                scores[:, lo] = np.where(totals[topic, 0] > 0, x0 / totals[topic, 0], np.nan)
        else:
            totals, sweeps[:, lo:lo + len(bs)] = solve(bs, x0, scores[:, lo:lo + len(bs)], True)
        valid[:, lo:lo + len(bs)] = totals > 0
    return ResampleSolution(scores=scores, valid=valid, iterations=sweeps.max(axis=1, initial=0), sweeps=sweeps)


@dataclass(frozen=True)
class ResampleSolution:
    """Scores (states x resamples; NaN where a resample left nobody active on the topic), which
    (topic, resample) pairs have scores, the most sweeps any resample of a topic took, and the sweeps
    each (topic, resample) took to converge."""

    scores: np.ndarray
    valid: np.ndarray
    iterations: np.ndarray
    sweeps: np.ndarray
