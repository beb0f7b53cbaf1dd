"""The Spark session graphkit runs on: the caller's, or a local one it starts.

pyspark is optional (``pip install 'graphkit[spark]'``) and is imported only
when a session is asked for. On a cluster, start the session yourself (or
run under ``spark-submit``) and graphkit uses the active one; on a laptop or
in CI graphkit starts ``local[2]`` bound to 127.0.0.1.

>>> local_conf(3)["spark.sql.shuffle.partitions"]
'3'
>>> local_conf(2, driver_memory="6g")["spark.driver.memory"]
'6g'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.errors import GraphkitError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

#: Master of the session graphkit starts when none is active.
DEFAULT_MASTER = "local[2]"
#: Heap of the JVM of a local session graphkit starts (driver and executor in one). Spark's own default, 1 GB,
#: fills up with the intermediate tables of the DataFrame iterations on a graph of Ciao's size, and a full heap
#: makes the JVM collect garbage for ever instead of failing.
DRIVER_MEMORY = "3g"
#: How to get pyspark, in every error that needs it.
INSTALL_HINT = "install it with: pip install 'graphkit[spark]'"


def import_pyspark() -> Any:
    """The ``pyspark.sql`` module, or a :class:`GraphkitError` with the install command."""
    try:
        import pyspark.sql
    except ImportError as exc:
        raise GraphkitError(f"the Spark engine needs pyspark ({exc}); {INSTALL_HINT}") from None
    return pyspark.sql


def local_conf(partitions: int, *, driver_memory: str = DRIVER_MEMORY) -> dict[str, str]:
    """Settings of the local session graphkit starts: quiet, on 127.0.0.1, ``partitions`` shuffle partitions.

    ``driver_memory`` is the JVM's heap. The JVM collects its garbage every
    minute (Spark's default: every 30), so that the blocks of tables nobody
    holds any more (checkpoints of finished iterations) are freed while the
    session lives on, as it does in a notebook.
    """
    return {
        "spark.driver.memory": driver_memory,
        "spark.cleaner.periodicGC.interval": "1min",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.default.parallelism": str(partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.python.worker.reuse": "true",
    }


def spark_session(master: str | None = None, *, partitions: int = 2,
                  driver_memory: str = DRIVER_MEMORY) -> SparkSession:
    """The active Spark session, or a new one on ``master`` (default ``local[2]``).

    A new local session listens on 127.0.0.1 only, has no web UI, uses
    ``partitions`` shuffle partitions, a JVM heap of ``driver_memory`` and
    runs its Python workers with this
    interpreter and this copy of graphkit. Pass ``master`` to refuse an active
    session on another master (a clear error, not a silent switch).
    """
    sql = import_pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        running = active.sparkContext.master
        if master is not None and running != master:
            raise GraphkitError(f"a Spark session on {running!r} is already active; stop it before asking for {master!r}")
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    here = str(Path(__file__).resolve().parents[3])  # the folder graphkit is imported from
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if here not in paths:  # workers import graphkit as the driver does, installed or not
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *[p for p in paths if p]])
    builder = sql.SparkSession.builder.master(master or DEFAULT_MASTER).appName("graphkit")
    for key, value in local_conf(partitions, driver_memory=driver_memory).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, port refused, ...: one line, not a JVM trace
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GraphkitError(f"cannot start Spark on {master or DEFAULT_MASTER!r} ({first}); "
                            "Spark needs Java 17 or 21 (JAVA_HOME)") from None
    session.sparkContext.setLogLevel("ERROR")
    return session
