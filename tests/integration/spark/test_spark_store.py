"""The Spark store's write semantics: replace, append, delete, transactions, compaction; the CLI."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from personae.errors import NotFoundError, StoreError
from personae.store import DuckDBStore
from personae.store import spark as spark_module
from personae.store.spark import SparkStore
from personae.store.warehouse import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.spark]

DAY = pa.array([date(2025, 1, 1)], pa.date32())


@pytest.fixture
def store(spark: Any, tmp_path: Path) -> Any:
    s = SparkStore.open(tmp_path / "wh", session=spark)
    yield s
    s.close()


def snapshots(store: SparkStore) -> list[tuple[str, str]]:
    t = store.table("segment_snapshots")
    rows = store.to_arrow(t.order_by(["segment", "customer_id"])).to_pylist()
    return [(r["segment"], r["customer_id"]) for r in rows]


def rows(segment: str, *customers: str) -> pa.Table:
    n = len(customers)
    return pa.table(
        {
            "segment": [segment] * n,
            "as_of": pa.array([date(2025, 1, 1)] * n, pa.date32()),
            "customer_id": list(customers),
        }
    )


def test_a_new_warehouse_has_every_personae_table_empty(store: SparkStore) -> None:
    assert {"orders", "customers", "identity_map", "segment_snapshots"} <= set(store.base_tables())
    assert store.count("orders") == 0
    assert store.table("orders").schema()["ordered_at"].is_timestamp()
    with pytest.raises(NotFoundError):
        store.table("nope")
    with pytest.raises(StoreError, match="DuckDB"):
        store.raw  # noqa: B018


def test_append_delete_and_replace(store: SparkStore) -> None:
    store.append("segment_snapshots", rows("a", "C1", "C2"))
    store.append("segment_snapshots", rows("b", "C1"))
    assert snapshots(store) == [("a", "C1"), ("a", "C2"), ("b", "C1")]
    store.delete_where_in("segment_snapshots", "segment", ["a"])
    assert snapshots(store) == [("b", "C1")]
    t = store.table("segment_snapshots")
    store.replace("segment_snapshots", t.mutate(segment=t.segment.upper()))  # reads itself: fine
    assert snapshots(store) == [("B", "C1")]
    store.replace("scratch", pa.table({"x": [1, 2], "nothing": pa.nulls(2)}))
    assert store.execute(store.table("scratch").x.sum()) == 3
    store.drop("scratch")
    assert not store.has_table("scratch")


def test_a_failed_transaction_leaves_nothing_behind(store: SparkStore, tmp_path: Path) -> None:
    store.append("segment_snapshots", rows("a", "C1"))
    before = Warehouse.at(tmp_path / "wh").load()
    with pytest.raises(RuntimeError), store.transaction():
        store.delete_where_in("segment_snapshots", "as_of", DAY)
        store.append("segment_snapshots", rows("z", "C9"))
        assert snapshots(store) == [("z", "C9")]  # the transaction sees its own writes
        raise RuntimeError("interrupted")
    assert snapshots(store) == [("a", "C1")]
    assert Warehouse.at(tmp_path / "wh").load() == before
    parts = {p.name for p in (tmp_path / "wh" / "segment_snapshots").iterdir()}
    assert parts == {Path(p).name for p in before["segment_snapshots"]}  # staged parts deleted


def test_a_transaction_commits_once_and_another_store_sees_it(
    store: SparkStore, spark: Any, tmp_path: Path
) -> None:
    with store.transaction():
        store.append("segment_snapshots", rows("a", "C1"))
        store.append(
            "segment_runs", pa.table({"segment": ["a"], "members": [1]}), columns=["segment", "members"]
        )
        other = SparkStore.open(tmp_path / "wh", session=spark)
        assert other.count("segment_snapshots") == 0  # not committed yet
        other.close()
    again = SparkStore.open(tmp_path / "wh", session=spark)
    assert snapshots(again) == [("a", "C1")]
    runs = again.to_arrow(again.table("segment_runs")).to_pylist()
    assert runs[0]["members"] == 1 and runs[0]["rule"] is None  # columns not given are null
    again.close()


def test_many_appends_are_compacted(store: SparkStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_module, "COMPACT_AFTER_PARTS", 3)
    for i in range(5):
        store.append("segment_snapshots", rows("a", f"C{i}"))
    assert len(store._tables["segment_snapshots"]) <= 3
    assert store.count("segment_snapshots") == 5


def test_existing_keys_and_memtables_work_on_spark(store: SparkStore) -> None:
    store.append("identity_map", pa.table({"identifier": ["e:1", "e:2"], "customer_id": ["C1", "C2"]}))
    m = store.table("identity_map")
    keys = ibis.memtable(pa.table({"identifier": ["e:2", "e:3"]}))
    assert store.to_arrow(m.semi_join(keys, "identifier").select("customer_id")).column(0).to_pylist() == [
        "C2"
    ]


def test_write_groups_keeps_each_groups_order_on_spark(store: SparkStore) -> None:
    """As on DuckDB: a row appended by one group and deleted by the next is gone; write_many is
    one group."""
    at = pa.array([datetime(2025, 1, 1)], pa.timestamp("us"))
    row = pa.table({"segment": ["A"], "customer_id": ["c1"], "entered_at": at})
    key = pa.table({"segment": ["A"], "customer_id": ["c1"]})
    store.write_groups([([], [("live_memberships", row)]), ([("live_memberships", key)], [])])
    assert store.count("live_memberships") == 0
    store.write_many([], [("live_memberships", row)])
    assert store.count("live_memberships") == 1


def test_the_cli_builds_on_spark_and_reads_the_results(spark: Any, shop_db: Path, tmp_path: Path) -> None:
    """`personae build --engine spark`, then `segments members`, `traits export`, `clv summary`."""
    from personae.cli.app import app
    from personae.cli.context import State

    db = tmp_path / "shop.duckdb"
    shutil.copy(shop_db, db)
    wh = str(tmp_path / "wh")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", str(db), "--warehouse", wh, "-q", *args])
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    try:
        assert "exported" in run("warehouse", "export")
        run("build", "--engine", "spark", "--json")
        members = run("--engine", "spark", "segments", "members", "Champions", "--format", "csv")
        out = tmp_path / "traits.parquet"
        run("--engine", "spark", "traits", "export", "--format", "parquet", "--out", str(out))
        summary = run("--engine", "spark", "clv", "summary", "--format", "csv")
        # the DuckDB file was not built: the results are in the warehouse only
        assert "traits" not in duckdb_tables(db)
        assert members.replace('"', "").splitlines()[0] == "customer_id"
        header = summary.replace('"', "").splitlines()[0]
        assert header.startswith("customer_id,frequency,recency,T,monetary_value")
        assert len(summary.splitlines()) > 40  # one line per customer
        assert out.stat().st_size > 0
        assert "traits" in Warehouse.at(wh).load()
    finally:
        State.engine = State.warehouse = State.spark_master = None


def duckdb_tables(db: Path) -> list[str]:

    with DuckDBStore.open(db) as s:
        return s.base_tables()
