"""The batched system and its solvers, against dense linear algebra."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from graphkit import GraphkitError
from graphkit.scoring.linalg import TopicSystem, solve_ppr


def _random_parts(n=60, k=4, seed=0):
    rng = np.random.default_rng(seed)
    general = sp.random_array((n, n), density=0.08, rng=seed, data_sampler=lambda size: rng.uniform(0.5, 2, size)).tocsr()
    general.setdiag(0)
    general.eliminate_zeros()
    activity = rng.poisson(1.0, (n, k)) * (rng.random((n, k)) < 0.5)
    activity[0] = 1  # every topic has somebody active
    scale = activity * rng.uniform(0.2, 1.0, (n, k))
    m = 40
    topical = (rng.integers(0, n, m), rng.integers(0, n, m), rng.integers(0, k, m), rng.uniform(0.5, 3, m))
    out = np.asarray(general @ activity, dtype=float)  # attention given, part of it passes nothing
    np.add.at(out, (topical[0], topical[2]), topical[3])
    return general, scale.astype(float), topical, activity.astype(float), out


def _dense_reference(general, scale, topical, activity, out, d):
    """Each topic on its own: dense transition, leak and dangling mass to teleport, exact solve."""
    n, k = scale.shape
    scores = np.zeros((n, k))
    for t in range(k):
        w = general.toarray() * scale[:, t][None, :]
        src, dst, col, wt = topical
        for i, j, c, x in zip(src, dst, col, wt):
            if c == t:
                w[i, j] += x
        p = np.divide(w, out[:, t][:, None], out=np.zeros_like(w), where=out[:, t][:, None] > 0)
        v = activity[:, t] / activity[:, t].sum()
        leak = 1.0 - p.sum(axis=1)  # what passes nothing, and all of a dangling row
        # x = d P^T x + (d * leak . x + 1 - d) v, with sum(x) = 1
        a = np.eye(n) - d * p.T - d * np.outer(v, leak)
        x = np.linalg.solve(a, (1 - d) * v)
        scores[:, t] = x / x.sum()
    return scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solver_matches_dense_solution(seed):
    general, scale, topical, activity, out = _random_parts(seed=seed)
    system = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    sol = solve_ppr(system, damping_factor=0.85, max_iter=500, tol=1e-13)
    ref = _dense_reference(general, scale, topical, activity, out, 0.85)
    assert sol.converged.all()
    assert np.abs(sol.scores - ref).max() < 1e-10
    assert np.allclose(sol.scores.sum(axis=0), 1.0) and sol.scores.min() >= 0


def test_states_are_exactly_the_people_who_can_score():
    general, scale, topical, activity, out = _random_parts(seed=3)
    system = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    ref = _dense_reference(general, scale, topical, activity, out, 0.85)
    live = np.zeros_like(ref, dtype=bool)
    topic = np.repeat(np.arange(system.n_topics), np.diff(system.offsets))
    live[system.person, topic] = True
    assert not (ref[~live] > 0).any()  # nobody left out has a score
    assert system.n_states < ref.size


def test_float32_is_close_to_float64():
    general, scale, topical, activity, out = _random_parts(seed=4)
    s64 = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    s32 = TopicSystem.build(general, scale, topical, restart=activity, out=out, dtype="float32")
    assert s32.prob.dtype == np.float32
    a = solve_ppr(s64, damping_factor=0.85, max_iter=200, tol=1e-12).scores
    b = solve_ppr(s32, damping_factor=0.85, max_iter=200, tol=1e-12).scores
    assert np.abs(a - b).max() < 1e-5


def test_result_does_not_depend_on_thread_count():
    general, scale, topical, activity, out = _random_parts(n=300, k=8, seed=5)
    system = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = solve_ppr(system, damping_factor=0.85, max_iter=100, tol=1e-10).scores
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = solve_ppr(system, damping_factor=0.85, max_iter=100, tol=1e-10).scores
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)


def test_max_iter_reached_reports_not_converged():
    general, scale, topical, activity, out = _random_parts(seed=6)
    system = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    sol = solve_ppr(system, damping_factor=0.85, max_iter=2, tol=1e-12)
    assert not sol.converged.any() and (sol.iterations == 2).all() and (sol.residuals > 1e-12).all()


def test_bytes_per_iteration_counts_matrix_and_state():
    general, scale, topical, activity, out = _random_parts(seed=7)
    s = TopicSystem.build(general, scale, topical, restart=activity, out=out)
    assert s.bytes_per_iteration() == (s.n_states + 1) * 8 + s.nnz * (4 + 8) + 3 * s.n_states * 8


def test_shape_mismatch_is_refused():
    with pytest.raises(GraphkitError, match="restart must be"):
        TopicSystem.build(sp.eye_array(3, format="csr"), np.ones((3, 2)), restart=np.ones((3, 1)))
    with pytest.raises(GraphkitError, match="dtype"):
        TopicSystem.build(sp.eye_array(3, format="csr"), np.ones((3, 1)), restart=np.ones((3, 1)), dtype="float16")
