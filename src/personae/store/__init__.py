"""Storage layer: the DuckDB store behind Ibis, its schema and migrations."""

from personae.store.connection import Store, default_db_path
from personae.store.migrations import CURRENT_VERSION, migrate

__all__ = ["CURRENT_VERSION", "Store", "default_db_path", "migrate"]
