"""Writing canonical tables to CSV or Parquet, chunk by chunk, atomically.

Modules hand over typed Arrow tables (timestamps, dates, lists). The writer checks the
columns against ``schema.TABLES`` and applies the CSV conventions of the data model:
ISO 8601 timestamps without time zone (``2025-03-04T12:34:56``), ``YYYY-MM-DD`` dates,
``true``/``false``, semicolon-separated lists, JSON objects as text, and an empty cell for
a missing value. Parquet keeps the real types (lists stay lists).

Files are written under a temporary name and renamed when complete, so a crash never leaves
a half-written file that looks finished.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from personae import schema
from personae.generate import columns as col

Format = Literal["csv", "parquet"]


def _csv_column(array: pa.Array | pa.ChunkedArray, type_: str) -> pa.Array:
    """One column in its CSV text form (only timestamps and lists need converting)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if type_ == "timestamp":
        seconds = array.cast(pa.int64()).fill_null(0).to_numpy()
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        return col.timestamp_text(seconds, valid if not valid.all() else None)
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
    """

    def __init__(self, kind: str, path: Path, fmt: Format,
                 column_types: dict[str, str] | None = None) -> None:
        if column_types is None:
            spec = schema.TABLES[kind]
            column_types = {c.name: c.type for c in spec.columns}
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

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    def write(self, table: pa.Table) -> None:
        """Append ``table``, whose columns must be exactly the canonical ones, in order."""
        names = list(self.column_types)
        if table.column_names != names:
            raise ValueError(f"{self.kind}: columns {table.column_names} are not {names}")
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
        if self._schema is None:
            empty = {n: pa.array([], _empty_type(t, self.fmt)) for n, t in
                     self.column_types.items()}
            self._open(pa.schema([(n, a.type) for n, a in empty.items()]))
        if self._csv is not None:
            self._csv.close()
        if self._sink is not None:
            self._sink.close()
        if self._parquet is not None:
            self._parquet.close()
        os.replace(self._tmp, self.path)

    def _abort(self) -> None:
        for closer in (self._csv, self._sink, self._parquet):
            if closer is not None:
                try:
                    closer.close()
                except Exception:  # pragma: no cover - best effort clean-up
                    pass
        if self._tmp.exists():
            self._tmp.unlink()


def _empty_type(type_: str, fmt: Format) -> pa.DataType:
    """Arrow type of a column type, as written in ``fmt``."""
    if fmt == "csv" and type_ in ("timestamp", "list"):
        return pa.string()
    return {
        "timestamp": pa.timestamp("s"), "date": pa.date32(), "float": pa.float64(),
        "int": pa.int64(), "bool": pa.bool_(), "list": pa.list_(pa.string()),
    }.get(type_, pa.string())


def write_table(kind: str, table: pa.Table, path: Path, fmt: Format,
                column_types: dict[str, str] | None = None) -> Path:
    """Write a whole table in one go."""
    with TableWriter(kind, path, fmt, column_types) as writer:
        writer.write(table)
    return path

