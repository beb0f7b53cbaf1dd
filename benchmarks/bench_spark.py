"""Topic influence on Spark vs the local batched engine: time, memory, agreement.

For each size (synthetic graphs written by ``python -m graphkit generate``,
seed 0) it runs, each in a fresh process so that peak memory is its own:

- ``local``: ``topic_influence(graph)``, the batched engine;
- ``spark-topics-pN``: ``topic_influence(graph, engine="spark", strategy="topics",
  partitions=N)`` on ``local[2]``, for each N of ``--partitions``;
- ``spark-iterations-pN`` (sizes up to ``--iterations-max``), for each N of
  ``--iterations-partitions``: the DataFrame iterations strategy.

Times are ``topic_influence`` end to end (reading the dataset and starting
Spark excluded, both reported apart). Memory: the driver's peak RSS, the
JVM's, and the largest Python worker's (``VmHWM`` of each worker process,
read before the session stops: the memory one task needs). Agreement: largest
absolute score difference with ``local`` and topics whose top 100 are
identical. On a shared 2-core machine Spark cannot be faster than one
process using both cores; the table says by how much it is slower, and what
partitions change.

CPU seconds (``cpu_s``: user + system of the driver, the JVM and the Python
workers during the run) are reported beside wall time, and the 1-minute load
average at the end of each run (``load``): on a shared machine wall time
depends on the other jobs, CPU time much less. The local session's driver
(which runs the tasks in local mode) gets ``--driver-memory``.

Results: ``benchmarks/results/bench_spark.csv``.
Run: ``python benchmarks/bench_spark.py [--sizes 100000 1000000] [--partitions 2 4 8]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def descendants_hwm(pid: int) -> tuple[int, list[int]]:
    """(peak RSS of the JVM, peak RSS of each Python worker) in bytes, from /proc (Linux)."""
    import psutil

    jvm, workers = 0, []
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                hwm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM"))
            cmd = " ".join(proc.cmdline())
        except (OSError, StopIteration, psutil.Error):
            continue
        if "java" in cmd:
            jvm = max(jvm, hwm)
        elif "pyspark" in cmd:
            workers.append(hwm)
    return jvm, workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of this process, its finished children and its live descendants (JVM, workers)."""
    import psutil

    total = 0.0
    for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def one(args: argparse.Namespace) -> None:
    """Run one configuration in this process; print one JSON line."""
    from graphkit.io.files import read_dataset
    from graphkit.scoring.influence import topic_influence

    t0 = time.perf_counter()
    graph = read_dataset(args.data)
    read_s = time.perf_counter() - t0
    row: dict = {"read_s": round(read_s, 2)}
    if args.engine == "local":
        t0, c0 = time.perf_counter(), cpu_seconds(os.getpid())
        res = topic_influence(graph)
        row["seconds"] = time.perf_counter() - t0
        row["cpu_s"] = round(cpu_seconds(os.getpid()) - c0, 1)
    else:
        from graphkit.io.spark import spark_session

        t0 = time.perf_counter()
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
        spark = spark_session("local[2]", partitions=args.partitions)
        row["session_s"] = round(time.perf_counter() - t0, 2)
        t0, c0 = time.perf_counter(), cpu_seconds(os.getpid())
        res = topic_influence(graph, engine="spark", strategy=args.strategy, partitions=args.partitions)
        row["seconds"] = time.perf_counter() - t0
        row["cpu_s"] = round(cpu_seconds(os.getpid()) - c0, 1)  # driver, JVM and Python workers
        jvm, workers = descendants_hwm(os.getpid())
        row.update(jvm_peak_mb=round(jvm / 2**20), worker_peak_mb=round(max(workers, default=0) / 2**20),
                   workers=len(workers))
        spark.stop()
    row.update(iterations=res.iterations, converged=res.converged, load=round(os.getloadavg()[0], 1),
               driver_peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    res.table.select("person_id", "topic", "score", "rank").write_parquet(args.scores)
    print(json.dumps(row))


def ensure_dataset(folder: Path, people: int) -> Path:
    path = folder / f"g{people}"
    if not (path / "people.parquet").exists():
        subprocess.run([sys.executable, "-m", "graphkit", "generate", str(path), "--people", str(people), "--quiet",
                        "--force"], check=True, cwd=ROOT)
    return path


def compare(ref: pl.DataFrame, got: pl.DataFrame) -> tuple[float, str]:
    j = ref.join(got, on=["person_id", "topic"])
    diff = float((j["score"] - j["score_right"]).abs().max())
    tops = j.filter(pl.col("rank") <= 100).group_by("topic").agg(
        (pl.col("rank") == pl.col("rank_right")).all().alias("same"))
    return diff, f"{int(tops['same'].sum())}/{tops.height}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--partitions", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--iterations-max", type=int, default=100_000,
                   help="largest size the DataFrame-iterations strategy is run on (0: never)")
    p.add_argument("--iterations-partitions", type=int, nargs="+", default=[2, 8])
    p.add_argument("--driver-memory", default="6g", help="memory of the local Spark driver (it runs the tasks)")
    p.add_argument("--data", default="/tmp/graphkit-bench-spark", help="where the generated datasets are kept")
    p.add_argument("--out", default=str(RESULTS / "bench_spark.csv"))
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    p.add_argument("--strategy", default="topics", help=argparse.SUPPRESS)
    p.add_argument("--scores", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        args.partitions = args.partitions[0]
        one(args)
        return 0

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    rows = []
    for people in args.sizes:
        path = ensure_dataset(data, people)
        runs = [("local", "local", "topics", 2)]
        if people <= args.iterations_max:
            runs += [(f"spark-iterations-p{n}", "spark", "iterations", n) for n in args.iterations_partitions]
        runs += [(f"spark-topics-p{n}", "spark", "topics", n) for n in args.partitions]
        ref = None
        for name, engine, strategy, parts in runs:
            scores = data / f"scores-{people}-{name}.parquet"
            cmd = [sys.executable, __file__, "--one", "--data", str(path), "--engine", engine, "--strategy", strategy,
                   "--partitions", str(parts), "--scores", str(scores), "--driver-memory", args.driver_memory]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if done.returncode:
                print(f"{name} at {people}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = {"people": people, "run": name, **json.loads(done.stdout.strip().splitlines()[-1])}
            got = pl.read_parquet(scores)
            if ref is None:
                ref = got
                row["max_abs_vs_local"], row["top100_identical"] = 0.0, "-"
            else:
                row["max_abs_vs_local"], row["top100_identical"] = compare(ref, got)
            if name == "local":
                local_s = row["seconds"]
            row["x_local"] = round(row["seconds"] / local_s, 1)
            row["seconds"] = round(row["seconds"], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
            table = pl.DataFrame(rows, infer_schema_length=None)
            table.write_csv(args.out)  # after every run: a long run stopped half-way keeps what it measured
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, tbl_hide_dataframe_shape=True):
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
