"""One writer at a time on Neo4j: the lock node and its lease, with real parallel processes on the Bolt server.

Two ``graphkit score --write neo4j`` jobs at once, a job that finds the lock
held (exit 4) or waits its turn, a writer paused past its lease (fenced out),
a kill during the deletion of an old run, and readers polling during a write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from runs_support import TOPICS, run_rows, sorted_rows, start_writer

from graphkit import write_dataset
from graphkit.errors import GraphkitError, StoreError, WriterBusyError
from graphkit.io.neo4j import Neo4jStore


@pytest.fixture(scope="module")
def folder(sample, tmp_path_factory):
    return write_dataset(sample, tmp_path_factory.mktemp("neo4j-writers") / "sample")


def _graphkit(args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "graphkit", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _lock(store) -> dict:
    recs = store._read("OPTIONAL MATCH (l:GraphkitLock) WHERE l.name = 'writer' "
                       "RETURN l.owner AS owner, l.holder AS holder, l.lock_seq AS seq")
    return recs[0]


def _orphan_rows(store) -> int:
    """Score rows whose run is not in the database (what a lost run leaves behind)."""
    runs = [r.run_id for r in store.runs()]
    n = 0
    for label in ("InfluenceRow", "LoyaltyRow", "TopicSummary", "CommunitySummary"):
        n += store._read(f"MATCH (s:{label}) WHERE NOT s.run_id IN $runs RETURN count(s) AS n",
                         {"runs": runs})[0]["n"]
    return n


def _holder(env: dict) -> subprocess.Popen:
    """A process that holds the writer lock until a line arrives on its stdin."""
    code = (
        "import sys\n"
        "from graphkit.io.neo4j import Neo4jStore, Neo4jSettings\n"
        "with Neo4jStore(Neo4jSettings.from_env()) as s, s.writing(wait=60):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def test_a_second_job_gives_up_with_exit_4_or_waits_its_turn(sample_store, bolt_env, folder):
    score = ["score", "--source", str(folder), "--write", "neo4j", "--no-load", "--topics", "DVDs", "--quiet"]
    holder = _holder(bolt_env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        busy = _graphkit([*score, "--run-id", "busy-1", "--wait", "0.5"], bolt_env)
        out, err = busy.communicate(timeout=300)
        assert busy.returncode == 4 and out == "", err
        assert err.startswith(f"Error: Neo4j at {sample_store.settings.shown_uri} is being written by another "
                              f"graphkit job (pid {holder.pid} on ")
        assert "its lease ends in" in err and "gave up after waiting 0.5 s" in err and "--wait SECONDS" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "busy-1" not in {r.run_id for r in sample_store.runs()}
        with pytest.raises(WriterBusyError), sample_store.writing(wait=0):
            pass
        # a job that waits: release the holder only once the waiter has tried (lock_seq moves on each try)
        seen = _lock(sample_store)["seq"]
        waiter = _graphkit([*score, "--run-id", "busy-2", "--wait", "300"], bolt_env)
        deadline = time.monotonic() + 240
        while _lock(sample_store)["seq"] < seen + 3 and waiter.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert waiter.poll() is None, waiter.communicate()[1]  # still waiting while the lock is held
    finally:
        holder.communicate("\n", timeout=60)
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert sample_store.current_run_id() == "busy-2" and _lock(sample_store)["owner"] is None


def test_two_score_jobs_at_once_take_turns_and_leave_one_whole_run(sample_store, bolt_env, folder, sample):
    score = ["score", "--source", str(folder), "--write", "neo4j", "--no-load", "--topics", "DVDs", "Beauty",
             "--keep-runs", "1", "--wait", "600", "--batch-size", "300", "--neo4j-rows", "all", "--json", "--quiet"]
    for trial in range(2):
        jobs = [_graphkit([*score, "--run-id", f"par-{trial}-{k}"], bolt_env) for k in range(2)]
        done = [j.communicate(timeout=900) for j in jobs]
        assert [j.returncode for j in jobs] == [0, 0], [e for _, e in done]
        current = sample_store.current_run_id()
        assert current in {f"par-{trial}-0", f"par-{trial}-1"}
        assert [(r.run_id, r.status) for r in sample_store.runs()] == [(current, "complete")]  # keep-runs 1
        assert sample_store.read_scores().height == 2 * sample.people.height == run_rows(sample_store, current)
        assert _orphan_rows(sample_store) == 0
        assert _lock(sample_store)["owner"] is None


def test_a_writer_paused_past_its_lease_is_fenced_out(sample_store, bolt_env, influence_a, influence_b, tmp_path):
    table = tmp_path / "b.parquet"
    influence_b.write_parquet(table)
    paused = start_writer(bolt_env, str(table), "paused", batch_size=20, lease=2)
    deadline = time.monotonic() + 120
    while run_rows(sample_store, "paused") == 0 and paused.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert paused.poll() is None, paused.stderr.read().decode()[-1000:]
    os.kill(paused.pid, signal.SIGSTOP)  # paused: no rows, no heartbeat; its lease runs out
    try:
        with Neo4jStore(sample_store.settings, batch_size=2000, wait=120) as other:
            other.write_scores(influence=influence_a, run_id="after-pause")
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    assert paused.wait(timeout=300) == 1
    err = paused.stderr.read().decode()
    assert "another graphkit job took over the writer lock" in err and "'paused' was not published" in err
    assert sample_store.current_run_id() == "after-pause"
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)
    # the paused writer's rows went with its run (cleaned by the next writer) and it wrote none after
    assert run_rows(sample_store, "paused") == 0 and "paused" not in {r.run_id for r in sample_store.runs()}
    assert _orphan_rows(sample_store) == 0


def test_a_kill_while_old_runs_are_deleted_never_leaves_a_complete_run_with_part_of_its_rows(
        sample_store, bolt_env, influence_a, influence_b, tmp_path):
    for run in ("old-1", "old-2"):
        sample_store.write_scores(influence=influence_a, run_id=run, keep_runs=10)
    total = influence_a.height
    table = tmp_path / "small.parquet"
    influence_b.head(50).write_parquet(table)
    proc = start_writer(bolt_env, str(table), "prunes", batch_size=20, lease=2, keep_runs=1)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        n = run_rows(sample_store, "old-1")
        if 0 < n < total:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            break
        if proc.poll() is not None:
            pytest.fail(f"the writer ended before it could be killed: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("the old run was not being deleted within 5 minutes")
    left = run_rows(sample_store, "old-1")
    assert 0 < left < total
    status = {r.run_id: r.status for r in sample_store.runs()}
    assert status["old-1"] == "deleting"  # un-published before its rows went
    with pytest.raises(StoreError, match=r"no complete score run 'old-1' in Neo4j \(it is deleting\)"):
        sample_store.read_scores(run_id="old-1")
    # the next writer (after the killed one's lease) finishes the deletion
    with Neo4jStore(sample_store.settings, batch_size=2000, wait=120) as other:
        other.write_scores(influence=influence_a, run_id="after-kill", keep_runs=2)
    assert run_rows(sample_store, "old-1") == 0 and "old-1" not in {r.run_id for r in sample_store.runs()}
    assert all(r.status == "complete" for r in sample_store.runs()) and _orphan_rows(sample_store) == 0


def test_readers_polling_during_a_write_see_one_whole_run(sample_store, bolt_env, influence_a, influence_b,
                                                         tmp_path):
    sample_store.write_scores(influence=influence_a, run_id="poll-a")
    table = tmp_path / "b.parquet"
    influence_b.write_parquet(table)
    writer = start_writer(bolt_env, str(table), "poll-b", batch_size=200)
    seen = {"a": 0, "b": 0}
    a, b = sorted_rows(influence_a), sorted_rows(influence_b)
    for _ in range(40):  # bounded: at most 40 snapshots
        done = writer.poll() is not None
        snapshot = sample_store.read_scores()
        if snapshot.equals(a):
            seen["a"] += 1
        else:
            assert_frame_equal(snapshot, b, check_exact=True)  # never a mix
            seen["b"] += 1
        if done:
            break
    assert writer.wait(timeout=300) == 0, writer.stderr.read().decode()[-1000:]
    assert seen["a"] >= 1 and sample_store.current_run_id() == "poll-b"
    assert_frame_equal(sample_store.read_scores(), b, check_exact=True)


def test_a_complete_run_id_is_never_rewritten_in_place(sample_store, influence_a):
    sample_store.write_scores(influence=influence_a, run_id="fixed", parameters={"topics": TOPICS})
    other = influence_a.filter(pl.col("topic") == "DVDs").with_columns(score=pl.col("score") + 1)
    with pytest.raises(GraphkitError, match=r"score run 'fixed' already exists in Neo4j \(the current run\); a run "
                                            r"id names one write: choose another --run-id"):
        sample_store.write_scores(influence=other, run_id="fixed", parameters={"topics": ["DVDs"]})
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)  # every topic, old values
    assert {r.run_id: r.parameters for r in sample_store.runs()}["fixed"] == {"topics": TOPICS}
