"""Event properties on Spark: the same members as DuckDB and the real-time evaluator.

One seeded history of random events with random nested properties (values of every JSON type)
and a rule for every new function, compiled once by the batch compiler and run on both engines.
The one documented difference is left out of the data: after Spark's ``get_json_object`` a
string that looks like a JSON number or ``true`` cannot be told from one (see
``personae.store.spark._patch_json_unwrap``).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from personae.segments.batch import BatchSources, compile_segments
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from segment_events import EVENTS_SCHEMA

AS_OF = date(2025, 6, 30)
TEXTS = ["XMAS", "xmas10", "SUMMER", "pro", "Pro", "free", "", "Éclair"]
RULES = [
    'events("order_completed", where=\'coupon == "XMAS" and revenue > 100\') >= 1',
    "events(where='revenue between 20 and 80 or not is_first', within=\"30d\") >= 2",
    "events(where='context.campaign.source == \"newsletter\"') >= 1",
    "events(where='plan is null') >= 3",
    'events(where=\'starts_with(lower(coupon), "xm") or matches(plan, "^[Pp]ro$")\') >= 1',
    'sum_of("order_completed", "revenue", within="90d") > 150',
    "avg_of(\"revenue\", where='coupon is not null') >= 60",
    'min_of("order_completed", "revenue") < 20 or max_of("items") >= 3',
    'count_distinct_of("coupon") >= 2',
    'count_distinct_of("revenue", within="1y") >= 3',
    'first_of("signed_up", "plan") == "free" and last_of("signed_up", "plan") != "free"',
    'last_of("revenue") > 100',
    'first_of("is_first")',
    'ends_with(last_of("coupon"), "10") or contains(first_of("coupon"), "MAS")',
    'last_of("plan") is null',
    'first_time("order_completed", within="30d")',
    'stopped("signed_up", where=\'plan is not null\', after="1m")',
    'regularly("page_view", periods=2, of=4, period="1m")',
    'did("page_view", then="order_completed", within="7d")',
    'not did("page_view", then=["order_completed", "signed_up"], '
    'then_where=\'revenue > 50 or plan is not null\', within="30d", since="1y")',
    'did("order_completed", where=\'coupon is not null\', then="page_view", within="30d")',
    'did("page_view", then="page_view", within="3d")',
    'returned("order_completed", after="30d", within="30d")',
    'returned("page_view", after="1m", within="2m")',
]


def history(seed: int = 7, customers: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(seed)

    def value() -> Any:
        return rng.choice(
            [
                None,
                True,
                False,
                rng.randint(0, 200),
                rng.randint(0, 400) / 4,
                rng.choice(TEXTS),
                [1],
                {"a": 1},
            ]
        )

    rows = []
    for c in range(customers):
        for _ in range(rng.randint(0, 8)):
            props: dict[str, Any] = {}
            for key in rng.sample(["revenue", "coupon", "plan", "is_first", "items"], rng.randint(0, 5)):
                props[key] = value()
            if rng.random() < 0.3:
                props["context"] = {"campaign": {"source": rng.choice(["newsletter", "ads", 3])}}
            rows.append(
                {
                    "customer_id": f"C{c}",
                    # whole hours: every event a distinct time per customer, or a tie now and then
                    "occurred_at": datetime(2025, 6, 30, 12) - timedelta(hours=rng.randint(-24, 24 * 200)),
                    "type": rng.choice(["order_completed", "signed_up", "page_view"]),
                    "category": None,
                    "channel": None,
                    "product_id": None,
                    "properties": None if rng.random() < 0.05 else json.dumps(props),
                }
            )
    return rows


def members(con: Any, events: pa.Table, traits: pa.Table, spark: Any = None) -> dict[str, set[str]]:
    for name, table in (("events_props", events), ("traits_props", traits)):
        if spark is None:
            con.create_table(name, table, overwrite=True)
        else:  # a temporary view: nothing written to a warehouse folder
            ddl = ", ".join(
                f"{f.name} {'timestamp' if f.name == 'occurred_at' else 'string'}" for f in table.schema
            )
            spark.createDataFrame(table.to_pandas(), schema=ddl).createOrReplaceTempView(name)
    library = {f"r{i}": check_rule(r) for i, r in enumerate(RULES)}
    sources = BatchSources(AS_OF, con.table("traits_props"), con.table("events_props"))
    compiled = compile_segments(list(library), library, sources)
    rows = con.to_pyarrow(compiled.table).to_pylist()
    return {n: {r["customer_id"] for r in rows if r[col]} for n, col in compiled.columns.items()}


def test_properties_mean_the_same_on_spark_duckdb_and_in_real_time(spark: Any) -> None:
    from personae.store.spark import _patch_json_unwrap

    rows = history()
    events = pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA)
    traits = pa.table({"customer_id": [f"C{c}" for c in range(40)]})
    duck = members(ibis.duckdb.connect(), events, traits)
    con = ibis.pyspark.connect(spark)
    _patch_json_unwrap()
    on_spark = members(con, events, traits, spark)

    library = {f"r{i}": check_rule(r) for i, r in enumerate(RULES)}
    evaluator = ProfileEvaluator(library)
    real: dict[str, set[str]] = {n: set() for n in library}
    for c in range(40):
        state = CustomerState.of(f"C{c}", {}, events=[r for r in rows if r["customer_id"] == f"C{c}"])
        for name in evaluator.members(state, AS_OF):
            real[name].add(f"C{c}")
    for i, rule in enumerate(RULES):
        name = f"r{i}"
        assert duck[name] == real[name], f"DuckDB vs real time: {rule}"
        assert on_spark[name] == duck[name], f"Spark vs DuckDB: {rule}"
    # the rules select someone and not everyone (the comparison is not between empty sets)
    assert sum(0 < len(m) < 40 for m in duck.values()) >= len(RULES) - 3
