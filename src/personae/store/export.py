"""Copy a DuckDB database into a warehouse of Parquet tables, for the Spark engine.

Ingest (validation, rejects, de-duplication, identity links) is built around one machine's
files and stays on DuckDB; a build on Spark then starts from an export of the database. The
copy streams each table in Arrow batches (the whole table is never in memory) and publishes
all the tables with one manifest commit, so a failed export changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from personae.errors import NotFoundError
from personae.store.duckdb import DuckDBStore
from personae.store.warehouse import Warehouse

#: Rows per Arrow batch (and Parquet row group) when streaming a table out of DuckDB.
BATCH_ROWS = 256_000


def export_to_warehouse(
    store: DuckDBStore,
    location: str | Path,
    *,
    tables: Sequence[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, int]:
    """Write ``tables`` (default: every table) of ``store`` into the warehouse at ``location``.

    Tables already in the warehouse are replaced; others there are left alone. Returns the
    rows written per table.
    """
    report = progress or (lambda step, fraction: None)
    names = list(tables) if tables else store.base_tables()
    for name in names:
        if not store.has_table(name):
            raise NotFoundError(f"no table {name!r} in {store.path}")
    warehouse = Warehouse.at(location)
    warehouse.create()
    before = warehouse.load()
    after = dict(before)
    written: list[str] = []
    rows: dict[str, int] = {}
    try:
        for i, name in enumerate(names):
            report(name, i / max(len(names), 1))
            reader = store.backend.to_pyarrow_batches(store.table(name), chunk_size=BATCH_ROWS)
            counted = _counting(reader, rows, name)
            part = warehouse.write_part(name, counted, reader.schema)
            written.append(part)
            after[name] = [part]
    except BaseException:
        warehouse.delete_parts(written)
        raise
    warehouse.commit(after)
    warehouse.delete_parts(sorted({p for n in names for p in before.get(n, [])}))
    report("done", 1.0)
    return rows


def _counting(reader: pa.RecordBatchReader, rows: dict[str, int], name: str) -> Iterator[pa.RecordBatch]:
    rows[name] = 0
    for batch in reader:
        rows[name] += batch.num_rows
        yield batch
