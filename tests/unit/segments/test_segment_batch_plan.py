"""How the batch compiler plans a query (no engine needed): shared calls, existence tests, constants."""

from __future__ import annotations

from datetime import date

import ibis
import pytest

from personae.segments.batch import BatchSources, _counted_exactly, compile_segments
from personae.segments.check import check_rule

TRAITS = ibis.table({"customer_id": "string", "frequency": "int64", "region": "string"}, name="traits")
ORDERS = ibis.table(
    {
        "customer_id": "string",
        "order_id": "string",
        "ordered_at": "timestamp",
        "channel": "string",
        "store_id": "string",
        "product_id": "string",
        "category": "string",
        "quantity": "float64",
        "amount": "float64",
        "returned": "boolean",
    },
    name="orders",
)
SOURCES = BatchSources(date(2025, 6, 30), TRAITS, orders=ORDERS)


@pytest.mark.parametrize(
    ("rule", "exact"),
    [
        ('orders(within="7d") == 0', False),
        ("orders() >= 1", False),
        ("1 <= orders()", False),
        ("orders() != 0 or orders() < 1", False),
        ("orders() > 0.5", False),
        ("orders() >= 2", True),
        ("orders() >= 1.5", True),
        ("orders() > 0 and orders() < 5", True),  # one use needs the number
        ("orders() between 1 and 3", True),
        ("orders() in [0, 2]", True),
        ("spend() > 0", False),  # sums are never counted
    ],
)
def test_existence_tests_do_not_need_distinct_orders(rule: str, exact: bool) -> None:
    assert bool(_counted_exactly(check_rule(rule).expr)) is exact


def sql(rules: dict[str, str]) -> str:
    library = {n: check_rule(r, segments=set(rules)) for n, r in rules.items()}
    return ibis.to_sql(compile_segments(list(library), library, SOURCES).table, dialect="duckdb")


def test_equal_calls_are_computed_once_and_sources_scanned_once() -> None:
    text = sql(
        {
            "a": 'orders(channel="web", within="30d") >= 2',
            "b": 'orders(within="30d", channel=["web"]) > 5 and spend(channel="web") > 10',
            "c": 'in_segment("a") or frequency > 3',
        }
    )
    assert text.count("COUNT(DISTINCT") == 1
    assert text.count('FROM "orders"') == 1


def test_strings_from_rules_never_reach_the_sql_text() -> None:
    text = sql({"a": 'region == "Nörth\'; --" and orders(channel="web\'x") >= 1'})
    assert "Nörth" not in text and "web'x" not in text and "web''x" not in text
    assert "-- " not in text.replace("--\n", "")
