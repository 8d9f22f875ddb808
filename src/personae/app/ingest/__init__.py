"""Ingestion: readers, column mapping, validation, idempotent and atomic loading."""

from personae.app.ingest.loader import IngestSummary, ingest_file

__all__ = ["IngestSummary", "ingest_file"]
