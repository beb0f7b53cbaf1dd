"""The public surface: `import graphkit as gk` reaches the main functions, lazily; docs/api.md is generated from it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import graphkit as gk

ROOT = Path(__file__).resolve().parents[1]

#: What the README tour and the notebook call, as gk.<name>.
TOUR = [
    "load_ciao", "read_dataset", "write_table", "generate", "topic_influence", "topic_communities", "score_table",
    "loyalty", "influential_loyal_customers", "value_influence_matrix", "quadrant_counts", "advocate_segments",
    "segment_overlaps", "engagement_kpis", "behaviour_vs_audience", "behaviour_correlations", "audience",
    "inactive_accounts", "behavioural_influence", "experts", "recognition_shares", "explain_influence",
    "backtest", "to_networkx", "to_igraph", "plot", "TopicGraph", "GraphkitError",
]


def _api_docs():
    spec = importlib.util.spec_from_file_location("api_docs", ROOT / "tools" / "api_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", TOUR)
def test_the_tour_is_reachable_from_gk(name):
    assert name in gk.__all__ and name in dir(gk)
    obj = getattr(gk, name)
    home = obj.__name__ if name == "plot" else obj.__module__
    assert home.startswith("graphkit.")
    if name != "plot":
        assert getattr(sys.modules[home], name) is obj  # the function itself, not a copy or a wrapper


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'topic_influense'"):
        gk.topic_influense  # noqa: B018


def test_import_graphkit_is_light():
    """The heavy parts (numba kernels, igraph, the Neo4j driver, matplotlib) load on first use, not on import."""
    code = ("import sys, json, graphkit as gk; gk.TopicGraph; "
            "print(json.dumps(sorted(m for m in ('numba', 'igraph', 'neo4j', 'matplotlib', 'networkx') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_api_page_is_generated_from_the_current_docstrings():
    docs = _api_docs()
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == docs.render(), (
        "docs/api.md is stale: run python tools/api_docs.py and commit docs/api.md")


def test_api_page_covers_every_public_name_and_its_examples():
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    headings = {line.split()[1] for line in page.splitlines() if line.startswith("### gk.")}
    assert {f"gk.{n}" for n in gk.__all__ if n not in ("plot", "__version__")} <= headings
    assert "### gk.plot.value_influence" in page and "#### InfluenceResult" in page
    assert page.count("```pycon") >= 30  # the runnable examples are there
    assert "\n----" not in page  # numpydoc underlines would turn into Markdown headings


def test_api_script_check_mode(tmp_path, monkeypatch):
    docs = _api_docs()
    assert docs.main(["--check"]) == 0
    monkeypatch.setattr(docs, "PAGE", tmp_path / "api.md")
    (tmp_path / "api.md").write_text("old\n")
    assert docs.main(["--check"]) == 1


def test_the_readme_tour_speaks_gk():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## Five-minute tour", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    assert tour.lstrip().startswith("import graphkit as gk")
    assert "from graphkit" not in tour and "import graphkit." not in tour
    for call in ("gk.load_ciao(", "gk.topic_influence(", "gk.influential_loyal_customers(", "gk.plot.value_influence("):
        assert call in tour, call
