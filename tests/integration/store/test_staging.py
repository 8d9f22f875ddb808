"""The store's tools for big builds: narrow resolution, staged intermediates, tables in parts,
and the memory cap."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pytest

from personae.config import Settings
from personae.errors import StoreError
from personae.store import DuckDBStore, Store
from personae.store.engine import open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = DuckDBStore.open(tmp_path / "t.duckdb")
    s.raw.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, channel, amount, _row_key, _identity) "
        "VALUES ('o1', 'c1', TIMESTAMP '2025-01-01 10:00', 'web', 10, 'r1', 'customer_id:c1'), "
        "('o2', 'c2', TIMESTAMP '2025-01-02 10:00', 'app', 20, 'r2', 'customer_id:c2')"
    )
    s.raw.execute("INSERT INTO identity_map (identifier, customer_id) VALUES ('customer_id:c2', 'c1')")
    return s


def test_resolved_with_columns_keeps_only_those_and_still_resolves(store: Store) -> None:
    narrow = store.resolved("orders", ["customer_id", "amount"])
    assert set(narrow.columns) == {"customer_id", "source_customer_id", "amount", "_identity"}
    rows = store.execute(narrow.order_by("amount"))
    assert rows.customer_id.tolist() == ["c1", "c1"]  # c2 was merged into c1
    assert rows.source_customer_id.tolist() == ["c1", "c2"]
    full = store.resolved("orders")
    assert "_row_key" in full.columns and full.columns[:2] == ("customer_id", "source_customer_id")


def test_staged_tables_are_computed_once_and_dropped_after(store: Store) -> None:
    o = store.table("orders")
    with store.staged({"big": o.filter(o.amount > 15).select("order_id", "amount")}) as staged:
        assert store.execute(staged["big"]).order_id.tolist() == ["o2"]
        name = staged["big"].get_name()
        assert name.startswith("_stage_big_")
    tables = {r[0] for r in store.raw.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert name not in tables


def test_replace_in_parts_is_the_union_and_all_or_nothing(store: Store) -> None:
    o = store.table("orders")
    parts = [o.select("order_id", kind=ibis.literal("a")), o.select("order_id", kind=ibis.literal("b"))]
    store.replace_in_parts("both", parts)
    got = store.execute(store.table("both").order_by(["kind", "order_id"]))
    assert list(zip(got.kind, got.order_id, strict=True)) == [
        ("a", "o1"),
        ("a", "o2"),
        ("b", "o1"),
        ("b", "o2"),
    ]
    broken = o.select("order_id", kind=(o.order_id.cast("int64")).cast("string"))  # fails at run time
    with pytest.raises(duckdb.ConversionException):
        store.replace_in_parts("both", [parts[0], broken])
    assert store.count("both") == 4  # the old table is intact


def test_memory_limit_is_applied_and_a_bad_one_is_a_clear_error(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "m.duckdb", memory_limit="1GB") as s:
        limit = s.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert limit.startswith("953") or limit.startswith("1.0")  # 1 GB shown in MiB or GB
    with pytest.raises(StoreError, match="memory_limit 'lots'"):
        DuckDBStore.open(tmp_path / "m.duckdb", memory_limit="lots")
    settings = Settings(db=tmp_path / "m.duckdb")
    assert settings.memory_limit == "3GB"
    with open_store(settings) as s:
        assert s.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("2.7")


def test_profiles_of_one_customer_is_the_filtered_profiles(store: Store) -> None:
    store.raw.execute(
        "INSERT INTO customers (customer_id, region, _row_key, _identity, _ingested_at) VALUES "
        "('c1', 'North', 'k1', 'customer_id:c1', TIMESTAMP '2025-01-01'), "
        "('c2', 'South', 'k2', 'customer_id:c2', TIMESTAMP '2025-01-02'), "
        "('c3', 'East', 'k3', 'customer_id:c3', TIMESTAMP '2025-01-02')"
    )
    everyone = store.profiles()
    for cid in ("c1", "c3", "nobody"):
        one = store.to_arrow(store.profiles(cid)).to_pylist()
        want = store.to_arrow(everyone.filter(everyone.customer_id == cid)).to_pylist()
        assert one == want
    # c2 was merged into c1: c1's own row survives, one row
    assert [r["region"] for r in store.to_arrow(store.profiles("c1")).to_pylist()] == ["North"]
