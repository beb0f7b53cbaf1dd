"""Lineage: every run records the SHA-256 of each input table, the graphkit version and the parameters."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from datetime import UTC, datetime, timedelta

import polars as pl

from graphkit.cli import main
from graphkit.io.files import write_dataset
from graphkit.io.lineage import input_fingerprints, row_hashes, table_fingerprint
from graphkit.marketing.common import example_market
from graphkit.version import __version__


def test_fingerprint_sees_every_value_and_ignores_row_order():
    df = pl.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"]})
    assert table_fingerprint(df) == table_fingerprint(df.reverse())
    assert table_fingerprint(df) != table_fingerprint(df.with_columns(a=pl.Series([1, 2, 3])))
    assert table_fingerprint(df) != table_fingerprint(df.rename({"b": "c"}))
    assert table_fingerprint(df) != table_fingerprint(df.head(2))


M64 = (1 << 64) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def plain_mix(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def plain_value_hash(value, column: int) -> int:
    """The documented hash of one value, written plainly: nulls a constant, text by FNV-1a over its UTF-8
    bytes and its length, integers and times as 64-bit words, floats by their IEEE bits (one NaN)."""
    salt = (column * 0xD6E8FEB86659FD93) & M64
    if value is None:
        return 0x9E3779B97F4A7C15
    if isinstance(value, str):
        data = value.encode()
        f = 0xCBF29CE484222325
        for byte in data:
            f = ((f ^ byte) * 0x100000001B3) & M64
        return plain_mix((f + len(data) + salt) & M64)
    if isinstance(value, float):
        word = struct.unpack("<Q", struct.pack("<d", math.nan if math.isnan(value) else value))[0]
    elif isinstance(value, datetime):
        word = (value - _EPOCH) // _US
    else:
        word = int(value)
    return plain_mix((word + salt) & M64)


def plain_row_hashes(df: pl.DataFrame) -> list[int]:
    """Each row folded column by column: acc = mix(acc * FNV prime + value hash)."""
    out = []
    for row in df.iter_rows():
        acc = 0
        for column, value in enumerate(row):
            acc = plain_mix((acc * 0x100000001B3 + plain_value_hash(value, column)) & M64)
        out.append(acc)
    return out


def plain_fingerprint(df: pl.DataFrame) -> str:
    digest = hashlib.sha256(b"graphkit rows-sha256 v1\x1e")
    for name, dtype in df.schema.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    digest.update(b"".join(struct.pack("<Q", h) for h in sorted(plain_row_hashes(df))))
    return "rows-sha256:" + digest.hexdigest()


def test_fingerprint_is_the_documented_hash_of_the_sorted_row_hashes():
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    df = pl.DataFrame({
        "id": ["p1", "p2", None, "é€", ""],
        "n": [3, None, -7, 0, 2**40],
        "w": [1.5, -0.0, float("nan"), None, 1e-300],
        "sign": pl.Series([1, -1, None, 1, 1], dtype=pl.Int8),
        "ts": [when, None, when, when, when],
    })
    assert table_fingerprint(df) == plain_fingerprint(df)
    assert row_hashes(df).tolist() == plain_row_hashes(df)
    # pinned: a fingerprint recorded by one graphkit version means the same data in the next one
    tiny = pl.DataFrame({"src": ["a", "b"], "dst": ["b", None], "weight": [1.0, 2.5]})
    assert table_fingerprint(tiny) == plain_fingerprint(tiny) == PINNED


PINNED = "rows-sha256:0c9146fd8ab173f6ed929dc52aa9a23e82f6811a26ecc6d656f0bcc620ad189a"


def test_two_runs_on_changed_data_differ_in_the_changed_table_only(tmp_path, capsys):
    market = example_market()
    first = write_dataset(market, tmp_path / "one")
    changed = market.replace(transactions=market.transactions.head(market.transactions.height - 1))
    second = write_dataset(changed, tmp_path / "two")
    scores = tmp_path / "scores"
    for i, folder in enumerate((first, second)):
        assert main(["score", "--source", str(folder), "--write", str(scores), "--score", "topic_influence",
                     "--run-id", f"r{i}", "--quiet", "--json"]) == 0
    capsys.readouterr()
    assert main(["runs", str(scores), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 2 and [r["run_id"] for r in listed["runs"]] == ["r0", "r1"]
    assert [r["current"] for r in listed["runs"]] == [False, True]
    one, two = (r["parameters"]["inputs"] for r in listed["runs"])
    assert one == input_fingerprints(market) and two == input_fingerprints(changed)
    assert {t for t in one if one[t] != two[t]} == {"transactions"}
    assert all(r["graphkit_version"] == __version__ for r in listed["runs"])
    assert listed["runs"][1]["parameters"]["score"] == "topic_influence"
    assert main(["runs", str(scores)]) == 0
    text = capsys.readouterr().out
    assert "* r1" in text and "transactions" in text


def test_runs_of_a_folder_that_is_not_a_score_folder_is_one_error(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("mine")
    assert main(["runs", str(tmp_path)]) == 1
    assert "not a score folder" in capsys.readouterr().err
