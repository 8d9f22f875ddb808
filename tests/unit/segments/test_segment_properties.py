"""Event properties, property aggregates and text tests: what the checker accepts and refuses,
the pattern dialect, and the real-time evaluator on a hand-made history."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from personae.errors import RuleError
from personae.segments import expr as x
from personae.segments.check import check_rule
from personae.segments.patterns import compile_pattern
from personae.segments.realtime import CustomerState, ProfileEvaluator

AS_OF = date(2025, 6, 30)


def test_where_reads_properties_typed_by_what_they_are_compared_with() -> None:
    rule = check_rule('events("order_completed", where=\'coupon == "XMAS" and revenue > 100\') >= 1')
    agg = rule.expr.left  # type: ignore[attr-defined]
    assert isinstance(agg, x.Aggregate) and agg.where is not None
    parts = agg.where.operands  # type: ignore[attr-defined]
    assert parts[0].left == x.Prop(("coupon",), "string")
    assert parts[1].left == x.Prop(("revenue",), "number")


def test_nested_keys_and_boolean_properties() -> None:
    rule = check_rule("events(where='context.campaign.source == \"newsletter\" and not is_first') > 0")
    where = rule.expr.left.where  # type: ignore[attr-defined]
    assert where.operands[0].left == x.Prop(("context", "campaign", "source"), "string")
    assert where.operands[1].operand == x.Prop(("is_first",), "boolean")


def test_dotted_names_outside_where_are_unknown_traits() -> None:
    with pytest.raises(RuleError, match=re.escape("unknown trait or attribute `context.campaign`")):
        check_rule('context.campaign == "x"')


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("events(where='revenue > \"a\" and a > 1 > 2') > 0", "comparisons cannot be chained"),
        ("events(where='coupon == plan') > 0", "neither says whether it is a number"),
        ("events(where='orders() > 1') > 0", "cannot be used in a `where`"),
        ("events(where='frequency >= ') > 0", "in where="),
        ("events(where=revenue) > 0", "takes a condition in quotes"),
        ('sum_of(type="order_completed") > 0', "needs its property"),
        ('sum_of("order_completed", revenue) > 0', "property name in quotes"),
        ('first_of("signed_up", "plan") == first_of("x", "plan")', "neither says"),
        ('starts_with(frequency, "9")', "reads a text; `frequency` is a number"),
        ('matches(city, "(a+)+b")', "groups are not in the pattern dialect"),
        ('matches(city, "a**")', "a repeat must follow"),
        ('matches(city, "x{1,1000}")', "repeats go from 0 to 100"),
        ('starts_with(city, "")', "non-empty"),
        ('lower(city) > "a"', "can only be compared with == or !="),
    ],
)
def test_mistakes_are_reported(rule: str, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)):
        check_rule(rule)


def test_property_names_from_the_data_suggest_the_closest() -> None:
    known = {"revenue", "coupon", "context.campaign.source"}
    with pytest.raises(RuleError) as err:
        check_rule("events(where='revnue > 100') > 0", properties=known)
    assert err.value.suggestions == ["revenue"]
    assert err.value.position == len("events(where='")  # points into the where text
    with pytest.raises(RuleError) as err:
        check_rule('sum_of("context.campain.source") > 0', properties=known)
    assert err.value.suggestions == ["context.campaign.source"]
    check_rule("events(where='revenue > 100') > 0", properties=known)
    check_rule("events(where='anything > 100') > 0")  # no names known: any name passes


def test_a_single_argument_of_a_property_aggregate_is_the_property() -> None:
    agg = check_rule('sum_of("revenue") > 0').expr.left  # type: ignore[attr-defined]
    assert agg.filters == () and agg.prop == x.Prop(("revenue",), "number")


# -- the pattern dialect -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("^94[0-9]{3}$", "94110", True),
        ("^94[0-9]{3}$", "941100", False),
        ("^94[0-9]{3}$", "94110\n", False),  # `$` is the end of the text, not of a line
        ("@acme\\.com$", "bob@acme.com", True),
        ("@acme\\.com$", "bob@acmexcom", False),
        ("a.c", "a\nc", True),  # `.` is any character, line ends too
        ("\\w+", "é", False),  # \w is ASCII everywhere
        ("\\d", "٣", False),  # so is \d (not an Arabic-Indic digit)
        ("^pro$|^free$", "free", True),
        ("^pro$|^free$", "freemium", False),
        ("colou?r", "my color", True),
        ("[^a-c]", "abc", False),
        ("x{2,}", "axxb", True),
        ("x{2,}", "axb", False),
        ("^$", "", True),
    ],
)
def test_pattern_dialect(pattern: str, text: str, found: bool) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.search(text) is found
    # the portable spelling means the same to Python's engine (`\z` is spelled `\Z` there)
    assert bool(re.search(compiled.sql.replace("\\z", "\\Z"), text)) is found


def test_the_matcher_is_linear_where_backtracking_is_not() -> None:
    """``a*a*a*a*a*b`` on 5,000 a's backtracks ~10^17 steps in Python's ``re``; ours is linear."""
    assert compile_pattern("a*a*a*a*a*b").search("a" * 5000) is False


@pytest.mark.parametrize("bad", ["(a)", "a|", "\\q", "[a", "a{3,2}", "^^a", "a$b", "[z-a]", "x" * 201])
def test_patterns_outside_the_dialect_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        compile_pattern(bad)


# -- real time on a hand-made history ------------------------------------------------------------
def _events() -> list[dict[str, object]]:
    def ev(day: int, kind: str, props: str | None) -> dict[str, object]:
        return {"type": kind, "occurred_at": datetime(2025, 6, day, 12), "properties": props}

    return [
        ev(1, "signed_up", '{"plan": "free"}'),
        ev(10, "order_completed", '{"revenue": 120, "coupon": "XMAS"}'),
        ev(20, "order_completed", '{"revenue": 30.5, "coupon": null}'),
        ev(25, "order_completed", '{"revenue": "90", "coupon": "SUMMER"}'),  # text is no number
        ev(26, "signed_up", '{"plan": "pro", "context": {"campaign": {"source": "newsletter"}}}'),
        ev(27, "order_completed", "not json"),
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('events("order_completed", where=\'coupon == "XMAS" and revenue > 100\') == 1', True),
        ("events(\"order_completed\", where='revenue > 0') == 2", True),  # "90" is not a number
        ("events(\"order_completed\", where='coupon is null') == 2", True),  # null, not json
        ('events("order_completed", where=\'not (coupon == "XMAS")\') == 1', True),  # unknown ≠ false
        ('sum_of("order_completed", "revenue") == 150.5', True),
        ('avg_of("order_completed", "revenue") == 75.25', True),
        ('min_of("order_completed", "revenue", within="7d") is null', True),
        ('count_distinct_of("order_completed", "coupon") == 2', True),
        ('first_of("signed_up", "plan") == "free" and last_of("signed_up", "plan") == "pro"', True),
        ("events(where='context.campaign.source == \"newsletter\"') == 1", True),
        ('starts_with(last_of("order_completed", "coupon"), "SUM")', True),
        ('matches(lower(first_of("order_completed", "coupon")), "^x[a-z]+$")', True),
        ('max_of("signed_up", "revenue") > 0', None),  # no value: unknown
    ],
)
def test_real_time_on_a_hand_made_history(rule: str, expected: bool | None) -> None:
    state = CustomerState.of("C1", {}, events=_events())
    checked = check_rule(rule)
    assert ProfileEvaluator({}).evaluate(checked, state, AS_OF) is expected
