"""Store operations that act on a person across tables, and rewriting the database file.

Engine-specific (DuckDB) SQL for the privacy features lives here, in the storage layer. Values
that come from people (ids, emails, patterns) travel as registered Arrow tables, never as SQL
text; table and column names come from the database's own catalog.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from personae.errors import StoreError
from personae.store.base import Store
from personae.store.ddl import quote
from personae.store.duckdb import quiet

log = logging.getLogger(__name__)


def table_columns(store: Store) -> dict[str, list[str]]:
    """Every base table of the database with its columns, in order."""
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.table_columns(store)  # type: ignore[arg-type]
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
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.delete_matching(store, table, columns, values)  # type: ignore[arg-type]
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
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.anonymise_matching(store, table, columns, values, token, clear)  # type: ignore[arg-type]
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
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.delete_text_matching(store, table, columns, patterns)  # type: ignore[arg-type]
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


#: Column types that hold text a person may be mentioned in.
_TEXT_TYPES = ("VARCHAR", "JSON", "VARCHAR[]", "JSON[]")


def text_columns(store: Store) -> dict[str, list[tuple[str, str]]]:
    """Every base table's text columns (plain, JSON or lists of them) with their type."""
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.text_columns(store)  # type: ignore[arg-type]
    rows = store.raw.execute(
        """SELECT c.table_name, c.column_name, c.data_type
           FROM information_schema.columns c JOIN information_schema.tables t
             ON c.table_name = t.table_name AND c.table_schema = t.table_schema
           WHERE t.table_type = 'BASE TABLE' AND c.table_schema = current_schema()
             AND t.table_catalog = current_database() AND c.data_type IN (SELECT unnest(?))
           ORDER BY c.table_name, c.ordinal_position""",
        [list(_TEXT_TYPES)],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


#: A mask as the store takes it: (pattern, replacement, only for a bare number in JSON).
MaskSpec = tuple[str, str, bool]


def _chain_sql(value: str, count: int) -> str:
    """``count`` masks applied twice each to ``value`` (SQL): ``regexp_replace`` calls whose
    pattern and replacement are parameters (:func:`_chain_params`, in the same order)."""
    expr = value
    for _ in range(2 * count):
        expr = f"regexp_replace({expr}, ?, ?, 'gi')"
    return expr


def _chain_params(masks: Sequence[MaskSpec]) -> list[str]:
    return [v for pattern, replacement, _ in masks for _ in range(2) for v in (pattern, replacement)]


def _mask_sql(value: str, texts: int, numbers: int) -> str:
    """SQL masking the text ``value`` (an SQL expression) — parameters: :func:`_mask_params`.

    Each mask runs twice (RE2 has no look-around: a boundary character a match consumed hides
    a mention right after it). A value that is a JSON document gets the bare-number masks
    first, so ``{"tel": 4155550100}`` becomes ``{"tel": null}``, still a document.
    """
    if not numbers:
        return _chain_sql(value, texts)
    return (
        f"CASE WHEN left(ltrim({value}), 1) IN ('{{', '[') AND json_valid({value}) "
        f"THEN {_chain_sql(_chain_sql(value, numbers), texts)} ELSE {_chain_sql(value, texts)} END"
    )


def _mask_params(masks: Sequence[MaskSpec]) -> list[str]:
    texts = [m for m in masks if not m[2]]
    numbers = [m for m in masks if m[2]]
    if not numbers:
        return _chain_params(texts)
    return _chain_params(numbers) + _chain_params(texts) + _chain_params(texts)


def _hit_sql(col: str, kind: str) -> str:
    """Whether column ``col`` mentions the person (one parameter: the masks' union)."""
    if kind.endswith("[]"):
        return f"len(list_filter({quote(col)}, lambda x: regexp_matches(CAST(x AS VARCHAR), ?, 'i'))) > 0"
    return f"coalesce(regexp_matches(CAST({quote(col)} AS VARCHAR), ?, 'i'), false)"


def _set_sql(col: str, kind: str, texts: int, numbers: int) -> str:
    """``col = <masked col>`` where it mentions the person (parameters: the union, the masks')."""
    if kind.endswith("[]"):
        masked = f"list_transform({quote(col)}, lambda x: {_mask_sql('CAST(x AS VARCHAR)', texts, numbers)})"
    else:
        masked = _mask_sql(f"CAST({quote(col)} AS VARCHAR)", texts, numbers)
    return f"{quote(col)} = CASE WHEN {_hit_sql(col, kind)} THEN {masked} ELSE {quote(col)} END"


def mask_text_columns(
    store: Store, table: str, columns: Sequence[tuple[str, str]], masks: Sequence[MaskSpec]
) -> dict[str, int]:
    """Mask every mention in the text ``columns`` of ``table``; how many values per column.

    One scan counts the values that mention the person (one pattern: the masks' union), one
    ``UPDATE`` rewrites just those — in SQL, the patterns bound as parameters. Lists of text
    are masked element by element.
    """
    if store.engine == "spark":
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        return spark_maintenance.mask_text_columns(store, table, columns, masks)  # type: ignore[arg-type]
    if not masks or not columns:
        return {}
    union = "|".join(f"(?:{m[0]})" for m in masks)
    counts = ", ".join(f"count(*) FILTER (WHERE {_hit_sql(c, k)})" for c, k in columns)
    row = store.raw.execute(f"SELECT {counts} FROM {quote(table)}", [union] * len(columns)).fetchone()
    found = {c: int(n) for (c, _), n in zip(columns, row or (), strict=True) if n}
    if not found:
        return {}
    hits = [(c, k) for c, k in columns if c in found]
    texts, numbers = sum(1 for m in masks if not m[2]), sum(1 for m in masks if m[2])
    sets = ", ".join(_set_sql(c, k, texts, numbers) for c, k in hits)
    conds = " OR ".join(_hit_sql(c, k) for c, k in hits)
    params = [v for _ in hits for v in (union, *_mask_params(masks))] + [union] * len(hits)
    store.raw.execute(f"UPDATE {quote(table)} SET {sets} WHERE {conds}", params)
    return found


def _literal(path: Path) -> str:
    """A file path as an SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def rewrite_file(store: Store) -> None:
    """Rewrite the database into a fresh file, so deleted rows leave no bytes behind.

    DuckDB, like most databases, marks the blocks of deleted rows free but does not wipe them;
    a copy holds only live data. See :func:`compact_file` (which does it, and checks it).
    """
    if store.engine == "spark":  # rewritten parts replaced the old ones: sweep what is left
        from personae.store import spark_maintenance  # start-up: pyspark, Spark only

        spark_maintenance.sweep(store)  # type: ignore[arg-type]
        return
    compact_file(store)


#: A DuckDB file starts with a header of three 4 KiB blocks, then its data blocks.
_HEADER_BYTES = 3 * 4096
#: After a failed ingest, the file is compacted when it holds more than this many bytes no
#: table uses — and more than :data:`COMPACT_AFTER_FAILURE_SHARE` of the file: copying a large
#: database costs minutes, not worth it for a few per cent.
COMPACT_AFTER_FAILURE_BYTES = 16 * 2**20
COMPACT_AFTER_FAILURE_SHARE = 0.10


@dataclass(frozen=True)
class Compacted:
    """What :func:`compact_file` did: the file's size before and after, the rows it checked."""

    path: str
    bytes_before: int
    bytes_after: int
    tables: int
    rows: int

    @property
    def given_back(self) -> int:
        return max(self.bytes_before - self.bytes_after, 0)


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(str(path) + ".wal")) if p.exists())


