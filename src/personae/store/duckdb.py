"""The DuckDB store: one database file behind Ibis (the embedded default engine).

Implements the :class:`~personae.store.base.Store` contract; the DuckDB-only extras are the raw
connection, thread and checkpoint settings and the bound point reads the real-time service uses.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from personae.errors import NotFoundError, StoreError
from personae.store.base import Store
from personae.store.ddl import quote
from personae.store.journal import replay_at_open
from personae.store.migrations import migrate

DEFAULT_DB = Path("personae.duckdb")


def default_db_path() -> Path:
    """``$PERSONAE_DB`` if set, else ``./personae.duckdb``."""
    return Path(os.environ.get("PERSONAE_DB") or DEFAULT_DB)


class DuckDBStore(Store):
    """An open personae database file.

    Use :meth:`open` (which migrates the schema) rather than the constructor.
    """

    engine = "duckdb"

    def __init__(self, backend: Any, path: str) -> None:
        super().__init__(backend, path)
        #: compiled SQL of :meth:`cached_arrow` by key: (schema version, SQL)
        self._compiled: dict[str, tuple[str, str]] = {}
        #: (connection, cursor) that :meth:`write_many` writes through
        self._writer: tuple[Any, Any] | None = None
        #: the ``memory_limit`` the store was opened with (``None``: DuckDB's default)
        self.memory_limit: str | None = None
        #: databases :meth:`append_from` attached, detached when the transaction ends
        self._attached: list[str] = []

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, memory_limit: str | None = None) -> DuckDBStore:
        """Open (creating if needed) and migrate the database at ``path``.

        ``":memory:"`` gives a throw-away in-memory database (tests, experiments).
        ``memory_limit`` (e.g. ``"3GB"``, the ``memory_limit`` setting) caps what a query may
        hold; beyond it DuckDB spills to disk rather than growing.
        """
        target = str(path if path is not None else default_db_path())
        if target != ":memory:":
            parent = Path(target).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"cannot create database {target}: folder {parent} does not exist")
        try:
            backend = ibis.duckdb.connect(target)
            quiet(backend.con)
        except Exception as exc:  # duckdb raises IOException, locking errors, corrupt files…
            raise StoreError(f"cannot open database {target}: {exc}") from exc
        if memory_limit:
            try:
                backend.con.execute("SET memory_limit = ?", [memory_limit])
            except Exception as exc:
                backend.disconnect()
                raise StoreError(
                    f"memory_limit {memory_limit!r} is not a size DuckDB understands: {exc}",
                    hint="use a size such as '3GB' or '800MB'",
                ) from exc
        try:
            migrate(backend.con, path=target)
            store = cls(backend, target)
            store.memory_limit = memory_limit
            # groups the service acknowledged but had not applied when it stopped (a crash)
            replay_at_open(store)
        except BaseException:
            # a refused (newer) or failed migration must not keep the file open and locked
            with contextlib.suppress(Exception):
                backend.disconnect()
            raise
        return store

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer[1].close()
            self._writer = None
        with contextlib.suppress(Exception):
            self.backend.disconnect()

    @property
    def raw(self) -> Any:
        """The underlying DuckDB connection — for the storage layer and the service only."""
        return self.backend.con

    # -- reading -----------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        """Whether a table or view ``name`` exists (what Ibis' ``list_tables`` lists: the current
        schema, temporary ones included) — one bound query rather than building the list."""
        row = self.raw.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog IN (current_database(), 'temp') AND table_schema = current_schema()",
            [name],
        ).fetchone()
        return bool(row and row[0])

    def base_tables(self) -> list[str]:
        """The stored tables (not views or scratch tables), sorted; bookkeeping ones left out."""
        rows = self.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows if not r[0].startswith("_personae")]

    def table(self, name: str) -> ibis.Table:
        """The Ibis expression for a stored table."""
        if not self.has_table(name):
            raise NotFoundError(
                f"no table {name!r} in {self.path}",
                hint="ingest data or run `personae build` first",
            )
        return self.backend.table(name)

    def set_threads(self, threads: int) -> None:
        """DuckDB's worker threads for this database (every connection and cursor on it)."""
        self.raw.execute("SET threads = ?", [int(threads)])

    def set_checkpoint_threshold(self, megabytes: int) -> None:
        """The WAL size at which DuckDB checkpoints (for this database)."""
        self.raw.execute("SET checkpoint_threshold = ?", [f"{int(megabytes)}MB"])

    def cached_arrow(self, key: str, build: Callable[..., ibis.Expr], *params: str) -> pa.Table:
        """``to_arrow(build(*params))``, with the query compiled once and reused.

        Why: building and compiling an Ibis query (with the schema look-ups it makes) costs tens
        of milliseconds of Python, a point read in DuckDB a fraction of one — the real-time
        service reads one customer's profile that way on every request. ``build`` is called
        with placeholder strings; the compiled SQL takes ``params`` as bound parameters. The
        compiled query is kept per ``key`` while the schema is unchanged (every table's and
        view's id and column count, one catalog query): a rebuilt ``traits`` table compiles
        anew, so new columns are read. ``build`` must give the same query shape for any
        parameter values (they are bound, never part of the SQL).
        """
        version = self.raw.execute(
            "SELECT string_agg(table_name || ':' || table_oid || ':' || column_count, ',') "
            "FROM (SELECT table_name, table_oid, column_count FROM duckdb_tables() UNION ALL "
            "SELECT view_name, view_oid, column_count FROM duckdb_views() WHERE NOT internal)"
        ).fetchone()[0]
        cached = self._compiled.get(key)
        if cached is None or cached[0] != version:
            marks = [f"personae_param_{uuid.uuid4().hex}" for _ in params]
            sql = ibis.to_sql(build(*marks), dialect="duckdb")
            for i, mark in enumerate(marks):
                if f"'{mark}'" not in sql:  # folded away or transformed: no safe way to bind it
                    return self.to_arrow(build(*params))
                sql = sql.replace(f"'{mark}'", f"${i + 1}")
            cached = self._compiled[key] = (version, str(sql))
        return self.raw.execute(cached[1], list(params)).to_arrow_table()

    def count(self, name: str) -> int:
        return int(self.raw.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0])

    # -- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all (also on Ctrl-C)."""
        if self._in_transaction:
            yield
            return
        self.raw.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        else:
            self.raw.execute("COMMIT")
        finally:
            self._in_transaction = False
            self._detach_attached()

    def append(self, name: str, data: pa.Table | pd.DataFrame, *, columns: list[str] | None = None) -> int:
        """Append rows (matched by column name) to an existing table."""
        arrow = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        if arrow.num_rows == 0:
            return 0
        cols = columns or arrow.column_names
        view = f"_append_{uuid.uuid4().hex}"
        self.raw.register(view, arrow)
        try:
            names = ", ".join(quote(c) for c in cols)
            self.raw.execute(f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM {view}")
        finally:
            self.raw.unregister(view)
        return arrow.num_rows

    def _detach_attached(self) -> None:
        """Detach what :meth:`append_from` attached (a rollback may have undone the ATTACH)."""
        while self._attached:
            alias = self._attached.pop()
            with contextlib.suppress(Exception):
                self.raw.execute(f"DETACH {quote(alias)}")

    @contextlib.contextmanager
    def memory_capped(self, limit: str) -> Iterator[None]:
        """``memory_limit`` lowered to ``limit`` inside the block (never raised), then restored.

        A long streamed write holds its uncommitted rows in the buffer pool up to the limit:
        ingest caps it so that its peak stays bounded whatever the ``memory_limit`` setting.
        """
        before = self.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        if _bytes(limit) >= _bytes(before):  # never loosen a stricter setting
            yield
            return
        self.raw.execute("SET memory_limit = ?", [limit])
        try:
            yield
        finally:
            if self.memory_limit:
                self.raw.execute("SET memory_limit = ?", [self.memory_limit])
            else:
                self.raw.execute("RESET memory_limit")

    def append_batches(self, name: str, batches: pa.RecordBatchReader) -> int:
        """Append a stream of rows in ONE statement: DuckDB writes the row groups out as they
        fill, so memory stays flat (batch by batch, a transaction's appends stay in memory)."""
        counted = [0]

        def count() -> Iterator[pa.RecordBatch]:
            for b in batches:
                counted[0] += b.num_rows
                yield b

        reader = pa.RecordBatchReader.from_batches(batches.schema, count())
        names = ", ".join(quote(c) for c in batches.schema.names)
        view = f"_append_{uuid.uuid4().hex}"
        self.raw.register(view, reader)
        try:
            self.raw.execute(f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM {view}")
        finally:
            self.raw.unregister(view)
        return counted[0]

    def append_from(
        self,
        name: str,
        database: Path,
        relation: str,
        progress: Callable[[float], None] | None = None,
        *,
        skip_existing: Sequence[str] = (),
        values: Mapping[str, Any] | None = None,
    ) -> int:
        """Append every row of ``relation`` of the DuckDB file ``database`` in ONE ``INSERT``,
        the file attached read-only for it; ``progress`` gets DuckDB's own estimate of the
        statement's progress (0 to 1) every half second while it runs.

        Attached before and detached after the caller's transaction would be the same: an
        ``ATTACH`` inside a transaction is undone with it, so a failed ingest leaves no trace.
        """
        alias = f"_src_{uuid.uuid4().hex}"
        self.raw.execute(f"ATTACH {_literal(str(database))} AS {quote(alias)} (READ_ONLY)")
        # a database the transaction read cannot be detached before it ends
        self._attached.append(alias)
        extra = dict(values or {})
        constants = "".join(f", ? AS {quote(c)}" for c in extra)
        source = f"{quote(alias)}.{quote(relation)} r"
        if skip_existing:
            keys = ", ".join(quote(c) for c in skip_existing)
            source += f" ANTI JOIN {quote(name)} USING ({keys})"
        try:
            with _progress_polled(self.raw, progress):
                row = self.raw.execute(
                    f"INSERT INTO {quote(name)} BY NAME SELECT r.*{constants} FROM {source}",
                    list(extra.values()),
                ).fetchone()
        finally:
            if not self._in_transaction:
                self._detach_attached()
        return int(row[0]) if row else 0

    def replace(self, name: str, data: pa.Table | pd.DataFrame | ibis.Table) -> None:
        """Create or replace a derived table (traits, model outputs, snapshots)."""
        if isinstance(data, ibis.Expr):
            sql = ibis.to_sql(data, dialect="duckdb")
            self.raw.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS {sql}")
            return
        arrow = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        view = f"_replace_{uuid.uuid4().hex}"
        self.raw.register(view, arrow)
        try:
            self.raw.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS SELECT * FROM {view}")
        finally:
            self.raw.unregister(view)

    @contextlib.contextmanager
    def staged(self, tables: Mapping[str, ibis.Table]) -> Iterator[dict[str, ibis.Table]]:
        """Compute ``tables`` once into temporary tables, for several queries that read them.

        Inside the block the returned tables read the stored rows; they are dropped at the end.
        Use it when one intermediate feeds queries that must run one after another (see
        :meth:`replace_in_parts`), which would otherwise each compute it again.
        """
        names = {key: f"_stage_{key}_{uuid.uuid4().hex[:8]}" for key in tables}
        try:
            for key, expr in tables.items():
                sql = ibis.to_sql(expr, dialect="duckdb")
                self.raw.execute(f"CREATE TEMP TABLE {quote(names[key])} AS {sql}")
            yield {key: self.backend.table(names[key]) for key in tables}
        finally:
            for name in names.values():
                with contextlib.suppress(Exception):
                    self.raw.execute(f"DROP TABLE IF EXISTS {quote(name)}")

    def replace_in_parts(self, name: str, parts: Sequence[ibis.Table]) -> None:
        """Create or replace a derived table as the union of ``parts``, computed one at a time.

        For tables whose parts aggregate independently (e.g. affinities per kind): one query
        per part holds one part's hash tables in memory instead of all of them at once, so a
        big build stays inside ``memory_limit`` without spilling. All or nothing: in one
        transaction.
        """
        if not parts:
            raise ValueError("replace_in_parts needs at least one part")
        with self.transaction():
            self.replace(name, parts[0])
            names = ", ".join(quote(c) for c in parts[0].columns)
            for part in parts[1:]:
                sql = ibis.to_sql(part.select(*parts[0].columns), dialect="duckdb")
                self.raw.execute(f"INSERT INTO {quote(name)} ({names}) {sql}")

    def drop(self, name: str) -> None:
        """Drop a derived table if it exists."""
        self.raw.execute(f"DROP TABLE IF EXISTS {quote(name)}")

    def delete_where_in(self, name: str, column: str, values: pa.Array | list[str]) -> None:
        """Delete the rows whose ``column`` is one of ``values``."""
        arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
        if len(arr) == 0:
            return
        view = f"_delete_{uuid.uuid4().hex}"
        self.raw.register(view, pa.table({"v": arr}))
        try:
            self.raw.execute(f"DELETE FROM {quote(name)} WHERE {quote(column)} IN (SELECT v FROM {view})")
        finally:
            self.raw.unregister(view)

    def write_groups(
        self,
        groups: Sequence[tuple[Sequence[tuple[str, pa.Table]], Sequence[tuple[str, pa.Table]]]],
        *,
        join: bool = True,
    ) -> None:
        """Several :meth:`write_many` calls, in order, as ONE transaction.

        The service's applier catches up on a backlog of groups (after a checkpoint held it)
        with one commit instead of one per group; each group's deletes still come before its
        own appends and after the groups before it. ``join=False``: a transaction of its own
        even while another thread has a :meth:`transaction` open on the main connection.
        """
        work = _coalesce(
            [
                (name, table, is_delete)
                for deletes, appends in groups
                for name, table, is_delete in (
                    *((n, k, True) for n, k in deletes),
                    *((n, r, False) for n, r in appends),
                )
                if table.num_rows
            ]
        )
        if not work:
            return
        own = not (join and self._in_transaction)
        # Ibis turns DuckDB's replacement scans off (so table names never resolve to Python
        # variables by accident). The statements below name a variable, so they run on a cursor
        # of their own with the scans on — or, inside an open transaction (which belongs to the
        # main connection), on it with the scans on for these statements only.
        con = self._write_cursor() if own else self.raw
        if not own:
            con.execute("SET python_enable_replacements = true")
        try:
            if own:
                con.execute("BEGIN TRANSACTION")
            for name, _personae_rows, is_delete in work:
                # DuckDB reads the Arrow table through the local variable ``_personae_rows`` (its
                # replacement scan): no register/unregister pair per table, which cost about as
                # much as the statement itself for the small groups the service writes
                cols = _personae_rows.column_names
                if is_delete:
                    match = " AND ".join(f"t.{quote(c)} = k.{quote(c)}" for c in cols)
                    sql = f"DELETE FROM {quote(name)} AS t USING _personae_rows AS k WHERE {match}"
                else:
                    names = ", ".join(quote(c) for c in cols)
                    sql = f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM _personae_rows"
                con.execute(sql)
            if own:
                con.execute("COMMIT")
        except BaseException:
            if own:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
            raise
        finally:
            if not own:
                with contextlib.suppress(Exception):
                    con.execute("SET python_enable_replacements = false")

    def _write_cursor(self) -> Any:
        """A cursor of the current connection with replacement scans on, for :meth:`write_many`
        (made again when the store was reconnected, e.g. after an erasure rewrote the file)."""
        if self._writer is None or self._writer[0] is not self.raw:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer[1].close()
            cursor = self.raw.cursor()
            cursor.execute("SET python_enable_replacements = true")
            self._writer = (self.raw, cursor)
        return self._writer[1]

    def rows_where_in(
        self, name: str, column: str, values: Sequence[str], columns: Sequence[str]
    ) -> pa.Table:
        """``columns`` of the rows of ``name`` whose ``column`` is one of ``values``.

        A point read with a bound list, no Ibis compile: the service reads the stored profiles
        an ``identify`` merges into on every such group (the compile was ~8% of its CPU).
        """
        cols = ", ".join(quote(c) for c in columns)
        sql = f"SELECT {cols} FROM {quote(name)} WHERE {quote(column)} IN (SELECT unnest(?::VARCHAR[]))"
        return self.raw.execute(sql, [list(values)]).to_arrow_table()

    def where_in(self, expr: ibis.Table, column: str, values: Sequence[str]) -> pa.Table:
        """The rows of ``expr`` whose ``column`` is one of ``values``, the values bound.

        The Ibis expression is compiled without them (it holds no value from a request); the
        values travel as one bound ``VARCHAR[]`` parameter, so a NUL byte or a quote in an id
        typed into a lookup is just a value that matches nothing.
        """
        sql = ibis.to_sql(expr, dialect="duckdb")
        bound = f"SELECT * FROM ({sql}) AS q WHERE q.{quote(column)} IN (SELECT unnest(?::VARCHAR[]))"
        return self.raw.execute(bound, [[str(v) for v in values]]).to_arrow_table()

    def existing_keys(self, name: str, column: str, keys: pa.Array) -> pa.Table:
        """Which of ``keys`` already exist in ``name.column`` (with their ``_row_hash``)."""
        view = f"_keys_{uuid.uuid4().hex}"
        self.raw.register(view, pa.table({"k": keys}))
        try:
            return self.raw.execute(
                f"SELECT t.{quote(column)} AS k, t._row_hash AS h FROM {quote(name)} t "
                f"SEMI JOIN {view} v ON t.{quote(column)} = v.k"
            ).to_arrow_table()
        finally:
            self.raw.unregister(view)


def _bytes(size: str) -> float:
    """DuckDB's shown size (``"953.6 MiB"``, ``"2.7 GiB"``) in bytes.

    >>> _bytes("953.6 MiB") < _bytes("1.0 GiB") < _bytes("3GB")
    True
    """
    number, _, unit = size.strip().partition(" ")
    if not unit:
        digits = size.strip().rstrip("BbKkMmGgTtIi")
        number, unit = digits, size.strip()[len(digits) :]
    scale = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
    scale |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
    return float(number) * scale.get(unit.upper(), 1)


def _coalesce(work: list[tuple[str, pa.Table, bool]]) -> list[tuple[str, pa.Table, bool]]:
    """Merge appends to the same table into one statement where the order allows it.

    An append to a table joins the table's previous append when no delete from that table came
    in between (moving it earlier past statements on *other* tables changes nothing) and the
    rows have the same schema. Why: a backlog of groups applied as one transaction (after a
    checkpoint held the service's applier) costs one INSERT per table instead of one per group
    and table — each statement costs about a millisecond and several GIL hand-overs.
    """
    out: list[tuple[str, pa.Table, bool]] = []
    open_append: dict[str, int] = {}  # table -> index in ``out`` of its append still open
    for name, table, is_delete in work:
        if is_delete:
            open_append.pop(name, None)
            out.append((name, table, True))
            continue
        at = open_append.get(name)
        if at is not None and out[at][1].schema.equals(table.schema):
            out[at] = (name, pa.concat_tables([out[at][1], table]), False)
            continue
        open_append[name] = len(out)
        out.append((name, table, False))
    return out


def quiet(con: Any) -> None:
    """``con`` with DuckDB's progress bar off: its Python client draws the bar on standard
    output for any statement over two seconds, which put bars into ``--json`` and CSV output
    on large stores. :func:`_progress_polled` turns the estimate on without the drawing."""
    con.execute("SET enable_progress_bar = false")
    con.execute("SET enable_progress_bar_print = false")


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (ATTACH takes no bound parameter for its path)."""
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def _progress_polled(con: Any, progress: Callable[[float], None] | None) -> Iterator[None]:
    """Within the block, ``progress(fraction)`` every half second from DuckDB's estimate of the
    statement ``con`` runs (its progress bar, computed but not printed)."""
    if progress is None:
        yield
        return
    import threading  # start-up: only for a long statement someone watches

    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET enable_progress_bar = true")
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            done = con.query_progress()
            if done >= 0:
                progress(min(done, 100.0) / 100.0)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        con.execute("SET enable_progress_bar = false")
