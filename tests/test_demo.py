"""`graphkit demo`: the main job on the bundled data, run the way a user runs it."""

from __future__ import annotations

import json
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
    json_proc = run_cli("demo", "--out", str(out.parent / "json"), "--topics", "Books", "--top", "5", "--json",
                        "--quiet", cwd=out.parent)
    return proc, out, json_proc


def test_demo_exits_zero_and_prints_answers(demo_run):
    proc, _, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "Influential loyal customers on 'Books'" in proc.stdout
    assert "Influential loyal customers on 'DVDs'" in proc.stdout
    assert "Ranking by recent activity x active new followers on 28 topics" in proc.stderr  # progress: stderr
    assert "note:" not in proc.stderr  # the default is computed on Ciao: no fallback


def test_demo_writes_consistent_tables(demo_run, ciao):
    _, out, _ = demo_run
    influence = pl.read_parquet(out / "influence.parquet")  # the default ranking (graphkit.scoring.registry)
    assert influence.height == ciao.people.height * len(ciao.topics)
    assert influence.columns == ["person_id", "topic", "score", "rank", "percentile", "audience",
                                 "active_audience", "credibility"]
    assert not (out / "expected_reach.parquet").exists() and not (out / "potential_reach.parquet").exists()

    answers = pl.read_parquet(out / "influential_loyal_customers.parquet")
    assert set(answers["topic"]) == {"Books", "DVDs"}
    assert answers.group_by("topic").len()["len"].max() <= 5
    assert (answers["percentile"] > 90.0).all() and (answers["loyalty_score"] >= 0.5).all()
    # every answer is a real customer whose row matches the written ranking table
    joined = answers.join(influence, on=["person_id", "topic"], suffix="_rank")
    assert joined.height == answers.height
    assert (joined["score"] == joined["score_rank"]).all()
    loyal = pl.read_parquet(out / "loyalty.parquet")
    assert loyal.height == ciao.transactions["customer_id"].n_unique()


def test_demo_table_figure_and_files_rank_the_same_people(demo_run):
    from graphkit.scoring.registry import DEFAULT_SCORE

    _, _, proc = demo_run
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == DEFAULT_SCORE and report["score_fallback"] is None
    out = Path(report["out"])
    written = pl.read_parquet(out / "influence.parquet").filter(pl.col("topic") == "Books").sort("rank")
    shown = report["shown"]["top_influencers.png"]  # the bars of the figure, read back from it
    assert shown == written["person_id"].head(len(shown)).to_list() and len(shown) == 10
    answers = pl.DataFrame(report["answers"]).sort("loyal_rank")
    # the table's people are the written ranking's top customers, with their written scores and ranks
    joined = answers.join(written, on="person_id", suffix="_written")
    assert joined.height == answers.height and (joined["rank"] == joined["rank_written"]).all()
    assert set(answers["person_id"]) & set(shown)  # the figure's top people lead the table too


@pytest.mark.parametrize("name", ["top_influencers.png", "value_influence.png"])
def test_demo_figures_are_not_blank(demo_run, name):
    _, out, _ = demo_run
    img = imread(out / name)
    assert img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05  # drawn content, not an empty canvas


def test_demo_unknown_topic_is_one_line_error(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path / "o"), "--topics", "Frogs", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: unknown topic 'Frogs'; topics are:")
    assert not (tmp_path / "o").exists()  # nothing half-written
