"""A throw-away DuckDB database for staging a large computation outside the store.

Ingest validates a file chunk by chunk and stages the accepted rows here; the in-file
de-duplication and the comparison with the stored keys then run as SQL over the staged rows,
which DuckDB keeps in a database file of its own (with a spill folder beyond
``memory_limit``). Nothing in it outlives the ``with`` block, and the store itself is only
written in one transaction at the end, from a view of the rows to add (:meth:`Scratch.publish`):
the scratch connection is closed by then, so a DuckDB store reads the file itself and one
database engine, not two, holds memory during the write.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from personae.store.ddl import quote
from personae.store.duckdb import quiet

#: What the scratch database may hold in memory before it spills to its temporary folder.
SCRATCH_MEMORY = "400MB"


class Scratch:
    """A DuckDB database file with a spill folder (see the module docstring).

    >>> with scratch() as s:
    ...     s.append("t", pa.table({"a": [1, 2, 2]}))
    ...     s.append("t", pa.table({"a": [3]}))
    ...     s.sql("SELECT count(DISTINCT a) AS n FROM t").to_pylist()
    [{'n': 3}]
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path
        self._tables: set[str] = set()

    def append(self, name: str, data: pa.Table) -> None:
        """Append ``data`` to table ``name``, creating it from the first data's schema."""
        view = f"_in_{uuid.uuid4().hex}"
        self.con.register(view, data)
        try:
            if name in self._tables:
                self.con.execute(f"INSERT INTO {quote(name)} SELECT * FROM {view}")
            else:
                self.con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM {view}")
                self._tables.add(name)
        finally:
            self.con.unregister(view)

    def has(self, name: str) -> bool:
        return name in self._tables

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        self.con.execute(sql, params or [])

    def sql(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """The result of ``sql`` as one Arrow table (for small results)."""
        return self.con.execute(sql, params or []).to_arrow_table()

    def batches(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The result of ``sql`` ``rows`` at a time, never all at once."""
        reader = self.con.execute(sql).to_arrow_reader(rows)
        yield from reader

    def view(self, name: str, sql: str) -> None:
        """The view ``name`` over ``sql`` (built by the ingest loader like :meth:`execute`'s)."""
        self.con.execute(f"CREATE VIEW {quote(name)} AS {sql}")

    def publish(self, views: Mapping[str, str]) -> Path:
        """Make each SQL of ``views`` a view of that name and close the database: its file
        (returned) can then be read by another engine. Nothing may be asked of this scratch
        afterwards.

        >>> with scratch() as s:
        ...     s.append("t", pa.table({"a": [1, 2, 3]}))
        ...     path = s.publish({"big": "SELECT a FROM t WHERE a > 1"})
        ...     duckdb.connect(str(path), read_only=True).sql("SELECT sum(a) FROM big").fetchone()
        (5,)
        """
        for name, sql in views.items():
            self.view(name, sql)
        self.con.close()
        return self.path


@contextlib.contextmanager
def scratch(memory_limit: str = SCRATCH_MEMORY, threads: int | None = None) -> Iterator[Scratch]:
    """A :class:`Scratch` database, gone (with its spill folder) at the end of the block."""
    folder = tempfile.mkdtemp(prefix="personae-scratch-")
    path = Path(folder) / "scratch.duckdb"
    con = duckdb.connect(str(path))
    try:
        quiet(con)
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("SET temp_directory = ?", [str(Path(folder) / "spill")])
        con.execute("SET preserve_insertion_order = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        yield Scratch(con, path)
    finally:
        with contextlib.suppress(Exception):
            con.close()
        shutil.rmtree(folder, ignore_errors=True)
