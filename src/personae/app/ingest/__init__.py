"""Ingestion: readers, column mapping, validation, idempotent and atomic loading."""

from personae.app.ingest.loader import IngestPreview, IngestSummary, ingest_file, preview_file

__all__ = ["IngestPreview", "IngestSummary", "ingest_file", "preview_file"]
