"""Writing canonical tables to CSV or Parquet, chunk by chunk, atomically.

Modules hand over typed Arrow tables (timestamps, dates, lists). The writer checks the
columns against ``schema.TABLES`` and applies the CSV conventions of the data model:
ISO 8601 timestamps without time zone (``2025-03-04T12:34:56``), ``YYYY-MM-DD`` dates,
``true``/``false``, semicolon-separated lists, JSON objects as text, and an empty cell for
a missing value. Parquet keeps the real types (lists stay lists).

Files are written under a temporary name and renamed when complete, so a crash never leaves
a half-written file that looks finished. A writer may work in a background thread: Arrow
formats and writes without holding the GIL, so writing one chunk overlaps generating the
next. Each file still has a single writer, so the bytes do not depend on thread timing.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from personae import schema
from personae.devtools.generate import columns as col

Format = Literal["csv", "parquet"]


def _csv_column(array: pa.Array | pa.ChunkedArray, type_: str) -> pa.Array:
    """One column in its CSV text form (only timestamps and lists need converting)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if type_ == "timestamp":
        seconds = array.cast(pa.int64())
        if not seconds.null_count:
            return col.timestamp_text(seconds.to_numpy())
        valid = seconds.is_valid().to_numpy(zero_copy_only=False)
        return col.timestamp_text(seconds.fill_null(0).to_numpy(), valid)
    if type_ == "list":
        return pc.binary_join(array, ";")
    return array


class TableWriter:
    """Appends chunks of one table to ``path``; use as a context manager.

    Args:
        kind: a canonical table name, or any name when ``column_types`` is given.
        path: final file path.
        fmt: ``"csv"`` or ``"parquet"``.
        column_types: name -> column type for non-canonical tables (the truth file).
        background: format and write in a thread of its own (``write`` only queues).
    """

    def __init__(
        self,
        kind: str,
        path: Path,
        fmt: Format,
        column_types: dict[str, str] | None = None,
        background: bool = False,
    ) -> None:
        if column_types is None:
            spec = schema.TABLES[kind]
            column_types = {c.name: c.type for c in spec.columns if not c.late}
        self.kind = kind
        self.path = path
        self.fmt = fmt
        self.column_types = column_types
        self._tmp = path.with_name(path.name + ".tmp")
        self._schema: pa.Schema | None = None
        self._csv: pcsv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._sink: pa.NativeFile | None = None
        self.rows = 0
        self._queue: queue.Queue[pa.Table | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if background:
            self._queue = queue.Queue(maxsize=2)  # bounds memory: at most two chunks waiting
            self._thread = threading.Thread(target=self._drain, name=f"write-{kind}", daemon=True)
            self._thread.start()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    def write(self, table: pa.Table) -> None:
        """Append ``table``, whose columns must be exactly the canonical ones, in order."""
        names = list(self.column_types)
        if table.column_names != names:
            raise ValueError(f"{self.kind}: columns {table.column_names} are not {names}")
        if self._error is not None:
            raise self._error
        if self._queue is not None:
            self._queue.put(table)
        else:
            self._write_now(table)

    def _drain(self) -> None:
        """Background thread: write queued tables in order until the ``None`` sentinel."""
        assert self._queue is not None
        while (table := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write_now(table)
                except BaseException as exc:  # re-raised in the calling thread
                    self._error = exc

    def _stop(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _write_now(self, table: pa.Table) -> None:
        if self.fmt == "csv":
            table = pa.table({n: _csv_column(table[n], t) for n, t in self.column_types.items()})
        if self._schema is None:
            self._open(table.schema)
        assert self._schema is not None
        table = table.cast(self._schema)
        if self._csv is not None:
            self._csv.write_table(table)
        elif self._parquet is not None:
            self._parquet.write_table(table)
        self.rows += table.num_rows

    def _open(self, table_schema: pa.Schema) -> None:
        self._schema = table_schema
        if self.fmt == "csv":
            self._sink = pa.OSFile(str(self._tmp), "wb")
            self._sink.write((",".join(table_schema.names) + "\n").encode())
            options = pcsv.WriteOptions(include_header=False, batch_size=65_536)
            self._csv = pcsv.CSVWriter(self._sink, table_schema, write_options=options)
        else:
            self._parquet = pq.ParquetWriter(str(self._tmp), table_schema, compression="zstd")

    def close(self) -> None:
        """Finish the file and move it into place (an empty table still gets a header)."""
        self._stop()
        if self._error is not None:
            self._abort()
            raise self._error
        if self._schema is None:
            empty = {n: pa.array([], _empty_type(t, self.fmt)) for n, t in self.column_types.items()}
            self._open(pa.schema([(n, a.type) for n, a in empty.items()]))
        if self._csv is not None:
            self._csv.close()
        if self._sink is not None:
            self._sink.close()
        if self._parquet is not None:
            self._parquet.close()
        os.replace(self._tmp, self.path)

    def _abort(self) -> None:
        self._stop()
        for closer in (self._csv, self._sink, self._parquet):
            if closer is not None:
                with contextlib.suppress(Exception):  # best effort clean-up
                    closer.close()
        if self._tmp.exists():
            self._tmp.unlink()


def _empty_type(type_: str, fmt: Format) -> pa.DataType:
    """Arrow type of a column type, as written in ``fmt``."""
    if fmt == "csv" and type_ in ("timestamp", "list"):
        return pa.string()
    return {
        "timestamp": pa.timestamp("s"),
        "date": pa.date32(),
        "float": pa.float64(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
    }.get(type_, pa.string())


def write_table(
    kind: str, table: pa.Table, path: Path, fmt: Format, column_types: dict[str, str] | None = None
) -> Path:
    """Write a whole table in one go."""
    with TableWriter(kind, path, fmt, column_types) as writer:
        writer.write(table)
    return path
