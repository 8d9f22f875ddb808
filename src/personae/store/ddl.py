"""Engine types for the canonical vocabulary, and the table definitions the migrations create.

Engine-specific SQL lives only in the storage layer; this module is where DuckDB's type names
are spelled.
"""

from __future__ import annotations

from personae.schema import BOOKKEEPING_COLUMNS, TableSpec

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "float": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "list": "VARCHAR[]",
    "json": "VARCHAR",  # JSON text; kept as a string so every engine can hold it
}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (names come from our own schema, never from users)."""
    return '"' + name.replace('"', '""') + '"'


def canonical_table_ddl(spec: TableSpec) -> str:
    """``CREATE TABLE`` for one canonical table, with its bookkeeping columns."""
    cols = [f"{quote(c.name)} {DUCKDB_TYPES[c.type]}" for c in spec.columns]
    cols += [f"{quote(n)} {DUCKDB_TYPES[t]}" for n, t in BOOKKEEPING_COLUMNS]
    cols.append('"_row_hash" VARCHAR')
    cols.append('"_identity" VARCHAR')
    return f"CREATE TABLE IF NOT EXISTS {quote(spec.name)} (\n  " + ",\n  ".join(cols) + "\n)"


SYSTEM_TABLES_V2 = (
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        ingest_id VARCHAR, kind VARCHAR, file VARCHAR, file_sha256 VARCHAR, format VARCHAR,
        "read" BIGINT, accepted BIGINT, updated BIGINT, rejected BIGINT, duplicates BIGINT,
        started_at TIMESTAMP, finished_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS rejects (
        ingest_id VARCHAR, kind VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR,
        raw VARCHAR, rejected_at TIMESTAMP)""",
)

SYSTEM_TABLES_V3 = (
    """CREATE TABLE IF NOT EXISTS identity_links (
        identifier_a VARCHAR, identifier_b VARCHAR, source VARCHAR, seen_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS identity_map (identifier VARCHAR, customer_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS identity_merges (
        merged_at TIMESTAMP, customer_id VARCHAR, merged_customer_id VARCHAR,
        identifiers VARCHAR, rule VARCHAR)""",
)

# Segments: versioned definitions (append-only; a removal is a version with removed = true),
# one run row per segment and build date, the dated member snapshots, and entries/exits.
SYSTEM_TABLES_V4 = (
    """CREATE TABLE IF NOT EXISTS segment_definitions (
        name VARCHAR, version INTEGER, rule VARCHAR, description VARCHAR, source VARCHAR,
        removed BOOLEAN, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS segment_runs (
        segment VARCHAR, as_of DATE, version INTEGER, rule VARCHAR, builtin BOOLEAN,
        members BIGINT, built_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS segment_snapshots (segment VARCHAR, as_of DATE, customer_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS segment_changes (
        segment VARCHAR, customer_id VARCHAR, change VARCHAR, as_of DATE, previous_as_of DATE,
        recorded_at TIMESTAMP)""",
)
