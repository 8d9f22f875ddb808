"""Ingestion: readers, column mapping, validation, idempotent and atomic loading.

:func:`ingest_file` is the one entry point: on the DuckDB engine it streams the file through
:mod:`~personae.app.ingest.loader`; on the Spark engine the file (or a folder of files) is
read, validated and written as Spark jobs by :mod:`~personae.app.ingest.spark_ingest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from personae.app.ingest import loader
from personae.app.ingest.loader import IngestPreview, IngestSummary, preview_file
from personae.store import Store

__all__ = ["IngestPreview", "IngestSummary", "ingest_file", "preview_file"]


def ingest_file(store: Store, kind: str, path: Path | str, **options: Any) -> IngestSummary:
    """Ingest ``path`` of ``kind`` into ``store`` with the engine's own path (same guarantees,
    same summary); ``options`` are :func:`personae.app.ingest.loader.ingest_file`'s."""
    if store.engine == "spark":
        from personae.app.ingest.spark_ingest import ingest_on_spark  # start-up: pyspark, Spark only
        from personae.store.spark import SparkStore  # start-up: pyspark, Spark only

        options.pop("chunk_rows", None)  # Spark sizes its own partitions
        return ingest_on_spark(cast(SparkStore, store), kind, path, **options)
    return loader.ingest_file(store, kind, path, **options)
