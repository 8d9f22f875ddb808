"""Storage layer: the store contract, its DuckDB and Spark engines, the schema and migrations.

:class:`Store` is the contract every engine implements (:mod:`personae.store.base`);
:class:`DuckDBStore` is the embedded default, ``SparkStore`` (:mod:`personae.store.spark`,
imported only when asked for) the scale-out one; :func:`~personae.store.engine.open_store`
opens the one the settings name.
"""

from personae.store.base import Store
from personae.store.duckdb import DuckDBStore, default_db_path
from personae.store.migrations import CURRENT_VERSION, migrate

__all__ = ["CURRENT_VERSION", "DuckDBStore", "Store", "default_db_path", "migrate"]
