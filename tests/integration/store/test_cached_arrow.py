"""``Store.cached_arrow``: a query compiled once, parameters bound, recompiled when the schema changes."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa

from personae.store import DuckDBStore, Store


def _rows(store: Store, name: str) -> list[dict[str, object]]:
    return store.cached_arrow(f"rows of {name}", lambda c: _query(store, c), "c'1").to_pylist()


def test_parameters_are_bound_and_the_query_follows_the_schema(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "c.duckdb") as store:
        store.replace("scratch", pa.table({"customer_id": ["c'1", "c2"], "a": [1, 2]}))
        assert _rows(store, "scratch") == [{"customer_id": "c'1", "a": 1, "n": 2}]
        compiled = store._compiled["rows of scratch"][1]
        assert "c'1" not in compiled and "c''1" not in compiled  # bound, never spliced in
        # other values through the same compiled query
        assert store.cached_arrow("rows of scratch", lambda c: _query(store, c), "c2").to_pylist() == [
            {"customer_id": "c2", "a": 2, "n": 3}
        ]
        # the table rebuilt with another column (a new build's traits): the new column is read
        store.replace("scratch", pa.table({"customer_id": ["c'1"], "a": [5], "b": ["new"]}))
        assert _rows(store, "scratch") == [{"customer_id": "c'1", "a": 5, "b": "new", "n": 6}]
        # rows written since are read (the cache holds SQL, never results)
        store.append("scratch", pa.table({"customer_id": ["c'1"], "a": [6], "b": ["x"]}))
        assert sorted(r["a"] for r in _rows(store, "scratch")) == [5, 6]
        # a table dropped and made again with the same columns is another table: compiled anew
        before = store._compiled["rows of scratch"][0]
        store.raw.execute("DROP TABLE scratch")
        store.replace("scratch", pa.table({"customer_id": ["c'1"], "a": [7], "b": ["y"]}))
        assert [r["a"] for r in _rows(store, "scratch")] == [7]
        assert store._compiled["rows of scratch"][0] != before


def _query(store: Store, cid: str) -> ibis.Table:
    """Ibis spells out every column here (a derived one forces it), as in ``Store.profiles``: a
    query compiled before a column was added would not read it."""
    t = store.table("scratch")
    return t.mutate(n=t.a + 1).filter(lambda r: r.customer_id == cid).order_by("customer_id")


def test_has_table_sees_tables_views_and_temporary_tables(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "h.duckdb") as store:
        assert store.has_table("customers") and not store.has_table("no_such_table")
        store.raw.execute("CREATE VIEW v_scratch AS SELECT 1 AS x")
        store.raw.execute("CREATE TEMP TABLE t_scratch (x INT)")
        assert store.has_table("v_scratch") and store.has_table("t_scratch")
        assert set(store.backend.list_tables()) >= {"customers", "v_scratch", "t_scratch"}
