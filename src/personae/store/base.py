"""The store contract: what every engine implements, and the reads they share.

Like ibis' ``BaseBackend``, :class:`Store` says what an engine must do. Reads are Ibis table
expressions (:meth:`Store.table`, :meth:`Store.resolved`, :meth:`Store.profiles`), so the domain
builds one query that runs on either engine; writes, transactions and the catalog are each
engine's own: :class:`~personae.store.duckdb.DuckDBStore` (one file, the embedded default) and
:class:`~personae.store.spark.SparkStore` (a Parquet warehouse on Spark). Code above storage
types its parameters as ``Store`` and never asks which engine it has.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import ibis
import pandas as pd
import pyarrow as pa

from personae.errors import StoreError
from personae.store.ddl import quote

#: A group of writes: ``(deletes, appends)``, each a list of ``(table, rows)``.
WriteGroup = tuple[Sequence[tuple[str, pa.Table]], Sequence[tuple[str, pa.Table]]]


class Store(abc.ABC):
    """An open personae store on one engine (see the module docstring).

    Use the engine's :meth:`open` (which creates and migrates the tables) rather than the
    constructor.
    """

    #: the engine's name, as the ``engine`` setting spells it
    engine: str

    def __init__(self, backend: Any, path: str) -> None:
        self.backend = backend
        self.path = path
        self._in_transaction = False

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def open(cls, path: str | Path | None = None, *, memory_limit: str | None = None) -> Store:
        """Open (creating and migrating if needed) the store at ``path``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources; the store is not used after."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def raw(self) -> Any:
        """The engine's raw SQL connection; only DuckDB has one."""
        raise StoreError(
            "this operation needs a DuckDB database; the Spark engine has no raw SQL connection",
            hint="run it without --engine spark",
        )

    # -- reading -----------------------------------------------------------------------------
    @abc.abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether a table ``name`` exists."""

    @abc.abstractmethod
    def base_tables(self) -> list[str]:
        """The stored tables, sorted (bookkeeping and scratch tables left out)."""

    @abc.abstractmethod
    def table(self, name: str) -> ibis.Table:
        """The Ibis expression for a stored table (:class:`NotFoundError` if there is none)."""

    @abc.abstractmethod
    def count(self, name: str) -> int:
        """The number of rows of a stored table."""

    @abc.abstractmethod
    def cached_arrow(self, key: str, build: Callable[..., ibis.Expr], *params: str) -> pa.Table:
        """``to_arrow(build(*params))``, compiled once per ``key`` where the engine can."""

    def resolved(self, name: str, columns: Sequence[str] | None = None) -> ibis.Table:
        """A canonical table with ``customer_id`` replaced by the resolved (unified) id.

        The id as it came in the file stays available as ``source_customer_id``. Rows whose
        identifiers never met a customer id keep their own identifier (e.g.
        ``anonymous_id:abc``) as ``customer_id``: they are prospects.

        ``columns`` narrows the table *before* the identity join. Big builds ask for only what
        they read: an engine may materialise the resolved table once for several consumers
        (a shared CTE), and carrying every raw column (lineage, properties, hashes) through
        that copy cost more than the aggregates that read it.
        """
        t = self.table(name)
        if columns is not None:
            keep = [c for c in t.columns if c in {*columns, "customer_id", "_identity"}]
            t = t.select(*keep)
        m = self.table("identity_map").rename(resolved_id="customer_id")
        joined = t.left_join(m, t["_identity"] == m["identifier"])
        wanted = None if columns is None else {*columns, "_identity"} - {"customer_id"}
        cols = {c: joined[c] for c in t.columns if c != "customer_id" and (wanted is None or c in wanted)}
        return joined.select(
            customer_id=ibis.coalesce(joined["resolved_id"], joined["customer_id"], joined["_identity"]),
            source_customer_id=joined["customer_id"],
            **cols,
        )

    def profiles(self, customer_id: str | None = None) -> ibis.Table:
        """One customer row per resolved customer (the surviving profile's own row first).

        With ``customer_id``, only that customer's row: the filter goes before the ranking
        window, which otherwise ranks every customer to answer for one (a profile read by the
        service took ~0.4 s on 50k customers that way).
        """
        c = self.resolved("customers")
        if customer_id is not None:
            c = c.filter(c["customer_id"] == customer_id)
        own = (c["customer_id"] != c["source_customer_id"]).cast("int8")
        w = ibis.window(group_by=c["customer_id"], order_by=[own, c["_ingested_at"].desc()])
        ranked = c.mutate(_rank=ibis.row_number().over(w))
        return ranked.filter(ranked["_rank"] == 0).drop("_rank")

    def execute(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.backend.execute(expr)

    def scalar(self, expr: ibis.Scalar) -> Any:
        """One value (a count, a sum, a maximum): a Python scalar, ``None`` for a SQL NULL."""
        value = self.backend.execute(expr)
        return None if value is None or pd.isna(value) else value.item() if hasattr(value, "item") else value

    def to_arrow(self, expr: ibis.Expr) -> pa.Table:
        return self.backend.to_pyarrow(expr)

    def where_in(self, expr: ibis.Table, column: str, values: Sequence[str]) -> pa.Table:
        """The rows of ``expr`` whose ``column`` is one of ``values`` (given by a person: an id,
        an email typed into a lookup). An engine that can bind them as parameters does
        (:meth:`DuckDBStore.where_in`), so they never become SQL text; this fallback lets Ibis
        write them as quoted literals."""
        return self.to_arrow(expr.filter(expr[column].isin(list(values))))

    def rows(self, expr: ibis.Table) -> list[dict[str, Any]]:
        """The rows of ``expr`` as plain Python dicts (dates as ``date``), through Arrow."""
        return self.to_arrow(expr).to_pylist()

    # -- writing -----------------------------------------------------------------------------
    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """All writes inside happen together or not at all (also on Ctrl-C)."""

    @abc.abstractmethod
    def append(self, name: str, data: pa.Table | pd.DataFrame, *, columns: list[str] | None = None) -> int:
        """Append rows (matched by column name) to an existing table; the number appended."""

    def memory_capped(self, limit: str) -> contextlib.AbstractContextManager[None]:
        """Within the block, the engine holds at most ``limit`` (e.g. ``"1GB"``) where its
        setting allows more; an engine without such a setting ignores it."""
        return contextlib.nullcontext()

    def append_batches(self, name: str, batches: pa.RecordBatchReader) -> int:
        """Append a stream of rows to an existing table, never holding them all at once.

        This default appends batch by batch; an engine that can take the stream in one
        statement does (DuckDB: its memory then stays flat however many rows come).
        """
        return sum(self.append(name, pa.Table.from_batches([b], batches.schema)) for b in batches)

    def append_new(
        self, name: str, rows: pa.Table, keys: Sequence[str], values: Mapping[str, Any] | None = None
    ) -> int:
        """Append the rows whose ``keys`` columns match no stored row (all of them when ``keys``
        is empty), with ``values`` as constant columns; the number appended. Through the store
        interface, so on either engine (the constants join the rows after the comparison)."""
        if keys and rows.num_rows:
            stored, new = self.table(name), ibis.memtable(rows)
            rows = self.to_arrow(new.anti_join(stored, [new[c] == stored[c] for c in keys]))
        for column, value in (values or {}).items():
            rows = rows.append_column(column, pa.array([value] * rows.num_rows))
        return self.append(name, rows)

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
        """Append every row of ``relation`` (a table or view) of the DuckDB database file
        ``database`` to table ``name``; the number appended. Rows whose ``skip_existing``
        columns match a stored row are left out; ``values`` adds constant columns.

        Why: ingest stages and de-duplicates a file's rows in a scratch database file; an engine
        that can read that file itself (DuckDB) takes them in one statement, with no second
        database and no Arrow copy in between — one buffer pool, not two. This default streams
        the rows out of the file in batches (``progress`` is then not called).
        """
        import duckdb  # start-up: only the default path of an engine that cannot read the file

        con = duckdb.connect(str(database), read_only=True)
        added = 0
        try:
            reader = con.execute(f"SELECT * FROM {quote(relation)}").to_arrow_reader(200_000)
            for batch in reader:
                added += self.append_new(name, pa.Table.from_batches([batch]), skip_existing, values)
        finally:
            con.close()
        return added

    @abc.abstractmethod
    def replace(self, name: str, data: pa.Table | pd.DataFrame | ibis.Table) -> None:
        """Create or replace a derived table (traits, model outputs, snapshots)."""

    @abc.abstractmethod
    def staged(
        self, tables: Mapping[str, ibis.Table]
    ) -> contextlib.AbstractContextManager[dict[str, ibis.Table]]:
        """Compute ``tables`` once, for several queries that read them inside the block."""

    @abc.abstractmethod
    def replace_in_parts(self, name: str, parts: Sequence[ibis.Table]) -> None:
        """Create or replace a table as the union of ``parts``, computed one at a time."""

    @abc.abstractmethod
    def drop(self, name: str) -> None:
        """Drop a derived table if it exists."""

    @abc.abstractmethod
    def delete_where_in(self, name: str, column: str, values: pa.Array | list[str]) -> None:
        """Delete the rows whose ``column`` is one of ``values``."""

    def write_many(
        self,
        deletes: Sequence[tuple[str, pa.Table]] = (),
        appends: Sequence[tuple[str, pa.Table]] = (),
    ) -> None:
        """Delete rows by key, then append rows, in several tables: one transaction, one round trip.

        Why: the real-time service commits a small group of changes to half a dozen tables many
        times a second; one ``append``/``delete_where_in`` call per table costs a register, a
        statement and an unregister each, which is most of a small group's time. Here the
        statements read the Arrow tables directly (DuckDB's replacement scan of a Python
        variable, no view registered) inside one transaction.

        ``deletes``: ``(table, keys)`` — deletes the rows of ``table`` whose columns named like
        ``keys``' columns equal one of its rows (a key of several columns is matched as a whole).
        ``appends``: ``(table, rows)`` — appended, matched by column name. Inside an open
        :meth:`transaction` the statements join it; otherwise they get their own.
        """
        self.write_groups([(deletes, appends)])

    @abc.abstractmethod
    def write_groups(self, groups: Sequence[WriteGroup], *, join: bool = True) -> None:
        """Several :meth:`write_many` calls, in order, as one transaction."""

    @abc.abstractmethod
    def existing_keys(self, name: str, column: str, keys: pa.Array) -> pa.Table:
        """Which of ``keys`` already exist in ``name.column`` (``k``, with their ``_row_hash`` ``h``)."""
