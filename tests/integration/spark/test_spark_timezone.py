"""The shop's clock on Spark: ``local_clock`` compiles (via sqlglot) to Spark's CONVERT_TIMEZONE,
so dayparts, months and holiday spend in a zone far from UTC match DuckDB's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from personae.app.reads import last_data_date
from personae.app.traits import build_affinities
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore, Store
from personae.store.export import export_to_warehouse
from personae.store.spark import SparkStore

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def _dayparts(store: Store) -> list[tuple[Any, ...]]:
    a = store.table("affinities")
    df = store.execute(a.filter(a.kind == "daypart").select("customer_id", "value", "orders", "months_total"))
    return sorted(df.itertuples(index=False, name=None))


def test_affinities_in_tokyo_are_the_same_on_both_engines(spark: Any, shop_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "duck.duckdb"
    shutil.copy(shop_db, db)
    with DuckDBStore.open(db) as duck:
        export_to_warehouse(duck, tmp_path / "warehouse")
        as_of = last_data_date(duck, "Asia/Tokyo")
        build_affinities(duck, as_of, TraitSettings(), "Asia/Tokyo")
        tokyo = _dayparts(duck)
        build_affinities(duck, as_of, TraitSettings())
        assert tokyo != _dayparts(duck)  # the zone moved some orders to another daypart
    sp = SparkStore.open(tmp_path / "warehouse", session=spark)
    try:
        build_affinities(sp, as_of, TraitSettings(), "Asia/Tokyo")
        assert _dayparts(sp) == tokyo
    finally:
        sp.close()
