"""Schema versions of the store and the steps that move a database from one to the next.

A database records its version in ``_personae_schema``. Opening an older database applies
the missing steps in order, inside one transaction; opening a database written by a newer
personae fails with :class:`~personae.errors.SchemaVersionError` rather than guessing.

To change the schema: append a :class:`Migration` with the next version. Never edit a
migration that has shipped — databases in the field have already run it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from personae.errors import SchemaVersionError
from personae.schema import TABLES
from personae.store.ddl import (
    SYSTEM_TABLES_V2,
    SYSTEM_TABLES_V3,
    SYSTEM_TABLES_V4,
    SYSTEM_TABLES_V5,
    SYSTEM_TABLES_V6,
    SYSTEM_TABLES_V8,
    SYSTEM_TABLES_V9,
    SYSTEM_TABLES_V10,
    SYSTEM_TABLES_V11,
    SYSTEM_TABLES_V12,
    canonical_table_ddl,
    quote,
)

Connection = Any  # a duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_canonical_tables(con: Connection) -> None:
    for spec in TABLES.values():
        con.execute(canonical_table_ddl(spec))


def _v2_ingest_bookkeeping(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V2:
        con.execute(ddl)


def _v3_identity(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V3:
        con.execute(ddl)


def _v4_segments(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V4:
        con.execute(ddl)


def _v5_clusters(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V5:
        con.execute(ddl)


def _v6_experience(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V6:
        con.execute(ddl)


def _v8_personalization(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V8:
        con.execute(ddl)


def _v9_service(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V9:
        con.execute(ddl)


def _v10_voice(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V10:
        con.execute(ddl)


def _v11_privacy(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V11:
        con.execute(ddl)


def _v12_service_journal(con: Connection) -> None:
    for ddl in SYSTEM_TABLES_V12:
        con.execute(ddl)


def _v13_real_data_columns(con: Connection) -> None:
    # written out, not read from schema.TABLES: a shipped step must not change with the schema
    for table, column, kind in (
        ("orders", "unit_price", "DOUBLE"),
        ("orders", "rating", "DOUBLE"),
        ("orders", "rating_max", "DOUBLE"),
        ("customers", "age", "DOUBLE"),
        ("customers", "birth_year", "DOUBLE"),
    ):
        con.execute(f"ALTER TABLE {quote(table)} ADD COLUMN IF NOT EXISTS {quote(column)} {kind}")


def _v14_texts(con: Connection) -> None:
    # written out, not read from schema.TABLES (a shipped step must not change with the schema);
    # a database created at v14 or later already has it from step 1
    con.execute(
        """CREATE TABLE IF NOT EXISTS texts (
        text_id VARCHAR, "text" VARCHAR, created_at TIMESTAMP, source VARCHAR,
        customer_id VARCHAR, email VARCHAR, phone VARCHAR, handle VARCHAR,
        score DOUBLE, scale_max DOUBLE, subject VARCHAR, "language" VARCHAR,
        _row_key VARCHAR, _source_file VARCHAR, _source_line BIGINT, _ingested_at TIMESTAMP,
        properties_extra VARCHAR, _row_hash VARCHAR, _identity VARCHAR
    )"""
    )


def _v15_places(con: Connection) -> None:
    # written out, not read from schema.TABLES (a shipped step must not change with the schema)
    for table, column, kind in (
        ("customers", "latitude", "DOUBLE"),
        ("customers", "longitude", "DOUBLE"),
        ("stores", "postcode", "VARCHAR"),
        ("stores", "country", "VARCHAR"),
        ("stores", "latitude", "DOUBLE"),
        ("stores", "longitude", "DOUBLE"),
    ):
        con.execute(f"ALTER TABLE {quote(table)} ADD COLUMN IF NOT EXISTS {quote(column)} {kind}")
    con.execute(
        """CREATE TABLE IF NOT EXISTS postcodes (
        country VARCHAR, postcode VARCHAR, latitude DOUBLE, longitude DOUBLE,
        _row_key VARCHAR, _source_file VARCHAR, _source_line BIGINT, _ingested_at TIMESTAMP,
        properties_extra VARCHAR, _row_hash VARCHAR, _identity VARCHAR
    )"""
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "canonical tables", _v1_canonical_tables),
    Migration(2, "ingest runs and rejects", _v2_ingest_bookkeeping),
    Migration(3, "identity links, map and merges", _v3_identity),
    Migration(4, "segment definitions, runs, snapshots and changes", _v4_segments),
    Migration(5, "cluster models, profiles and assignments", _v5_clusters),
    Migration(6, "survey samples", _v6_experience),
    Migration(8, "personalization: activations, webhook messages and dead letters", _v8_personalization),
    Migration(9, "service: api keys, tracked messages, live memberships, webhook outbox", _v9_service),
    Migration(10, "voice: theme models and theme names", _v10_voice),
    Migration(11, "privacy: audit log, erasures, tombstones, secret", _v11_privacy),
    Migration(12, "service: the commit journal's applied sequence number", _v12_service_journal),
    Migration(
        13, "orders: unit_price, rating, rating_max; customers: age, birth_year", _v13_real_data_columns
    ),
    Migration(14, "texts: free text customers wrote or said (personae ingest texts)", _v14_texts),
    Migration(
        15, "places: customers' and stores' coordinates, stores' postcodes, postcode centroids", _v15_places
    ),
)

#: The schema version this personae writes.
CURRENT_VERSION = max(m.version for m in MIGRATIONS)


def _version(m: Migration) -> int:
    return m.version


def applied_versions(con: Connection) -> set[int]:
    """Every version recorded in the database."""
    if not current_version(con):
        return set()
    return {int(r[0]) for r in con.execute("SELECT version FROM _personae_schema").fetchall()}


def current_version(con: Connection) -> int:
    """The version recorded in the database (0 for an empty database)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = '_personae_schema'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM _personae_schema").fetchone()
    return int(row[0] or 0)


def migrate(con: Connection, *, path: str = "the database") -> list[int]:
    """Bring the database up to :data:`CURRENT_VERSION`; return the versions applied."""
    version = current_version(con)
    if version > CURRENT_VERSION:
        raise SchemaVersionError(
            f"{path} uses schema version {version}, but this personae only knows up to "
            f"version {CURRENT_VERSION}",
            hint="upgrade personae (pip install -U personae) or open another --db",
        )
    # every known step not yet recorded, in order: a step numbered below the newest recorded
    # one (features developed side by side) is still applied
    pending = sorted((m for m in MIGRATIONS if m.version not in applied_versions(con)), key=_version)
    if not pending:
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS _personae_schema "
            "(version INTEGER, description VARCHAR, applied_at TIMESTAMP)"
        )
        for m in pending:
            m.apply(con)
            con.execute(
                "INSERT INTO _personae_schema VALUES (?, ?, now()::TIMESTAMP)",
                [m.version, m.description],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return [m.version for m in pending]
