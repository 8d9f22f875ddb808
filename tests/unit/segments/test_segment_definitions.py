"""Windows, definitions, dependency order, built-in segments and the template library."""

from __future__ import annotations

from datetime import date

import pytest

from personae.app.segments.library import load_templates
from personae.config.traits import RFM_SEGMENTS, RfmRule
from personae.errors import InputError, RuleError
from personae.segments.builtin import builtin_kind, builtin_segments, family, rfm_names
from personae.segments.check import check_rule
from personae.segments.definitions import (
    SegmentDefinition,
    check_definitions,
    parse_definitions,
    validate_name,
)
from personae.segments.dependencies import dependency_order
from personae.segments.functions import Window, add_months, parse_window

AS_OF = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("text", "first_day"),
    [
        ("1d", date(2025, 6, 30)),
        ("7d", date(2025, 6, 24)),
        ("90d", date(2025, 4, 2)),
        ("12w", date(2025, 4, 8)),
        ("1m", date(2025, 5, 31)),
        ("6m", date(2024, 12, 31)),
        ("1y", date(2024, 7, 1)),
        (" 2 Y ", date(2023, 7, 1)),
    ],
)
def test_windows_end_on_the_as_of_day(text: str, first_day: date) -> None:
    assert parse_window(text).start(AS_OF) == first_day


def test_month_windows_clamp_to_month_ends() -> None:
    assert Window(3, "m").start(date(2025, 5, 31)) == date(2025, 3, 1)  # 28 Feb + 1 day
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), -2) == date(2024, 11, 30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7h", "unknown window unit `h`"),
        ("0d", "between 1 and 36500 days"),
        ("101y", "between 1 and 100 years"),
        ("d", "not a number followed by a unit"),
        ("", "not a number followed by a unit"),
    ],
)
def test_bad_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


def test_dependency_order_and_cycles() -> None:
    assert dependency_order({"b": {"a"}, "a": set(), "c": {"b", "x"}}) == ["a", "b", "c"]
    with pytest.raises(RuleError, match="cycle: a → b → c → a"):
        dependency_order({"a": {"b"}, "b": {"c"}, "c": {"a"}})


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 81, 'bad"name', "-dash first", "Champions", "lifecycle:mine", "value:gold"]
)
def test_names_that_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        validate_name(name, builtin_segments())


def test_names_that_are_fine() -> None:
    for name in ("Cart abandoners", "Age 55+", "Young adults North & South", "staff", "VIP (2025) #1"):
        assert validate_name(f" {name} ") == name


