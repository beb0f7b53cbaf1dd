"""One real local Spark session (``local[2]``, 127.0.0.1) for every Spark test.

The tests skip, with the reason, only when pyspark cannot be imported; the
CI command installs the ``spark`` extra, so there they run.
"""

from __future__ import annotations

import gc

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install '.[test,spark]' to run the Spark tests")


@pytest.fixture(scope="session")
def spark():
    from graphkit.io.spark import spark_session

    session = spark_session("local[2]", partitions=2)
    yield session
    session.stop()


@pytest.fixture(autouse=True, scope="module")
def free_spark_memory():
    """After each module, release what its tables held: Python's references first, then the JVM's garbage."""
    yield
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    gc.collect()
    if active is not None:
        active.sparkContext._jvm.java.lang.System.gc()
