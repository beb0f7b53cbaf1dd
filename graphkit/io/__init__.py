"""Where data comes from and goes to: dataset folders, Neo4j, public-data adapters, bundled data, the generator.

- :mod:`~graphkit.io.files`: dataset folders (Parquet or CSV) and score tables.
- :mod:`~graphkit.io.score_folder`: score runs as files, readers switched from one complete run to the next.
- :mod:`~graphkit.io.ownership`: the ``.graphkit`` markers (graphkit deletes only what it made), folder
  locks (one writer at a time), fsync and atomic swaps.
- :mod:`~graphkit.io.neo4j`: the Neo4j store (its Cypher in one module).
- :mod:`~graphkit.io.adapters`: public datasets (Ciao, CiaoDVD, Higgs, Bitcoin OTC, CDNOW).
- :mod:`~graphkit.io.datasets`: the bundled Ciao data.
- :mod:`~graphkit.io.synthetic`: seeded synthetic graphs at any scale.
"""

from graphkit.io.files import read_dataset, write_dataset, write_table

__all__ = ["read_dataset", "write_dataset", "write_table"]
