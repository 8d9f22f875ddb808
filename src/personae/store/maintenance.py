"""Store operations that act on a person across tables, and rewriting the database file.

Engine-specific (DuckDB) SQL for the privacy features lives here, in the storage layer. Values
that come from people (ids, emails, patterns) travel as registered Arrow tables, never as SQL
text; table and column names come from the database's own catalog.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from personae.errors import StoreError
from personae.store.base import Store
from personae.store.ddl import quote


def table_columns(store: Store) -> dict[str, list[str]]:
    """Every base table of the database with its columns, in order."""
    rows = store.raw.execute(
        """SELECT c.table_name, c.column_name
           FROM information_schema.columns c JOIN information_schema.tables t
             ON c.table_name = t.table_name AND c.table_schema = t.table_schema
           WHERE t.table_type = 'BASE TABLE' AND c.table_schema = current_schema()
             AND t.table_catalog = current_database()
           ORDER BY c.table_name, c.ordinal_position"""
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


@contextlib.contextmanager
def _values(store: Store, values: Iterable[str]) -> Iterator[str]:
    view = f"_vals_{uuid.uuid4().hex}"
    store.raw.register(view, pa.table({"v": pa.array(sorted(set(values)), pa.string())}))
    try:
        yield view
    finally:
        store.raw.unregister(view)


def _where_any_in(columns: Sequence[str], view: str) -> str:
    return " OR ".join(f"CAST({quote(c)} AS VARCHAR) IN (SELECT v FROM {view})" for c in columns)


def rows_matching(store: Store, table: str, columns: Sequence[str], values: Iterable[str]) -> pa.Table:
    """The rows of ``table`` where any of ``columns`` holds one of ``values``."""
    with _values(store, values) as view:
        return store.raw.execute(
            f"SELECT * FROM {quote(table)} WHERE {_where_any_in(columns, view)}"
        ).to_arrow_table()


def delete_matching(store: Store, table: str, columns: Sequence[str], values: Iterable[str]) -> int:
    """Delete the rows where any of ``columns`` holds one of ``values``; the number deleted."""
    with _values(store, values) as view:
        row = store.raw.execute(f"DELETE FROM {quote(table)} WHERE {_where_any_in(columns, view)}").fetchone()
    return int(row[0]) if row else 0


def anonymise_matching(
    store: Store,
    table: str,
    columns: Sequence[str],
    values: Iterable[str],
    token: str,
    clear: Sequence[str] = (),
) -> int:
    """Re-key the matching rows to ``token`` and empty the ``clear`` columns."""
    token_view = f"_token_{uuid.uuid4().hex}"
    sets = [f"{quote(c)} = (SELECT t FROM {token_view})" for c in columns]
    sets += [f"{quote(c)} = NULL" for c in clear]
    store.raw.register(token_view, pa.table({"t": pa.array([token], pa.string())}))
    try:
        with _values(store, values) as view:
            sql = f"UPDATE {quote(table)} SET {', '.join(sets)} WHERE {_where_any_in(columns, view)}"
            row = store.raw.execute(sql).fetchone()
    finally:
        store.raw.unregister(token_view)
    return int(row[0]) if row else 0


def delete_before(store: Store, table: str, column: str, cutoff: datetime) -> int:
    """Delete the rows of ``table`` whose ``column`` is before ``cutoff``."""
    row = store.raw.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} < ?", [cutoff]).fetchone()
    return int(row[0]) if row else 0


def delete_text_matching(store: Store, table: str, columns: Sequence[str], patterns: Iterable[str]) -> int:
    """Delete rows whose text in any of ``columns`` matches any pattern (case-insensitive)."""
    patterns = list(patterns)
    if not patterns or not columns:
        return 0
    view = f"_pat_{uuid.uuid4().hex}"
    store.raw.register(view, pa.table({"p": pa.array(patterns, pa.string())}))
    try:
        cond = " OR ".join(
            f"EXISTS (SELECT 1 FROM {view} WHERE regexp_matches(CAST({quote(c)} AS VARCHAR), p, 'i'))"
            for c in columns
        )
        row = store.raw.execute(f"DELETE FROM {quote(table)} WHERE {cond}").fetchone()
    finally:
        store.raw.unregister(view)
    return int(row[0]) if row else 0


def _literal(path: Path) -> str:
    """A file path as an SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def rewrite_file(store: Store) -> None:
    """Rewrite the database into a fresh file, so deleted rows leave no bytes behind.

    DuckDB, like most databases, marks the blocks of deleted rows free but does not wipe them;
    a copy holds only live data. The copy is written next to the file and moved over it in one
    rename, so a crash leaves either the old file or the new one. ``store`` is reconnected to
    the new file in place. An in-memory database has no file and is left as it is.
    """
    if store.path == ":memory:":
        return
    path = Path(store.path).resolve()
    fresh = path.with_name(path.name + ".rewrite")
    for leftover in (fresh, Path(str(fresh) + ".wal")):
        leftover.unlink(missing_ok=True)
    store.raw.execute("CHECKPOINT")
    store.close()
    try:
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"ATTACH {_literal(path)} AS src (READ_ONLY)")
            con.execute(f"ATTACH {_literal(fresh)} AS dst")
            con.execute("COPY FROM DATABASE src TO dst")
            con.execute("DETACH src")
            con.execute("DETACH dst")
        finally:
            con.close()
        with open(fresh, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(fresh, path)
        Path(str(path) + ".wal").unlink(missing_ok=True)
    except Exception as exc:
        fresh.unlink(missing_ok=True)
        raise StoreError(f"could not rewrite {path}: {exc}", hint="the data is intact; run it again") from exc
    finally:
        store.backend = ibis.duckdb.connect(str(path))
