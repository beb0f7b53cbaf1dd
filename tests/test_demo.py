"""`graphkit demo`: the main job on the bundled data, run the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.image import imread

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "graphkit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = run_cli("demo", "--out", str(out), "--topics", "Books", "DVDs", "--top", "5", cwd=out.parent)
    return proc, out


def test_demo_exits_zero_and_prints_answers(demo_run):
    proc, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "Influential loyal customers on 'Books'" in proc.stdout
    assert "Influential loyal customers on 'DVDs'" in proc.stdout
    assert "Topic influence on 28 topics" in proc.stderr  # progress goes to stderr


def test_demo_writes_consistent_tables(demo_run, ciao):
    _, out = demo_run
    influence = pl.read_parquet(out / "influence.parquet")
    assert influence.height == ciao.people.height * len(ciao.topics)
    sums = influence.group_by("topic").agg(pl.col("score").sum())["score"].to_numpy()
    assert np.allclose(sums, 1.0, atol=1e-6)

    answers = pl.read_parquet(out / "influential_loyal_customers.parquet")
    ranking = pl.read_parquet(out / "expected_reach.parquet")  # the default ranking (graphkit.scoring.registry)
    assert set(answers["topic"]) == {"Books", "DVDs"}
    assert answers.group_by("topic").len()["len"].max() <= 5
    assert (answers["percentile"] > 90.0).all() and (answers["loyalty_score"] >= 0.5).all()
    # every answer is a real customer whose row matches the written ranking table
    joined = answers.join(ranking, on=["person_id", "topic"], suffix="_rank")
    assert joined.height == answers.height
    assert (joined["score"] == joined["score_rank"]).all()
    assert set(ranking.columns) == set(influence.columns)
    loyal = pl.read_parquet(out / "loyalty.parquet")
    assert loyal.height == ciao.transactions["customer_id"].n_unique()


@pytest.mark.parametrize("name", ["top_influencers.png", "value_influence.png"])
def test_demo_figures_are_not_blank(demo_run, name):
    _, out = demo_run
    img = imread(out / name)
    assert img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05  # drawn content, not an empty canvas


def test_demo_unknown_topic_is_one_line_error(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path / "o"), "--topics", "Frogs", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: unknown topic 'Frogs'; topics are:")
    assert not (tmp_path / "o").exists()  # nothing half-written
