"""A warehouse: a folder (or bucket prefix) of Parquet tables, versioned by one manifest.

This is what the Spark engine reads and writes instead of a DuckDB file. Each table is a
list of *parts*, each part a directory of Parquet files (``<table>/<uuid>/part-….parquet``).
The manifest (``_personae_manifest.json`` at the root) says which parts make up each table.

Why a manifest rather than "the files in ``<table>/``": it is the one thing a commit has
to change, so a commit is one atomic file replacement (a rename on a local or HDFS file
system, a single object write on S3/GCS, where directory renames do not exist). Writers
first write new parts, then commit the manifest, then delete the parts no longer listed;
a reader never sees half a write, and a crash leaves only unreferenced (invisible) parts.
Several tables written in one :meth:`~personae.store.spark.SparkStore.transaction` commit
together. What it does not give: concurrent writers (the last commit wins) — one writer at
a time, as with a DuckDB file.

Pure Arrow (``pyarrow.fs``): exporting a DuckDB database to a warehouse needs no JVM.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from personae.errors import StoreError

MANIFEST = "_personae_manifest.json"
FORMAT = 1

#: Spark's Hadoop schemes that pyarrow spells differently.
_ARROW_SCHEMES = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}


@dataclass(frozen=True)
class Warehouse:
    """Where the tables live: ``uri`` as Spark reads it, ``fs``/``root`` as Arrow writes it."""

    uri: str
    fs: pafs.FileSystem
    root: str

    @classmethod
    def at(cls, location: str | Path) -> Warehouse:
        """A warehouse at a local path or a URI (``s3a://bucket/prefix``, ``hdfs://…``, ``file://…``)."""
        text = str(location)
        scheme = urlparse(text).scheme
        if len(scheme) <= 1:  # a local path (one letter: a Windows drive)
            root = str(Path(text).expanduser().resolve())
            return cls(uri=root, fs=pafs.LocalFileSystem(), root=root)
        arrow_uri = _ARROW_SCHEMES.get(scheme, scheme) + text[len(scheme) :]
        try:
            fs, root = pafs.FileSystem.from_uri(arrow_uri)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise StoreError(f"cannot open warehouse {text}: {exc}") from exc
        return cls(uri=text.rstrip("/"), fs=fs, root=root.rstrip("/"))

    # -- paths ---------------------------------------------------------------------------------
    def path(self, relative: str) -> str:
        """Where Arrow finds ``relative``."""
        return f"{self.root}/{relative}"

    def spark_path(self, relative: str) -> str:
        """Where Spark finds ``relative``."""
        return f"{self.uri}/{relative}"

    @staticmethod
    def new_part(table: str) -> str:
        """A fresh part directory for ``table`` (unique, so writers never overwrite a part)."""
        return f"{table}/{uuid.uuid4().hex}"

    # -- the manifest --------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.fs.get_file_info(self.path(MANIFEST)).type == pafs.FileType.File

    def create(self) -> None:
        """An empty warehouse (no-op when one is already there)."""
        info = self.fs.get_file_info(self.root)
        if info.type == pafs.FileType.File:
            raise StoreError(f"cannot create warehouse {self.uri}: it is a file")
        self.fs.create_dir(self.root, recursive=True)
        if not self.exists():
            self.commit({})

    def load(self) -> dict[str, list[str]]:
        """Table name → its parts, as last committed."""
        if not self.exists():
            raise StoreError(
                f"no personae warehouse at {self.uri}",
                hint="export a database into it with `personae warehouse export --to " + self.uri + "`",
            )
        with self.fs.open_input_stream(self.path(MANIFEST)) as f:
            data: dict[str, Any] = json.loads(f.read().decode("utf-8"))
        if data.get("format", 0) > FORMAT:
            raise StoreError(
                f"warehouse {self.uri} was written by a newer personae (format {data.get('format')})",
                hint="upgrade personae",
            )
        return {name: list(entry["parts"]) for name, entry in data.get("tables", {}).items()}

    def commit(self, tables: Mapping[str, list[str]]) -> None:
        """Make ``tables`` the warehouse's content in one atomic step (write aside, then move)."""
        body = {"format": FORMAT, "tables": {n: {"parts": list(p)} for n, p in sorted(tables.items())}}
        temp = self.path(f"{MANIFEST}.{uuid.uuid4().hex}.tmp")
        with self.fs.open_output_stream(temp) as f:
            f.write(json.dumps(body, indent=1).encode("utf-8"))
        self.fs.move(temp, self.path(MANIFEST))

    def delete_parts(self, parts: Iterable[str]) -> None:
        """Remove parts no table lists any more."""
        for part in parts:
            if self.fs.get_file_info(self.path(part)).type == pafs.FileType.Directory:
                self.fs.delete_dir(self.path(part))

    # -- Arrow reads and writes ----------------------------------------------------------------
    def write_part(self, table: str, data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema) -> str:
        """Write Arrow data as a new part of ``table`` (one file; empty data still records the schema)."""
        part = self.new_part(table)
        self.fs.create_dir(self.path(part), recursive=True)
        with pq.ParquetWriter(self.path(f"{part}/part-00000.parquet"), schema, filesystem=self.fs) as w:
            if isinstance(data, pa.Table):
                w.write_table(data)
            else:
                for batch in data:
                    w.write_batch(batch)
        return part

    def read_schema(self, parts: list[str]) -> pa.Schema:
        """The Arrow schema of a table's first part (all parts share it: writers cast to it)."""
        return ds.dataset(self.path(parts[0]), filesystem=self.fs, format="parquet").schema

    def read_arrow(self, parts: list[str]) -> pa.Table:
        """A whole table as Arrow (tests and small tables; Spark reads the big ones)."""
        tables = [ds.dataset(self.path(p), filesystem=self.fs, format="parquet").to_table() for p in parts]
        return pa.concat_tables(tables)


def table_rows(warehouse: Warehouse, parts: list[str]) -> int:
    """Rows of a table from the Parquet footers alone (no data read, no JVM)."""
    return sum(
        ds.dataset(warehouse.path(p), filesystem=warehouse.fs, format="parquet").count_rows() for p in parts
    )
