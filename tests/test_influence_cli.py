"""``graphkit influence``: exit codes, output file, one-line errors."""

from __future__ import annotations

import polars as pl

from graphkit.cli import main
from graphkit.io.files import write_dataset
from graphkit.scoring.influence import topic_influence


def test_writes_the_same_table_as_the_library(tmp_path, tiny):
    data = tmp_path / "data"
    write_dataset(tiny, data)
    out = tmp_path / "scores.parquet"
    assert main(["influence", str(data), "--topics", "frogs", "--out", str(out)]) == 0
    written = pl.read_parquet(out)
    assert written.equals(topic_influence(tiny, topics=["frogs"]).table)


def test_prints_top_people_per_topic(capsys):
    assert main(["influence", "bundled", "--topics", "Books", "--top", "2", "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    assert "Books" in out and out.count("│ Books") == 2


def test_gds_variant_and_window_options_reach_the_library(tmp_path, tiny):
    data = tmp_path / "data"
    write_dataset(tiny, data)
    out = tmp_path / "gds.csv"
    assert main(["influence", str(data), "--variant", "gds", "--start", "2024-01-01", "--out", str(out)]) == 0
    expected = topic_influence(tiny, variant="gds", window=("2024-01-01", None)).table
    assert pl.read_csv(out)["score"].to_list() == expected["score"].to_list()


def test_unknown_topic_is_one_line_error_exit_1(capsys):
    assert main(["influence", "bundled", "--topics", "Toads"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("Error: unknown topic 'Toads'; topics are:")


def test_missing_dataset_is_exit_2_and_bad_folder_exit_1(tmp_path, capsys):
    assert main(["influence"]) == 2
    assert main(["influence", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("Error:")


def test_help_documents_every_option(capsys):
    assert main(["influence", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("bundled", "--topics", "--engine", "--variant", "--damping-factor", "--max-iter", "--tol",
                   "--start", "--end", "--dtype", "--out", "--top"):
        assert option in text