def test_yaml_definitions() -> None:
    defs = parse_definitions(
        "segments:\n  - name: a\n    rule: frequency >= 1\n    description: x\n    approach: value\n"
        "  - {name: b, rule: 'in_segment(\"a\")'}\n",
        "f.yaml",
    )
    assert [(d.name, d.rule, d.description, d.extra) for d in defs] == [
        ("a", "frequency >= 1", "x", {"approach": "value"}),
        ("b", 'in_segment("a")', "", {}),
    ]
    assert parse_definitions("- {name: a, rule: 'true'}", "f")[0].name == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("segments: [", "not valid YAML"),
        ("segments: []", "expected a list of segments"),
        ("segments:\n  - name: a\n", "needs a `name` and a `rule`"),
        ("- {name: a, rule: x}\n- {name: a, rule: y}", "defined twice: a"),
    ],
)
def test_bad_yaml(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_definitions(text, "f.yaml")


def test_check_definitions_orders_by_dependency_and_rejects_cycles() -> None:
    defs = {
        n: SegmentDefinition(n, r)
        for n, r in (
            ("vip not staff", 'in_segment("vip") and not in_segment("staff")'),
            ("vip", "monetary > 1000"),
            ("staff", 'customer_id in ["S1"]'),
        )
    }
    checked, errors = check_definitions(defs)
    assert list(checked) == ["vip", "staff", "vip not staff"] and not errors
    cyclic = {"a": SegmentDefinition("a", 'in_segment("b")'), "b": SegmentDefinition("b", 'in_segment("a")')}
    with pytest.raises(RuleError, match="cycle"):
        check_definitions(cyclic)


def test_check_definitions_can_skip_bad_rules_and_their_users() -> None:
    defs = {
        "bad": SegmentDefinition("bad", "nope > 1"),
        "user": SegmentDefinition("user", 'in_segment("bad")'),
        "fine": SegmentDefinition("fine", "frequency > 1"),
    }
    with pytest.raises(RuleError, match="segment 'bad': unknown trait"):
        check_definitions(defs)
    checked, errors = check_definitions(defs, strict=False)
    assert list(checked) == ["fine"] and set(errors) == {"bad", "user"}


def test_builtin_segments() -> None:
    b = builtin_segments()
    assert set(list(b)[: len(RFM_SEGMENTS)]) == set(RFM_SEGMENTS)
    assert b["Champions"].rule == 'rfm_segment == "Champions"'
    assert b["Can't Lose Them"].rule == 'rfm_segment == "Can\'t Lose Them"'
    assert b["lifecycle:active"].rule == 'lifecycle_stage == "active"'
    assert b["value:top10"].rule == 'value_tier == "top10"'
    assert all(d.builtin and d.version == 0 for d in b.values())
    for d in b.values():
        check_rule(d.rule)
    assert family("lifecycle") == [
        f"lifecycle:{s}" for s in ("prospect", "new", "active", "at_risk", "lapsed")
    ]
    assert family("value") == ["value:top1", "value:top10", "value:top25", "value:rest"]
    assert builtin_kind("At Risk") == "rfm" and builtin_kind("nope") is None


def test_builtin_rfm_names_follow_the_settings() -> None:
    rules = [RfmRule(name="Best", r=(4, 5), fm=(4, 5)), RfmRule(name="Rest", r=(1, 5), fm=(1, 5))]
    assert rfm_names(rules) == ["Best", "Rest"]
    assert "Best" in builtin_segments(rules) and "Champions" not in builtin_segments(rules)


ISSUE_EXAMPLES = [
    "recency_days <= 30 and frequency >= 3",
    'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0',
    'events("product_view", category="shoes", within="14d") >= 2 '
    'and orders(category="shoes", within="14d") == 0',
    'region in ["North", "South"] and age between 25 and 34',
    '"outdoor" in interests',
    'orders(channel="web", within="365d") >= 1 and orders(channel="store", within="365d") == 0',
    "frequency == 1 and days_since_first_order <= 30",
    'days_until_birthday <= 14 and consent("email")',
    'in_segment("Champions") and not in_segment("staff")',
    'affinity("team:Lakers") >= 0.5',
    'value_tier == "top10" and p_alive < 0.5',
    'spend(category="shoes", within="90d") > 100',
]


def test_templates_cover_every_example_and_approach() -> None:
    templates = load_templates()
    rules = {t.rule for t in templates}
    for example in ISSUE_EXAMPLES:
        assert example in rules, example
    approaches = {t.extra["approach"] for t in templates}
    assert approaches == {"behavioural", "geographic", "demographic", "psychographic", "value"}
    themes = {t.extra["theme"] for t in templates}
    for theme in (
        "occasion",
        "purchase behaviour",
        "lifecycle stage",
        "loyalty",
        "region",
        "city",
        "home store",
        "age band",
        "gender",
        "occupation",
        "interests",
        "lifestyle",
        "tiers",
    ):
        assert theme in themes, theme
    checked, errors = check_definitions({**builtin_segments(), **{t.name: t for t in templates}})
    assert not errors and len(checked) == len(templates) + len(builtin_segments())


def test_referenced_segments_reads_the_syntax_even_when_a_rule_no_longer_checks() -> None:
    from personae.segments.definitions import referenced_segments

    assert referenced_segments('retired_trait > 1 or (in_segment("a") and not in_segment(name="b"))') == {
        "a",
        "b",
    }
    assert referenced_segments("frequency > 1") == set()
    assert referenced_segments("frequency >") == set()  # does not parse: refers to nothing
