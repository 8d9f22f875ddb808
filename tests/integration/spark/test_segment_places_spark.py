"""Places on Spark: ``distance_km`` and the nearest-store traits are the same as on DuckDB and in
real time (a null place stays unknown on every engine: neither engine's LEAST is used, which
skips nulls)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import ibis
import pyarrow as pa
import pytest

from personae.segments.batch import BatchSources, compile_segments
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from personae.traits.places import customer_places

AS_OF = date(2025, 6, 30)
STORES = {"S1": (48.8566, 2.3522), "S2": (51.5074, -0.1278), "S3": (45.7640, 4.8357)}
RULES = [
    'distance_km("S1") <= 300',
    'distance_km("S2") between 100 and 900',
    'distance_km("S1") is null',
    'distance_km("S9") is null',
    'distance_km("S2") < distance_km("S1")',
    'not (distance_km("S3") > 400)',
]
TRAITS_DDL = "customer_id string, location_latitude double, location_longitude double"


def places(seed: int = 5, n: int = 60) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for c in range(n):
        known = rng.random() > 0.15
        rows.append(
            {
                "customer_id": f"C{c}",
                "location_latitude": rng.uniform(42, 56) if known else None,
                "location_longitude": rng.uniform(-5, 10) if known or rng.random() < 0.5 else None,
            }
        )
    return rows


def members(con: Any, traits: pa.Table, spark: Any = None) -> dict[str, set[str]]:
    if spark is None:
        con.create_table("traits_places", traits, overwrite=True)
    else:
        spark.createDataFrame(traits.to_pandas(), schema=TRAITS_DDL).createOrReplaceTempView("traits_places")
    library = {f"r{i}": check_rule(r) for i, r in enumerate(RULES)}
    sources = BatchSources(AS_OF, con.table("traits_places"), stores=STORES)
    compiled = compile_segments(list(library), library, sources)
    rows = con.to_pyarrow(compiled.table).to_pylist()
    return {n: {r["customer_id"] for r in rows if r[col]} for n, col in compiled.columns.items()}


def test_distance_means_the_same_on_spark_duckdb_and_in_real_time(spark: Any) -> None:
    rows = places()
    traits = pa.Table.from_pylist(rows)
    duck = members(ibis.duckdb.connect(), traits)
    on_spark = members(ibis.pyspark.connect(spark), traits, spark)
    evaluator = ProfileEvaluator({f"r{i}": check_rule(r) for i, r in enumerate(RULES)}, STORES)
    real: dict[str, set[str]] = {f"r{i}": set() for i in range(len(RULES))}
    for row in rows:
        for name in evaluator.members(CustomerState.of(row["customer_id"], row), AS_OF):
            real[name].add(row["customer_id"])
    for i, rule in enumerate(RULES):
        assert duck[f"r{i}"] == real[f"r{i}"], f"DuckDB vs real time: {rule}"
        assert on_spark[f"r{i}"] == duck[f"r{i}"], f"Spark vs DuckDB: {rule}"
    assert sum(0 < len(m) < len(rows) for m in duck.values()) >= len(RULES) - 1


CUSTOMERS_DDL = "customer_id string, country string, postcode string, latitude double, longitude double"
STORES_DDL = "store_id string, country string, postcode string, latitude double, longitude double"


def arrow(rows: list[dict[str, Any]], ddl: str) -> pa.Table:
    types = {"string": pa.string(), "double": pa.float64()}
    fields = [tuple(part.split()) for part in ddl.split(", ")]
    return pa.Table.from_pylist(rows, schema=pa.schema([(n, types[t]) for n, t in fields]))


def test_nearest_store_is_the_same_on_spark_and_duckdb(spark: Any) -> None:
    customers = arrow(
        [
            {
                "customer_id": r["customer_id"],
                "latitude": r["location_latitude"],
                "longitude": r["location_longitude"],
            }
            for r in places(seed=9, n=30)
        ],
        CUSTOMERS_DDL,
    )
    stores = arrow(
        [{"store_id": k, "latitude": v[0], "longitude": v[1]} for k, v in STORES.items()], STORES_DDL
    )
    duck = ibis.duckdb.connect()
    c, s = duck.create_table("cp", customers), duck.create_table("sp", stores)
    out = {"duckdb": duck.to_pyarrow(customer_places(c, s, None)).to_pylist()}
    spark.createDataFrame(customers.to_pandas(), schema=CUSTOMERS_DDL).createOrReplaceTempView("cp")
    spark.createDataFrame(stores.to_pandas(), schema=STORES_DDL).createOrReplaceTempView("sp")
    con = ibis.pyspark.connect(spark)
    out["spark"] = con.to_pyarrow(customer_places(con.table("cp"), con.table("sp"), None)).to_pylist()
    duck_rows = {r["customer_id"]: r for r in out["duckdb"]}
    spark_rows = {r["customer_id"]: r for r in out["spark"]}
    assert spark_rows.keys() == duck_rows.keys() and len(duck_rows) == 30
    for cid, row in duck_rows.items():
        other = spark_rows[cid]
        assert other["nearest_store_id"] == row["nearest_store_id"]
        assert other["location_source"] == row["location_source"]
        if row["nearest_store_km"] is None:
            assert other["nearest_store_km"] is None
        else:
            assert other["nearest_store_km"] == pytest.approx(row["nearest_store_km"], rel=1e-12)
    assert sum(r["nearest_store_id"] is not None for r in duck_rows.values()) >= 20
