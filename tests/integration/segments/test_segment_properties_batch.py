"""Event properties in the batch evaluator: a hand-made history on DuckDB, the pattern dialect
against DuckDB's regular expressions, and values from ``where``/``matches`` never becoming SQL."""

from __future__ import annotations

import json
from datetime import date, datetime

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.errors import RuleError
from personae.segments.batch import BatchSources, evaluate_rule
from personae.segments.check import check_rule
from personae.segments.patterns import compile_pattern
from segment_events import EVENTS_SCHEMA

AS_OF = date(2025, 6, 30)
CON = ibis.duckdb.connect()


def _history() -> BatchSources:
    def ev(day: int, kind: str, props: str | None) -> dict[str, object]:
        return {
            "customer_id": "C1",
            "occurred_at": datetime(2025, 6, day, 12),
            "type": kind,
            "category": None,
            "channel": None,
            "product_id": None,
            "properties": props,
        }

    events = [
        ev(1, "signed_up", '{"plan": "free"}'),
        ev(10, "order_completed", '{"revenue": 120, "coupon": "XMAS"}'),
        ev(20, "order_completed", '{"revenue": 30.5, "coupon": null}'),
        ev(25, "order_completed", '{"revenue": "90", "coupon": "SUMMER"}'),
        ev(26, "signed_up", '{"plan": "pro", "context": {"campaign": {"source": "newsletter"}}}'),
        ev(27, "order_completed", "[1, 2]"),  # valid JSON, but no object: every property unknown
    ]
    CON.create_table("events", pa.Table.from_pylist(events, schema=EVENTS_SCHEMA), overwrite=True)
    CON.create_table(
        "traits", pa.table({"customer_id": ["C1", "C2"], "city": ["Zürich", None]}), overwrite=True
    )
    return BatchSources(AS_OF, CON.table("traits"), CON.table("events"))


# the same history and expectations as tests/unit/segments/test_segment_properties.py (real time)
CASES = [
    ('events("order_completed", where=\'coupon == "XMAS" and revenue > 100\') == 1', True),
    ("events(\"order_completed\", where='revenue > 0') == 2", True),
    ("events(\"order_completed\", where='coupon is null') == 2", True),
    ('events("order_completed", where=\'not (coupon == "XMAS")\') == 1', True),
    ('sum_of("order_completed", "revenue") == 150.5', True),
    ('avg_of("order_completed", "revenue") == 75.25', True),
    ('min_of("order_completed", "revenue", within="7d") is null', "both"),  # C2: no events
    ('count_distinct_of("order_completed", "coupon") == 2', True),
    ('first_of("signed_up", "plan") == "free" and last_of("signed_up", "plan") == "pro"', True),
    ("events(where='context.campaign.source == \"newsletter\"') == 1", True),
    ('starts_with(last_of("order_completed", "coupon"), "SUM")', True),
    ('matches(lower(first_of("order_completed", "coupon")), "^x[a-z]+$")', True),
    ('max_of("signed_up", "revenue") > 0', False),  # unknown: no member
    ('matches(city, "^Z.rich$") and contains(lower(city), "zü")', True),
]


@pytest.mark.parametrize(("rule", "member"), CASES)
def test_batch_on_a_hand_made_history(rule: str, member: bool | str) -> None:
    table = evaluate_rule(check_rule(rule), _history())
    members = {r["customer_id"] for r in CON.to_pyarrow(table).to_pylist() if r["member"]}
    assert members == {True: {"C1"}, False: set(), "both": {"C1", "C2"}}[member]


# -- the pattern dialect means the same on DuckDB (RE2) as in Python ------------------------------
ALPHABET = "ab9.-@é\n X"
atoms = st.sampled_from(["a", "b", "9", ".", "\\.", "\\d", "\\w", "\\s", "[a-b]", "[^a9]", "@", "é", "-"])
quantifiers = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{2,}"])
alternative = st.tuples(
    st.booleans(), st.lists(st.tuples(atoms, quantifiers).map("".join), min_size=1, max_size=4), st.booleans()
).map(lambda t: ("^" if t[0] else "") + "".join(t[1]) + ("$" if t[2] else ""))
patterns = st.lists(alternative, min_size=1, max_size=2).map("|".join)


@settings(max_examples=300, deadline=None)
@given(pattern=patterns, texts=st.lists(st.text(ALPHABET, max_size=8), min_size=1, max_size=8))
def test_pattern_dialect_agrees_with_duckdb(pattern: str, texts: list[str]) -> None:
    compiled = compile_pattern(pattern)
    t = ibis.memtable(pa.table({"i": list(range(len(texts))), "s": texts}))
    found = CON.to_pyarrow(t.select("i", m=t.s.re_search(compiled.sql)).order_by("i")).column("m").to_pylist()
    assert found == [compiled.search(s) for s in texts], pattern


# -- injection: values in where/matches travel as data ----------------------------------------------
def test_injection_through_where_and_matches_is_only_a_string() -> None:
    evil = "x'; DROP TABLE events; --"
    where = f'coupon == "{evil}" or starts_with(plan, "{evil}")'.replace("'", "\\'")
    rule = (
        f"events(where='{where}') > 0 "
        f'or matches(city, "{evil.replace(";", "")}") or last_of("signed_up", "plan") == "{evil}"'
    )
    table = evaluate_rule(check_rule(rule), _history())
    sql = ibis.to_sql(table, dialect="duckdb")
    assert "DROP" not in sql and evil not in sql
    assert not any(r["member"] for r in CON.to_pyarrow(table).to_pylist())
    assert CON.table("events").count().execute() == 6


@pytest.mark.parametrize(
    "rule",
    [
        "events(where='coupon\\') > 0 or (1 == 1') > 0",
        "events(where='a; DROP TABLE events == 1') > 0",
        'sum_of("revenue\') FROM events; --") > 0',
        'sum_of("a b") > 0',
    ],
)
def test_a_property_name_is_only_ever_a_name(rule: str) -> None:
    with pytest.raises(RuleError):
        check_rule(rule)


def test_property_values_of_every_json_type_are_unknown_unless_of_the_type_read() -> None:
    values = [1, 1.5, "1", True, None, [1], {"a": 1}]
    events = [
        {
            "customer_id": f"C{i}",
            "occurred_at": datetime(2025, 6, 1),
            "type": "t",
            "properties": json.dumps({"v": v}),
        }
        for i, v in enumerate(values)
    ]
    con = ibis.duckdb.connect()
    con.create_table("events", pa.Table.from_pylist(events, schema=EVENTS_SCHEMA))
    con.create_table("traits", pa.table({"customer_id": [f"C{i}" for i in range(len(values))]}))
    sources = BatchSources(AS_OF, con.table("traits"), con.table("events"))

    def members(rule: str) -> set[str]:
        table = evaluate_rule(check_rule(rule), sources)
        return {r["customer_id"] for r in con.to_pyarrow(table).to_pylist() if r["member"]}

    assert members("events(where='v >= 1') > 0") == {"C0", "C1"}
    assert members("events(where='v == \"1\"') > 0") == {"C2"}
    assert members("events(where='v == true') > 0") == {"C3"}
    assert members("events(where='v is null') > 0") == {"C4", "C5", "C6"}
