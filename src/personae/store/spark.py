"""The Spark engine: the same :class:`~personae.store.Store` interface over PySpark and a warehouse.

Everything the domain does is an Ibis expression, so :meth:`table`, :meth:`resolved`,
:meth:`profiles`, :meth:`execute` and :meth:`to_arrow` are the DuckDB store's own code running
on Ibis's PySpark backend. What differs is where tables live and how writes commit:

* tables are Parquet parts listed in a :class:`~personae.store.warehouse.Warehouse` manifest;
  each is registered in the Spark session as a temporary view (one name per store, so two
  stores can share a session);
* ``replace`` with an expression is computed and written by Spark (executors write the
  files); with Arrow/pandas data (model outputs, snapshots, runs — built on the driver) it is
  written by Arrow directly, which avoids a round trip through the JVM;
* ``append`` adds a part (no rewrite); ``delete_where_in`` rewrites the table without the rows
  (and does nothing when no row matches); a table with many parts is compacted on append;
* a :meth:`transaction` stages parts and commits them with one manifest write; on an error
  the new parts are deleted and the views point back at the committed parts. Unlike DuckDB,
  a second process writing the same warehouse at the same time is not detected (the last
  commit wins), and DDL-level schema migrations do not exist: missing personae tables are
  created empty (from the DuckDB schema) when a warehouse is opened.

Ingest runs as Spark jobs (:mod:`personae.app.ingest.spark_ingest`, through
:meth:`dataframe` and :meth:`append_frame`): files are read, validated and de-duplicated by
the executors, and the new parts commit with the rest of the ingest's transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from personae.errors import NotFoundError, StoreError
from personae.store.base import Store
from personae.store.duckdb import DuckDBStore
from personae.store.warehouse import Warehouse

#: Appends add a part each; past this many parts a table is rewritten as one.
COMPACT_AFTER_PARTS = 32

#: Settings that make a Spark session behave like the DuckDB engine (see docs/scaling.md).
SESSION_DEFAULTS = {
    # Timestamps are wall-clock (DuckDB TIMESTAMP); UTC keeps Spark from shifting them.
    "spark.sql.session.timeZone": "UTC",
    # Spark 4 defaults to ANSI SQL, where x / 0 and a failed cast raise; DuckDB (and the
    # expressions written for it) expect NULL.
    "spark.sql.ansi.enabled": "false",
    # pandas/Arrow conversions in columnar form rather than row by row through pickle.
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(
    master: str | None = None, conf: Mapping[str, str] | None = None, app_name: str = "personae"
) -> Any:
    """The process's Spark session (created once; later calls return the same session).

    ``master`` None keeps what ``spark-submit`` chose, or is ``local[*]`` when run directly. On a
    local master the shuffle is sized for the machine (Spark's default of 200 partitions is
    for clusters and makes small jobs slow).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StoreError(
            "the Spark engine needs pyspark", hint="install it with `pip install 'personae[spark]'`"
        ) from None
    builder = SparkSession.builder.appName(app_name)
    # under spark-submit (which starts Python with a gateway to its JVM) the master is its choice
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or ("(spark-submit)" if submitted else "local[*]")
    if not submitted or master:
        builder = builder.master(chosen)
    options = dict(SESSION_DEFAULTS)
    if chosen.startswith("local"):
        # Python workers (Arrow conversions, UDFs) must use this interpreter and its packages
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        options["spark.ui.enabled"] = "false"
        options["spark.sql.shuffle.partitions"] = str(max(2, 2 * _local_cores(chosen)))
    options.update(conf or {})
    for key, value in options.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, a master that does not answer, a bad option…
        raise StoreError(
            f"cannot start Spark ({chosen}): {str(exc).splitlines()[0] if str(exc) else exc!r}",
            hint="the Spark engine needs Java 17+ (`java -version`) and a reachable --spark-master",
        ) from exc
    for key, value in options.items():  # a session that already existed keeps its own conf
        with contextlib.suppress(Exception):
            session.conf.set(key, value)
    # Spark's INFO/WARN chatter would bury personae's own output; errors still show
    session.sparkContext.setLogLevel(os.environ.get("PERSONAE_SPARK_LOG_LEVEL", "ERROR"))
    return session


