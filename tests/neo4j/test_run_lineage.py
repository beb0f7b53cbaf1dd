"""Lineage of the Neo4j score runs: `graphkit runs neo4j` lists the SHA-256 of each input table."""

from __future__ import annotations

import json
import subprocess
import sys

from graphkit import write_dataset
from graphkit.io.lineage import input_fingerprints
from graphkit.version import __version__


def _graphkit(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphkit", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_neo4j_run_records_its_inputs_and_runs_lists_it(sample_store, sample, bolt_env, tmp_path):
    folder = write_dataset(sample, tmp_path / "sample")
    done = _graphkit(["score", "--source", str(folder), "--write", "neo4j", "--no-load", "--topics", "DVDs",
                      "--run-id", "lineage-1", "--json"], bolt_env)
    assert done.returncode == 0, done.stderr
    listed = _graphkit(["runs", "neo4j", "--json"], bolt_env)
    assert listed.returncode == 0, listed.stderr
    runs = {r["run_id"]: r for r in json.loads(listed.stdout)["runs"]}
    run = runs["lineage-1"]
    assert run["current"] and run["graphkit_version"] == __version__
    assert run["parameters"]["inputs"] == input_fingerprints(sample)
    assert run["parameters"]["topics"] == ["DVDs"]
