"""The hand-written SQL yardstick of ``benchmarks/bench_traits.py`` computes the traits step's values.

The benchmark's ratio (traits step ÷ hand-written SQL) is only honest while the SQL computes
the same thing: a yardstick that skipped a trait, or counted orders differently, would flatter
personae. This test runs both on the benchmark's own synthetic shop (small) and on a shop
with returns, refunds, date-only orders, tags and surveys, and requires every column to match.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from personae.app.traits import build_affinities, build_traits
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
AS_OF = date(2025, 12, 31)


def _load(name: str) -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # bench_traits imports traits_sql as a sibling
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load("bench_traits")


def _both(store: DuckDBStore, bench: ModuleType) -> list[str]:
    build_affinities(store, AS_OF, TraitSettings())
    build_traits(store, AS_OF, TraitSettings())
    for sql in bench.yardstick_sql(AS_OF, TraitSettings()):
        store.raw.execute(sql)
    return list(bench.compare(store))


def test_yardstick_equals_traits_step_on_the_bench_shop(tmp_path: Path, bench: ModuleType) -> None:
    store = DuckDBStore.open(tmp_path / "b.duckdb")
    bench.populate(store, 30_000, 3_000)
    assert _both(store, bench) == []
    # not vacuous: the tables are full and the traits vary
    assert store.raw.execute("SELECT count(*) FROM y_traits").fetchone()[0] == 3_000
    # every kind but daypart: the bench's orders are stamped at midnight (date-only)
    assert store.raw.execute("SELECT count(DISTINCT kind) FROM y_affinities").fetchone()[0] == 5
    assert store.raw.execute("SELECT count(DISTINCT rfm_segment) FROM y_traits").fetchone()[0] >= 5
    store.close()


def test_yardstick_equals_traits_step_with_returns_surveys_and_dateless_orders(
    tmp_path: Path, bench: ModuleType
) -> None:
    store = DuckDBStore.open(tmp_path / "r.duckdb")
    bench.populate(store, 6_000, 500)
    con = store.raw
    # returns (negative lines), refunds, orders without ids (one order per day), midnight
    # stamps (no daypart), discounts and a later line outside the cut
    con.execute("""
        INSERT INTO orders (order_id, customer_id, ordered_at, channel, product_id, category, quantity,
                            amount, discount, returned, _row_key, _identity)
        SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE 'R' || (i // 2) END, 'C' || (i % 500),
               TIMESTAMP '2025-11-20' + INTERVAL (i % 40) DAY + INTERVAL (i % 24) HOUR,
               ['web', 'phone', NULL][1 + i % 3],
               'P' || (i % 2000), NULL, CASE WHEN i % 5 = 0 THEN -1 ELSE 2 END,
               CASE WHEN i % 5 = 0 THEN -12.5 ELSE 30 + i % 9 END, i % 4, i % 7 = 0,
               'R' || i, 'customer_id:C' || (i % 500)
        FROM range(1500) t(i)""")
    con.execute("""
        INSERT INTO surveys (response_id, customer_id, answered_at, kind, score, scale_max,
                             _row_key, _identity)
        SELECT 'S' || i, 'C' || (i % 300), TIMESTAMP '2025-01-01' + INTERVAL (i % 300) DAY,
               ['nps', 'csat', 'ces', 'trust'][1 + i % 4], i % 6, 5, 'S' || i, 'customer_id:C' || (i % 300)
        FROM range(900) t(i)""")
    con.execute("""
        INSERT INTO consents (customer_id, purpose, granted, recorded_at, _row_key, _identity)
        SELECT 'C' || (i % 200), ['email', 'profiling'][1 + i % 2], i % 3 = 0,
               TIMESTAMP '2025-03-01' + INTERVAL (i) HOUR, 'K' || i, 'customer_id:C' || (i % 200)
        FROM range(600) t(i)""")
    # places: a third with coordinates, a third with a postcode (some without a country, some
    # unknown), stores placed by coordinates or by postcode, and a tie between two stores
    con.execute("""
        UPDATE customers SET
          latitude = CASE WHEN hash(customer_id) % 3 = 0 THEN 40 + hash(customer_id) % 7 END,
          longitude = CASE WHEN hash(customer_id) % 3 = 0 THEN -5 + hash(customer_id) % 11 END,
          postcode = CASE WHEN hash(customer_id) % 3 = 1 THEN 'p ' || (hash(customer_id) % 60) END,
          country = CASE WHEN hash(customer_id) % 5 = 0 THEN NULL ELSE 'fr' END""")
    con.execute("""
        INSERT INTO postcodes (country, postcode, latitude, longitude, _row_key)
        SELECT 'FR', 'P' || i, 41 + i % 5, -3 + i % 9, 'FR|P' || i FROM range(50) t(i)""")
    con.execute("""
        INSERT INTO stores (store_id, latitude, longitude, postcode, country, _row_key)
        VALUES ('A', 42, 0, NULL, NULL, 'A'), ('B', 42, 0, NULL, NULL, 'B'),
               ('C', NULL, NULL, 'P7', 'FR', 'C'), ('D', NULL, NULL, 'P99', 'FR', 'D')""")
    assert _both(store, bench) == []
    placed = con.execute(
        "SELECT count(*) FILTER (location_source = 'coordinates'),"
        " count(*) FILTER (location_source = 'postcode'), count(*) FILTER (nearest_store_id = 'C'),"
        " count(*) FILTER (nearest_store_id = 'A') FROM y_traits"
    ).fetchone()
    assert all(n > 0 for n in placed), placed
    traits = con.execute(
        "SELECT count(*) FILTER (returns_ratio > 0), count(*) FILTER (latest_nps IS NOT NULL),"
        " count(*) FILTER (NOT consent_profiling), count(*) FILTER (top_daypart IS NOT NULL) FROM y_traits"
    ).fetchone()
    assert all(n > 0 for n in traits), traits
    store.close()
