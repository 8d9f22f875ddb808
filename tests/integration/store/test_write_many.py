"""``Store.write_many``: deletes by (composite) key and appends in several tables, one transaction."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.store import DuckDBStore, Store


def _members(store: Store) -> list[tuple[str, str]]:
    return sorted(store.raw.execute("SELECT segment, customer_id FROM live_memberships").fetchall())


def test_deletes_by_whole_key_then_appends_in_one_transaction(tmp_path: Path) -> None:
    at = datetime(2026, 1, 1)
    with DuckDBStore.open(tmp_path / "w.duckdb") as store:
        rows = pa.table(
            {
                "segment": ["A", "A", "B"],
                "customer_id": ["c1", "c2", "c1"],
                "entered_at": pa.array([at] * 3, pa.timestamp("us")),
            }
        )
        store.write_many(appends=[("live_memberships", rows)])
        assert _members(store) == [("A", "c1"), ("A", "c2"), ("B", "c1")]
        # (A, c1) goes — not every A row, not every c1 row; (C, c3) comes; a second table in the call
        store.write_many(
            deletes=[("live_memberships", pa.table({"segment": ["A"], "customer_id": ["c1"]}))],
            appends=[
                (
                    "live_memberships",
                    pa.table(
                        {
                            "segment": ["C"],
                            "customer_id": ["c3"],
                            "entered_at": pa.array([at], pa.timestamp("us")),
                        }
                    ),
                ),
                ("identity_map", pa.table({"identifier": ["anonymous_id:x"], "customer_id": ["c3"]})),
            ],
        )
        assert _members(store) == [("A", "c2"), ("B", "c1"), ("C", "c3")]
        assert store.count("identity_map") == 1
        # any failing statement: nothing of the call happened, and the store still works
        with pytest.raises(Exception, match="no_such_table"):
            store.write_many(
                deletes=[("live_memberships", pa.table({"segment": ["A"], "customer_id": ["c2"]}))],
                appends=[("no_such_table", pa.table({"x": [1]}))],
            )
        assert _members(store) == [("A", "c2"), ("B", "c1"), ("C", "c3")]
        # inside an open transaction the statements join it (and roll back with it)
        with pytest.raises(RuntimeError), store.transaction():
            store.write_many(deletes=[("identity_map", pa.table({"identifier": ["anonymous_id:x"]}))])
            assert store.count("identity_map") == 0
            raise RuntimeError("abort")
        assert store.count("identity_map") == 1
        store.write_many()  # nothing to do: no statement, no transaction


def test_python_variables_stay_invisible_to_queries_after_a_write(tmp_path: Path) -> None:
    """write_many reads its Arrow rows through DuckDB's replacement scan, switched on only for its
    own statements: afterwards (also after a failed call) a query naming a Python variable must
    still fail, as Ibis wants, instead of silently reading the variable."""
    with DuckDBStore.open(tmp_path / "w.duckdb") as store:
        leaked = pa.table({"x": [1]})  # noqa: F841 - the name a query below must not resolve
        store.write_many(appends=[("identity_map", pa.table({"identifier": ["a:1"], "customer_id": ["c"]}))])
        with pytest.raises(Exception, match="leaked"):
            store.raw.execute("SELECT * FROM leaked").fetchall()
        with pytest.raises(Exception, match="no_such_table"):
            store.write_many(appends=[("no_such_table", pa.table({"x": [1]}))])
        with pytest.raises(Exception, match="leaked"):
            store.raw.execute("SELECT * FROM leaked").fetchall()
        assert store.count("identity_map") == 1


def test_write_groups_keeps_each_groups_order_in_one_transaction(tmp_path: Path) -> None:
    """A row appended by one group and deleted by the next is gone; a failing group undoes all."""
    at = pa.array([datetime(2026, 1, 1)], pa.timestamp("us"))
    row = pa.table({"segment": ["A"], "customer_id": ["c1"], "entered_at": at})
    key = pa.table({"segment": ["A"], "customer_id": ["c1"]})
    with DuckDBStore.open(tmp_path / "g.duckdb") as store:
        store.write_groups([([], [("live_memberships", row)]), ([("live_memberships", key)], [])])
        assert _members(store) == []
        bad = pa.table({"no_such_column": ["x"]})
        with pytest.raises(Exception, match="no_such_column"):
            store.write_groups([([], [("live_memberships", row)]), ([], [("live_memberships", bad)])])
        assert _members(store) == []


def test_rows_where_in_reads_the_rows_of_the_given_keys(tmp_path: Path) -> None:
    at = datetime(2026, 1, 1)
    with DuckDBStore.open(tmp_path / "r.duckdb") as store:
        rows = pa.table(
            {
                "segment": ["A", "B", "C"],
                "customer_id": ["c1", "c2", "c3"],
                "entered_at": pa.array([at] * 3, pa.timestamp("us")),
            }
        )
        store.write_many(appends=[("live_memberships", rows)])
        got = store.rows_where_in(
            "live_memberships", "customer_id", ["c3", "c1", "zz"], ["customer_id", "segment"]
        )
        assert sorted(got.to_pylist(), key=lambda r: r["customer_id"]) == [
            {"customer_id": "c1", "segment": "A"},
            {"customer_id": "c3", "segment": "C"},
        ]
        assert store.rows_where_in("live_memberships", "customer_id", [], ["segment"]).num_rows == 0


_OPS = st.lists(
    st.lists(
        st.tuples(
            st.booleans(),  # delete?
            st.sampled_from(["live_memberships", "identity_map"]),
            st.lists(st.sampled_from(["c1", "c2", "c3"]), min_size=1, max_size=3),
        ),
        max_size=4,
    ),
    max_size=6,
)


def _op_rows(table: str, ids: list[str], delete: bool) -> pa.Table:
    if table == "identity_map":
        return pa.table(
            {"identifier": [f"email:{i}" for i in ids]} | ({} if delete else {"customer_id": ids})
        )
    cols = {"segment": ["A"] * len(ids), "customer_id": ids}
    if not delete:
        cols["entered_at"] = pa.array([datetime(2026, 1, 1)] * len(ids), pa.timestamp("us"))
    return pa.table(cols)


@settings(max_examples=40, deadline=None)
@given(_OPS)
def test_a_backlog_written_as_one_transaction_equals_the_groups_written_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, groups: list[list[tuple[bool, str, list[str]]]]
) -> None:
    """write_groups merges appends to a table across groups where no delete of that table is in
    between: the tables end exactly as when each group is written on its own, in order."""
    as_groups = [
        (
            [(t, _op_rows(t, ids, True)) for delete, t, ids in g if delete],
            [(t, _op_rows(t, ids, False)) for delete, t, ids in g if not delete],
        )
        for g in groups
    ]
    folder = tmp_path_factory.mktemp("groups")
    with DuckDBStore.open(folder / "one.duckdb") as one, DuckDBStore.open(folder / "each.duckdb") as each:
        one.write_groups(as_groups)
        for deletes, appends in as_groups:
            each.write_many(deletes, appends)
        for table in ("live_memberships", "identity_map"):
            q = f"SELECT * FROM {table}"
            assert one.raw.execute(q).fetchall() == each.raw.execute(q).fetchall()
