"""The warehouse manifest and the DuckDB → warehouse export (pure Arrow: no Spark needed)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from personae.errors import NotFoundError, StoreError
from personae.store import DuckDBStore
from personae.store.export import export_to_warehouse
from personae.store.warehouse import MANIFEST, Warehouse, table_rows


def test_a_missing_warehouse_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no personae warehouse") as err:
        Warehouse.at(tmp_path / "nothing").load()
    assert "personae warehouse export" in str(err.value)


def test_commit_publishes_parts_and_delete_removes_them(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "wh")
    wh.create()
    assert wh.load() == {}
    schema = pa.schema([("a", pa.int64())])
    p1 = wh.write_part("t", pa.table({"a": [1, 2]}, schema=schema), schema)
    p2 = wh.write_part("t", pa.table({"a": [3]}, schema=schema), schema)
    assert wh.load() == {}  # written but not committed: invisible
    wh.commit({"t": [p1, p2]})
    assert wh.load() == {"t": [p1, p2]}
    assert wh.read_arrow([p1, p2]).column("a").to_pylist() == [1, 2, 3]
    assert table_rows(wh, [p1, p2]) == 3
    wh.delete_parts([p1])
    assert not (tmp_path / "wh" / p1).exists() and (tmp_path / "wh" / p2).exists()
    assert [p.name for p in (tmp_path / "wh").iterdir() if p.is_file()] == [MANIFEST]  # no temp left


def test_an_empty_part_keeps_its_schema(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path)
    wh.create()
    schema = pa.schema([("d", pa.date32()), ("s", pa.string())])
    part = wh.write_part("e", schema.empty_table(), schema)
    assert wh.read_schema([part]) == schema
    assert table_rows(wh, [part]) == 0


def test_export_copies_every_table_in_one_commit(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "db.duckdb") as store:
        store.append("identity_map", pa.table({"identifier": ["email:a@b.c"], "customer_id": ["C1"]}))
        rows = export_to_warehouse(store, tmp_path / "wh")
        names = store.base_tables()
    assert sorted(rows) == names and rows["identity_map"] == 1 and rows["orders"] == 0
    wh = Warehouse.at(tmp_path / "wh")
    content = wh.load()
    assert sorted(content) == names
    assert wh.read_arrow(content["identity_map"]).to_pylist() == [
        {"identifier": "email:a@b.c", "customer_id": "C1"}
    ]
    # the orders' DuckDB types survive (timestamps stay wall-clock, lists stay lists)
    orders = wh.read_schema(content["orders"])
    assert orders.field("ordered_at").type == pa.timestamp("us")


def test_re_export_replaces_and_cleans_up_the_old_parts(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "db.duckdb") as store:
        export_to_warehouse(store, tmp_path / "wh", tables=["identity_map"])
        first = Warehouse.at(tmp_path / "wh").load()["identity_map"]
        store.append("identity_map", pa.table({"identifier": ["x"], "customer_id": ["C2"]}))
        assert export_to_warehouse(store, tmp_path / "wh", tables=["identity_map"]) == {"identity_map": 1}
        with pytest.raises(NotFoundError):
            export_to_warehouse(store, tmp_path / "wh", tables=["no_such_table"])
    second = Warehouse.at(tmp_path / "wh").load()
    assert list(second) == ["identity_map"] and second["identity_map"] != first
    assert not (tmp_path / "wh" / first[0]).exists()
