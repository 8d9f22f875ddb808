"""Batch evaluation on the hand-made shop: members worked out by hand, and injection safety."""

from __future__ import annotations

from datetime import date

import ibis
import pytest

from personae.app.segments.library import add_segments, segment_library
from personae.app.segments.run import batch_sources, preview
from personae.errors import RuleError
from personae.segments.batch import compile_segments, evaluate_rule
from personae.segments.check import check_rule
from personae.segments.definitions import SegmentDefinition
from personae.store import Store

AS_OF = date(2025, 6, 30)

EXPECTED = {
    "recency_days <= 30 and frequency >= 3": {"A"},
    'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0': {"D"},
    'events("product_view", category="shoes", within="14d") >= 2 '
    'and orders(category="shoes", within="14d") == 0': {"D"},
    'region in ["North", "South"] and age between 25 and 34': {"A", "B"},
    '"outdoor" in interests': {"A", "C"},
    'orders(channel="web", within="365d") >= 1 and orders(channel="store", within="365d") == 0': {"A", "B"},
    "frequency == 1 and days_since_first_order <= 30": {"B"},
    'days_until_birthday <= 14 and consent("email")': {"A"},
    'affinity("team:Lakers") >= 0.5': {"C"},
    'affinity("tag:team:Lakers") >= 0.5 and affinity("category:apparel") > 0': {"C"},
    'value_tier == "top10" and p_alive < 0.5': {"A"},
    'spend(category="shoes", within="90d") > 100': {"A"},
    # more of the language
    "orders() >= 3": {"A", "C"},  # A's order after the as-of date does not count
    'orders(channel="store") >= 1': {"C"},
    'spend(within="1y") >= 160 and spend(within="1y") < 200': {"A"},
    'events(["add_to_cart", "product_view"], within="14d") >= 3': {"D", "B"},
    'events(category="shoes") >= 1 and not (orders(category="shoes") >= 1)': {"D", "E"},
    'region not in ["North"]': {"B", "D", "F"},  # E has no region: unknown, not a member
    "region is null": {"E"},
    "age is not null and age not between 26 and 34": {"B", "C"},
    '"outdoor" not in interests': set(),  # B, D, E, F have no interests: unknown
    'interests in ["cooking", "fitness"]': {"A", "C"},
    "preferred_channel in channels": {"A", "B", "C"},
    'first_order_at < "2025-03-01"': {"C"},
    'birth_date >= "1995-01-01"': {"A", "B", "D"},
    'city == "Houston" or occupation == "chef"': {"B", "C"},
    'customer_id in ["A", "E"]': {"A", "E"},
    'consent("email") or consent("sms")': {"A"},
    "not (frequency >= 3)": {"B", "D", "E", "F"},  # no orders: frequency 0
    "true": {"A", "B", "C", "D", "E", "F"},
}


def members(store: Store, rule: str) -> set[str]:
    _, library, _ = segment_library(store)
    checked = check_rule(rule, segments=set(library))
    df = store.execute(evaluate_rule(checked, batch_sources(store, AS_OF), library))
    return set(df.loc[df.member, "customer_id"])


@pytest.mark.parametrize(("rule", "expected"), list(EXPECTED.items()))
def test_members_match_the_hand_computed_ones(built_shop: Store, rule: str, expected: set[str]) -> None:
    assert members(built_shop, rule) == expected


def test_segment_references_are_inlined(built_shop: Store) -> None:
    # RFM among A, B, C (see conftest): B New Customers, A Need Attention, C Can't Lose Them
    add_segments(built_shop, [SegmentDefinition("staff", 'customer_id in ["A"]')])
    traits = built_shop.execute(built_shop.table("traits").select("customer_id", "rfm_segment"))
    assert dict(zip(traits.customer_id, traits.rfm_segment.fillna("-"), strict=True)) == {
        "A": "Need Attention",
        "B": "New Customers",
        "C": "Can't Lose Them",
        "D": "-",
        "E": "-",
        "F": "-",
    }
    rule = '(in_segment("Need Attention") or in_segment("Can\'t Lose Them")) and not in_segment("staff")'
    assert members(built_shop, rule) == {"C"}
    assert members(built_shop, 'in_segment("lifecycle:prospect")') == {"D", "E", "F"}


