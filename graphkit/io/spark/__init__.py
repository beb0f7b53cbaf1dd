"""Apache Spark as the place the job runs: the session, and tables between Spark and the model.

pyspark is optional (``pip install 'graphkit[spark]'``) and loads only when a
session is asked for. The engines that score on Spark live beside the scoring
they run (:mod:`graphkit.scoring.spark`).
"""

from graphkit.io.spark.session import DEFAULT_MASTER, import_pyspark, local_conf, spark_session
from graphkit.io.spark.tables import graph_frames, read_graph, table_paths, to_polars, to_spark, write_tables

__all__ = ["DEFAULT_MASTER", "graph_frames", "import_pyspark", "local_conf", "read_graph", "spark_session", "table_paths",
           "to_polars", "to_spark", "write_tables"]
