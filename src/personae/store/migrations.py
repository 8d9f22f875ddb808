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
from personae.store.ddl import SYSTEM_TABLES_V2, SYSTEM_TABLES_V3, SYSTEM_TABLES_V4, canonical_table_ddl

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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "canonical tables", _v1_canonical_tables),
    Migration(2, "ingest runs and rejects", _v2_ingest_bookkeeping),
    Migration(3, "identity links, map and merges", _v3_identity),
    Migration(4, "segment definitions, runs, snapshots and changes", _v4_segments),
)

#: The schema version this personae writes.
CURRENT_VERSION = MIGRATIONS[-1].version


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
    pending = [m for m in MIGRATIONS if m.version > version]
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
