"""Helpers shared by the tests of score runs and of the single-writer rule."""

from __future__ import annotations

import subprocess
import sys

import polars as pl

#: The topics the run tests score (a small, fast subset of Ciao's).
TOPICS = ["DVDs", "Beauty", "Books"]


def run_rows(store, run_id: str) -> int:
    return store._read("MATCH (s:InfluenceRow) WHERE s.run_id = $r RETURN count(s) AS n", {"r": run_id})[0]["n"]


def sorted_rows(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("topic", "rank", "person_id")


def start_writer(env: dict, table: str, run_id: str, batch_size: int, *, lease: float = 2, wait: float = 120,
                 keep_runs: int = 2) -> subprocess.Popen:
    """A writer process; a short lease so that the next writer takes over soon after a kill."""
    code = (
        "import sys, polars as pl\n"
        "from graphkit.io.neo4j import Neo4jStore, Neo4jSettings\n"
        "s = Neo4jStore(Neo4jSettings.from_env(), batch_size=int(sys.argv[3]), lease=float(sys.argv[4]),\n"
        "               wait=float(sys.argv[5]))\n"
        "s.write_scores(influence=pl.read_parquet(sys.argv[1]), run_id=sys.argv[2], keep_runs=int(sys.argv[6]))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, table, run_id, str(batch_size), str(lease), str(wait),
                             str(keep_runs)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