def reclaimable_bytes(store: Store) -> int:
    """Bytes of the database file that no table uses (blocks freed by a rolled-back or killed
    write: DuckDB reuses them but never shrinks the file). 0 for an in-memory database.

    After a reopen DuckDB counts only the blocks up to the last one in use, so the file's own
    size is compared with the blocks in use, not DuckDB's ``free_blocks``.
    """
    if store.path == ":memory:" or not hasattr(store, "raw"):
        return 0
    row = store.raw.execute("SELECT block_size, used_blocks FROM pragma_database_size()").fetchone()
    if row is None:
        return 0
    block_size, used = int(row[0]), int(row[1])
    size = Path(store.path).stat().st_size if Path(store.path).exists() else 0
    return max(size - _HEADER_BYTES - used * block_size, 0)


def compact_file(store: Store) -> Compacted:
    """Copy the database into a fresh file that holds only live data, check it, swap it in.

    Why a copy: DuckDB frees the blocks of deleted rows (and of a rolled-back or killed ingest)
    for reuse but never gives them back to the file system; ``ATTACH`` + ``COPY FROM DATABASE``
    writes only what is live. Safe at every step: the copy is written next to the file
    (``<db>.compact``), every table's row count is compared with the original's, the copy is
    synced, then moved over the file in one rename (the directory synced too) — a crash leaves
    the old file or the new one, never a mix, and a failed check leaves the old file untouched.
    ``store`` is reconnected to the file in place. An in-memory database is left as it is.
    """
    if store.path == ":memory:":
        return Compacted(":memory:", 0, 0, 0, 0)
    path = Path(store.path).resolve()
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, Path(str(fresh) + ".wal"), path.with_name(path.name + ".rewrite")):
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(duckdb.Error):  # after a FATAL error the connection is unusable
        store.raw.execute("CHECKPOINT")
    store.close()
    before = _file_bytes(path)
    try:
        tables, rows = _copy_and_check(path, fresh)
        with open(fresh, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(fresh, path)
        Path(str(path) + ".wal").unlink(missing_ok=True)
        _sync_dir(path.parent)
    except Exception as exc:
        fresh.unlink(missing_ok=True)
        Path(str(fresh) + ".wal").unlink(missing_ok=True)
        raise StoreError(
            f"could not compact {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            hint="the database is intact; free some disk space (the copy needs room for the live data) "
            "and run `personae maintenance compact` again",
        ) from exc
    finally:
        store.backend = ibis.duckdb.connect(str(path))
        quiet(store.backend.con)
    return Compacted(str(path), before, _file_bytes(path), tables, rows)


def _copy_and_check(path: Path, fresh: Path) -> tuple[int, int]:
    """Copy ``path`` into ``fresh``; the number of tables and rows, equal in both (else an error)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {_literal(path)} AS src (READ_ONLY)")
        con.execute(f"ATTACH {_literal(fresh)} AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        counts: dict[str, dict[tuple[str, str], int]] = {}
        for db in ("src", "dst"):
            names = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
                "ORDER BY schema_name, table_name",
                [db],
            ).fetchall()
            counts[db] = {}
            for schema, table in names:
                row = con.execute(f"SELECT count(*) FROM {db}.{quote(schema)}.{quote(table)}").fetchone()
                counts[db][(schema, table)] = int(row[0]) if row else -1
        if counts["src"] != counts["dst"]:
            differ = sorted(
                f"{t}: {counts['src'].get(k)} → {counts['dst'].get(k)}"
                for k in counts["src"].keys() | counts["dst"].keys()
                for t in [".".join(k)]
                if counts["src"].get(k) != counts["dst"].get(k)
            )
            raise StoreError(f"the copy differs from the database ({'; '.join(differ[:5])})")
        con.execute("DETACH src")
        con.execute("DETACH dst")
    finally:
        con.close()
    return len(counts["src"]), sum(counts["src"].values())


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX: the directory entry is data of the folder)."""
    with contextlib.suppress(OSError):  # not every platform opens folders
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def compact_if_worth_it(store: Store) -> Compacted | None:
    """After a failed write (an ingest rolled back): compact when the rolled-back rows left more
    than :data:`COMPACT_AFTER_FAILURE_BYTES` and :data:`COMPACT_AFTER_FAILURE_SHARE` of the file
    unused. Best effort: the failure that got here is what the user must see, so a compaction
    that cannot run (a full disk has no room for the copy) is logged, not raised."""
    try:
        spare = reclaimable_bytes(store)
        size = Path(store.path).stat().st_size if store.path != ":memory:" else 0
    except (duckdb.Error, OSError) as exc:
        log.warning("could not measure the space a failed write left in %s: %s", store.path, exc)
        return None
    if spare <= COMPACT_AFTER_FAILURE_BYTES or spare <= COMPACT_AFTER_FAILURE_SHARE * size:
        return None
    try:
        done = compact_file(store)
    except StoreError as exc:
        log.warning("%s", exc)
        return None
    log.info("compacted %s after a failed write: %d bytes given back", store.path, done.given_back)
    return done