def test_all_segments_in_one_query_agree_with_each_alone(built_shop: Store) -> None:
    _, library, _ = segment_library(built_shop)
    names = list(EXPECTED)
    rules = {n: check_rule(n, segments=set(library)) for n in names}
    compiled = compile_segments(names, {**library, **rules}, batch_sources(built_shop, AS_OF))
    df = built_shop.execute(compiled.table)
    for name, col in compiled.columns.items():
        alone = members(built_shop, name)
        assert set(df.loc[df[col], "customer_id"]) == alone, name


def test_injection_is_only_a_string(built_shop: Store) -> None:
    evil = "x'; DROP TABLE orders; --"
    before = built_shop.count("orders")
    rule = (
        f'region == "{evil}" or city in ["{evil}"] or orders(channel="{evil}") > 0 or affinity("{evil}") > 0'
    )
    assert members(built_shop, rule) == set()
    assert built_shop.count("orders") == before and built_shop.has_table("orders")
    _, library, _ = segment_library(built_shop)
    expr = evaluate_rule(check_rule(rule), batch_sources(built_shop, AS_OF), library)
    sql = ibis.to_sql(expr, dialect="duckdb")
    assert "DROP" not in sql and evil not in sql  # the value travels as data, not as SQL text


def test_injection_through_a_stored_segment(built_shop: Store) -> None:
    evil = "x'); DELETE FROM orders; --"
    add_segments(built_shop, [SegmentDefinition("evil') DROP TABLE traits --", f'city == "{evil}"', evil)])
    counts = preview(built_shop, ["evil') DROP TABLE traits --"])
    assert counts == {"evil') DROP TABLE traits --": 0}
    assert built_shop.count("orders") == 8 and built_shop.has_table("traits")


def test_missing_trait_columns_are_unknown(shop: Store, build_shop) -> None:  # type: ignore[no-untyped-def]
    build_shop(shop, clv=None)  # no CLV: no value_tier or p_alive columns at all
    assert "p_alive" not in shop.table("traits").columns
    assert members(shop, 'value_tier == "top10" and p_alive < 0.5') == set()
    assert members(shop, "p_alive is null") == {"A", "B", "C", "D", "E", "F"}


def test_unknown_segment_in_library_is_an_error(built_shop: Store) -> None:
    with pytest.raises(RuleError, match="unknown segment"):
        compile_segments(["nope"], {}, batch_sources(built_shop, AS_OF))


def test_preview_before_any_build(shop: Store) -> None:
    assert preview(shop, ["Champions"]) is None


def test_references_reuse_the_decided_columns_across_the_joins(built_shop: Store) -> None:
    """Trait-only segments are decided before the joins, the others after; references cross both."""
    texts = {
        "young": 'region in ["North", "South"] and age between 25 and 34',  # A, B
        "web only": 'orders(channel="web", within="1y") >= 1 and orders(channel="store", within="1y") == 0',
        "abandoner": 'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0',  # D
        "young web": 'in_segment("young") and in_segment("web only")',  # a call through a reference
        "first-timer": 'in_segment("young web") and frequency == 1',  # two layers up
        "old abandoner": 'not in_segment("young") and in_segment("abandoner")',
        "young or unknown": 'in_segment("young") or region is null',  # traits only, by reference
    }
    library: dict = {}
    for name, text in texts.items():
        library[name] = check_rule(text, segments=set(library))
    compiled = compile_segments(list(texts)[::-1], library, batch_sources(built_shop, AS_OF))
    df = built_shop.execute(compiled.table)
    got = {n: set(df.loc[df[c], "customer_id"]) for n, c in compiled.columns.items()}
    assert got == {
        "young": {"A", "B"},
        "web only": {"A", "B"},
        "abandoner": {"D"},
        "young web": {"A", "B"},
        "first-timer": {"B"},
        "old abandoner": {"D"},
        "young or unknown": {"A", "B", "E"},
    }
    sql = ibis.to_sql(compiled.table, dialect="duckdb")
    assert sql.count('"age" >= 25') == 1  # "young" is decided once and read by the others