def _patch_json_unwrap() -> None:
    """Make ibis's PySpark JSON unwrapping (``json_col["k"].string``, ``.int``…) read Spark's values.

    ibis 12 compiles ``json["k"]`` to ``get_json_object``, which returns a JSON *string*
    value without its quotes (``hello``, not ``"hello"``), and its unwrap UDFs then call
    ``json.loads`` on it and fail the whole query. These UDFs accept both spellings; a value
    of another type gives NULL, as on DuckDB. (A string that looks like a number, e.g.
    ``"42"``, cannot be told from the number 42 after ``get_json_object``: ``.string`` gives
    NULL for it — the one difference left.)
    """
    import ibis.backends.pyspark as backend
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType

    def unwrap(kind: type) -> Any:
        spark_type = {str: StringType(), int: LongType(), bool: BooleanType(), float: DoubleType()}[kind]

        def parse(raw: Any) -> Any:
            if raw is None or (isinstance(raw, float) and raw != raw):
                return None
            try:
                value = json.loads(raw)
            except ValueError:
                return raw if kind is str else None  # an unquoted JSON string
            if kind is float:
                return float(value) if type(value) in (float, int) else None
            return value if type(value) is kind else None

        @F.pandas_udf(returnType=spark_type)  # type: ignore[call-overload]
        def udf(s: pd.Series) -> pd.Series:
            return s.map(parse)

        return udf

    backend.unwrap_json = unwrap
    backend.unwrap_json_float = unwrap(float)


def _local_cores(master: str) -> int:
    inside = master.partition("[")[2].rstrip("]").split(",")[0]
    return int(inside) if inside.isdigit() else os.cpu_count() or 2


@cache
def personae_schemas() -> dict[str, pa.Schema]:
    """Every table the migrations create, as Arrow schemas (the DuckDB DDL is the one definition)."""
    with DuckDBStore.open(":memory:") as scratch:
        return {name: scratch.table(name).schema().to_pyarrow() for name in scratch.base_tables()}


