"""Which engine a command runs on: DuckDB (the default, one file) or Spark (a warehouse).

The one place that turns the settings (``engine``, ``db``, ``warehouse``, ``spark.*``) into an
open :class:`~personae.store.Store`, so every command works on either engine unchanged.
"""

from __future__ import annotations

from personae.config import Settings
from personae.store import DuckDBStore, Store


def open_store(settings: Settings) -> Store:
    """The store the settings name; Spark is imported only when it is asked for."""
    if settings.engine == "spark":
        from personae.store.spark import SparkStore  # start-up: pyspark

        return SparkStore.open(settings.warehouse, master=settings.spark.master, conf=settings.spark.conf)
    return DuckDBStore.open(settings.db, memory_limit=settings.memory_limit or None)