class SparkStore(Store):
    """A warehouse opened on a Spark session; see the module docstring for what differs."""

    engine = "spark"

    def __init__(self, backend: Any, warehouse: Warehouse, session: Any, *, owns_session: bool) -> None:
        super().__init__(backend, warehouse.uri)
        self.warehouse = warehouse
        self.session = session
        self._owns_session = owns_session
        self._prefix = f"p{uuid.uuid4().hex[:8]}__"
        self._committed: dict[str, list[str]] = warehouse.load()
        self._tables: dict[str, list[str]] = dict(self._committed)
        self._schemas: dict[str, pa.Schema] = {}
        self._dropped: set[str] = set()

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        session: Any = None,
        master: str | None = None,
        conf: Mapping[str, str] | None = None,
        memory_limit: str | None = None,
    ) -> SparkStore:
        """Open (creating if needed) the warehouse at ``path`` on ``session`` (or a new one).

        ``memory_limit`` is DuckDB's and is ignored here: Spark's memory is set with
        ``spark.driver.memory`` / ``spark.executor.memory`` in ``conf``.
        """
        warehouse = Warehouse.at(path if path is not None else "personae-warehouse")
        warehouse.create()
        if session is None:
            from pyspark.sql import SparkSession

            # a session someone else started (a notebook, a test run) is theirs to stop
            owns = SparkSession.getActiveSession() is None
            session = spark_session(master, conf)
        else:
            owns = False
        for key, value in SESSION_DEFAULTS.items():
            with contextlib.suppress(Exception):
                session.conf.set(key, value)
        backend = ibis.pyspark.connect(session)
        _patch_json_unwrap()
        store = cls(backend, warehouse, session, owns_session=owns)
        store._create_missing_tables()
        for name in store._tables:
            store._register(name)
        return store

    def _create_missing_tables(self) -> None:
        missing = {n: s for n, s in personae_schemas().items() if n not in self._tables}
        for name, schema in missing.items():
            self._tables[name] = [self.warehouse.write_part(name, schema.empty_table(), schema)]
        if missing:
            self._commit()

    def close(self) -> None:
        for name in list(self._tables):
            self._unregister(name)
        if self._owns_session:
            with contextlib.suppress(Exception):
                self.session.stop()

    # -- reading -------------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return name in self._tables

    def base_tables(self) -> list[str]:
        return sorted(self._tables)

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            raise NotFoundError(
                f"no table {name!r} in warehouse {self.path}",
                hint="ingest or export data into it, or run `personae build --engine spark` first",
            )
        return self.backend.table(self._prefix + name)

    def count(self, name: str) -> int:
        return int(self.execute(self.table(name).count()))

    def cached_arrow(self, key: str, build: Callable[..., ibis.Expr], *params: str) -> pa.Table:
        """As on DuckDB, without the cache (Spark has no cheap catalog version to key it on)."""
        return self.to_arrow(build(*params))

    def execute(self, expr: ibis.Expr) -> Any:
        """As on DuckDB; frames are copied because Spark hands over read-only Arrow-backed arrays."""
        result = self.backend.execute(expr)
        return result.copy(deep=True) if isinstance(result, pd.DataFrame | pd.Series) else result

    def arrow_schema(self, name: str) -> pa.Schema:
        """The stored (Parquet) schema of ``name``: what every new part is cast to."""
        if name not in self._schemas:
            self._schemas[name] = self.warehouse.read_schema(self._tables[name])
        return self._schemas[name]

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside commit together (one manifest write) or, on any error, not at all."""
        if self._in_transaction:
            yield
            return
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            self._commit()
        finally:
            self._in_transaction = False

    def replace(self, name: str, data: pa.Table | pd.DataFrame | ibis.Table) -> None:
        if isinstance(data, ibis.Expr):
            part = self._write_expr(name, data)
        else:
            arrow = _arrow(data)
            if name in self._tables:  # keep the stored type of columns that came in all-null
                known = self.arrow_schema(name)
                arrow = _typed_nulls(arrow, known)
            arrow = _typed_nulls(arrow, None)
            part = self.warehouse.write_part(name, arrow, arrow.schema)
        self._set(name, [part])

    def append(self, name: str, data: pa.Table | pd.DataFrame, *, columns: list[str] | None = None) -> int:
        arrow = _arrow(data)
        if arrow.num_rows == 0:
            return 0
        schema = self.arrow_schema(self._require(name))
        cols = set(columns or arrow.column_names)
        arrays = [
            arrow.column(f.name).cast(f.type) if f.name in cols else pa.nulls(arrow.num_rows, f.type)
            for f in schema
        ]
        part = self.warehouse.write_part(name, pa.Table.from_arrays(arrays, schema=schema), schema)
        parts = [*self._tables[name], part]
        if len(parts) > COMPACT_AFTER_PARTS:
            self._set(name, parts)
            self.replace(name, self.table(name))
        else:
            self._set(name, parts)
        return arrow.num_rows

    def dataframe(self, name: str) -> Any:
        """``name`` as a Spark DataFrame, for work Ibis does not express (ingest on Spark)."""
        return self.session.table(self._prefix + self._require(name))

    def append_frame(self, name: str, df: Any) -> None:
        """Append a Spark DataFrame as a new part of ``name``, its executors writing the files.

        Columns are cast to the stored schema (missing ones are NULL), so every part of a
        table has the same Parquet types whoever wrote it. Inside a :meth:`transaction` the part
        is only staged: it joins the table at the commit, or is deleted on an error.
        """
        parts = [*self._tables[self._require(name)], self._write_frame(name, df)]
        self._set(name, parts)
        if len(parts) > COMPACT_AFTER_PARTS:
            self.replace(name, self.table(name))

    def replace_frame(self, name: str, df: Any) -> None:
        """Rewrite ``name`` as the Spark DataFrame ``df`` (one new part; the old parts are
        deleted once the manifest no longer lists them — erasure relies on it)."""
        self._set(name, [self._write_frame(self._require(name), df)])

    def _write_frame(self, name: str, df: Any) -> str:
        from pyspark.sql import functions as F  # start-up: pyspark only on this engine
        from pyspark.sql.pandas.types import from_arrow_type  # start-up: pyspark only on this engine

        schema = self.arrow_schema(name)
        cols = [
            (F.col(f"`{f.name}`") if f.name in df.columns else F.lit(None))
            .cast(from_arrow_type(f.type, prefer_timestamp_ntz=True))
            .alias(f.name)
            for f in schema
        ]
        part = self.warehouse.new_part(name)
        df.select(*cols).write.parquet(self.warehouse.spark_path(part))
        return part

    @contextlib.contextmanager
    def staged(self, tables: Mapping[str, ibis.Table]) -> Iterator[dict[str, ibis.Table]]:
        """The expressions themselves: :meth:`replace_in_parts` runs them in one Spark job."""
        yield dict(tables)

    def replace_in_parts(self, name: str, parts: Sequence[ibis.Table]) -> None:
        """One Spark job over the union: executors spill and shuffle by themselves."""
        if not parts:
            raise ValueError("replace_in_parts needs at least one part")
        cols = parts[0].columns
        self.replace(name, ibis.union(*(p.select(*cols) for p in parts)))

    def drop(self, name: str) -> None:
        if name in self._tables:
            self._unregister(name)
            del self._tables[name]
            self._schemas.pop(name, None)
            self._autocommit()

    def delete_where_in(self, name: str, column: str, values: pa.Array | list[str]) -> None:
        arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
        if len(arr) == 0:
            return
        t = self.table(self._require(name))
        doomed = ibis.memtable(pa.table({"_v": arr}))
        if not self.execute(t.semi_join(doomed, t[column] == doomed["_v"]).count()):
            return  # nothing to delete: no rewrite
        self.replace(name, t.anti_join(doomed, t[column] == doomed["_v"]))

    def write_groups(
        self,
        groups: Sequence[tuple[Sequence[tuple[str, pa.Table]], Sequence[tuple[str, pa.Table]]]],
        *,
        join: bool = True,
    ) -> None:
        """As :meth:`Store.write_groups` (and so :meth:`Store.write_many`): each group's key
        deletes then its appends, in order, committed as one manifest write."""
        with self.transaction():
            for deletes, appends in groups:
                for name, keys in deletes:
                    if keys.num_rows == 0:
                        continue
                    t = self.table(self._require(name))
                    doomed = ibis.memtable(keys)
                    match = [t[c] == doomed[c] for c in keys.column_names]
                    if self.execute(t.semi_join(doomed, match).count()):
                        self.replace(name, t.anti_join(doomed, match))
                for name, rows in appends:
                    self.append(name, rows)

    def existing_keys(self, name: str, column: str, keys: pa.Array) -> pa.Table:
        t = self.table(self._require(name))
        wanted = ibis.memtable(pa.table({"_k": keys}))
        hits = t.semi_join(wanted, t[column] == wanted["_k"])
        return self.to_arrow(hits.select(k=hits[column], h=hits["_row_hash"]))

    # -- internals -----------------------------------------------------------------------------
    def _require(self, name: str) -> str:
        if name not in self._tables:
            raise NotFoundError(f"no table {name!r} in warehouse {self.path}")
        return name

    def _write_expr(self, name: str, expr: ibis.Table) -> str:
        """Spark computes ``expr`` and its executors write the part (timestamps as wall-clock)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampType

        part = self.warehouse.new_part(name)
        self.backend._run_pre_execute_hooks(expr)  # registers memtables used by the expression
        df = self.session.sql(self.backend.compile(expr))
        # session-zone (UTC) timestamps stored as wall-clock ones, like DuckDB's TIMESTAMP, so
        # every part of a table has the same Parquet types whoever wrote it
        df = df.select(
            *[
                F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name)
                if isinstance(f.dataType, TimestampType)
                else F.col(f"`{f.name}`")
                for f in df.schema.fields
            ]
        )
        df.write.parquet(self.warehouse.spark_path(part))
        return part

    def _set(self, name: str, parts: list[str]) -> None:
        committed = {p for ps in self._committed.values() for p in ps}
        # a part written and superseded inside one transaction is listed nowhere: delete it at
        # the commit too (an erasure rewriting a table twice must leave no copy behind)
        self._dropped |= {p for p in self._tables.get(name, []) if p not in parts and p not in committed}
        self._tables[name] = parts
        self._schemas.pop(name, None)
        self._register(name)
        self._autocommit()

    def _register(self, name: str) -> None:
        paths = [self.warehouse.spark_path(p) for p in self._tables[name]]
        self.session.read.parquet(*paths).createOrReplaceTempView(self._prefix + name)

    def _unregister(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.session.catalog.dropTempView(self._prefix + name)

    def _autocommit(self) -> None:
        if not self._in_transaction:
            self._commit()

    def _commit(self) -> None:
        """Publish the current tables (one manifest write), then delete superseded parts."""
        self.warehouse.commit(self._tables)
        live = {p for parts in self._tables.values() for p in parts}
        gone = ({p for parts in self._committed.values() for p in parts} | self._dropped) - live
        self._committed = {n: list(p) for n, p in self._tables.items()}
        self._dropped = set()
        self.warehouse.delete_parts(sorted(gone))

    def _rollback(self) -> None:
        """Forget staged parts: delete them and point the views back at the committed ones."""
        committed = {p for parts in self._committed.values() for p in parts}
        staged = ({p for parts in self._tables.values() for p in parts} | self._dropped) - committed
        self._dropped = set()
        changed = {
            n
            for n in self._tables.keys() | self._committed.keys()
            if self._tables.get(n) != self._committed.get(n)
        }
        self._tables = {n: list(p) for n, p in self._committed.items()}
        self._schemas.clear()
        for name in changed:
            if name in self._tables:
                self._register(name)
            else:
                self._unregister(name)
        self.warehouse.delete_parts(sorted(staged))


def _arrow(data: pa.Table | pd.DataFrame) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)


def _typed_nulls(arrow: pa.Table, known: pa.Schema | None) -> pa.Table:
    """Give all-null columns a real type (the stored one, else string): Spark cannot read ``null``."""
    for i, field in enumerate(arrow.schema):
        if pa.types.is_null(field.type):
            target = known.field(field.name).type if known is not None and field.name in known.names else None
            if target is not None or known is None:
                arrow = arrow.set_column(i, field.name, pa.nulls(arrow.num_rows, target or pa.string()))
    return arrow
