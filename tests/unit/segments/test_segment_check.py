"""The checker: names, functions, types — and every kind of error message it gives."""

from __future__ import annotations

import doctest
from datetime import date

import pytest

from personae.errors import RuleError
from personae.segments import check, dependencies, expr, functions, language
from personae.segments import expr as x
from personae.segments.check import NAMES, check_rule, suggest
from personae.segments.functions import Window
from personae.traits.registry import ALL

SEGMENTS = {"Champions", "staff", "Loyal Customers"}


def checked(rule: str) -> x.Value:
    return check_rule(rule, segments=SEGMENTS).expr


def error(rule: str, **kw: object) -> RuleError:
    with pytest.raises(RuleError) as err:
        check_rule(rule, segments=kw.pop("segments", SEGMENTS), **kw)  # type: ignore[arg-type]
    assert err.value.rule == rule
    return err.value


@pytest.mark.parametrize("module", [language, check, dependencies, functions, expr])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_every_registry_name_is_usable() -> None:
    for name in ALL:
        assert name in NAMES
    assert NAMES["customer_id"] == "string"
    assert NAMES["recency_days"] == NAMES["monetary"] == "number"
    assert NAMES["interests"] == "list"


def test_the_issue_examples_check_to_the_expected_trees() -> None:
    assert checked("recency_days <= 30 and frequency >= 3") == x.And(
        (
            x.Compare("<=", x.Field("recency_days", "number"), x.Const(30, "number")),
            x.Compare(">=", x.Field("frequency", "number"), x.Const(3, "number")),
        )
    )
    cart = checked('events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0')
    assert cart.operands[0].left == x.Aggregate(  # type: ignore[union-attr]
        "events", "count", (("type", ("add_to_cart",)),), Window(7, "d")
    )
    assert cart.operands[1].left == x.Aggregate("orders", "count", (), Window(7, "d"))  # type: ignore[union-attr]
    shoes = checked('events("product_view", category="shoes", within="14d") >= 2')
    assert shoes.left.filters == (("category", ("shoes",)), ("type", ("product_view",)))  # type: ignore[union-attr]
    assert checked('"outdoor" in interests') == x.Contains(
        x.Field("interests", "list"), x.Const("outdoor", "string")
    )
    assert checked('days_until_birthday <= 14 and consent("email")').operands[1] == x.Consent("email")  # type: ignore[union-attr]
    assert checked('in_segment("Champions") and not in_segment("staff")') == x.And(
        (x.InSegment("Champions"), x.Not(x.InSegment("staff")))
    )
    assert checked('affinity("team:Lakers") >= 0.5').left == x.AffinityOf(None, "team:Lakers")  # type: ignore[union-attr]
    assert checked('affinity("category:shoes") >= 0.5').left == x.AffinityOf("category", "shoes")  # type: ignore[union-attr]
    spend = checked('spend(category="shoes", within="90d") > 100').left  # type: ignore[union-attr]
    assert spend == x.Aggregate("orders", "spend", (("category", ("shoes",)),), Window(90, "d"))


def test_equal_calls_are_equal_nodes_whatever_the_spelling() -> None:
    a = checked('orders(channel=["web", "app"], within="30d") >= 1').left  # type: ignore[union-attr]
    b = checked('orders(within = "30d", channel=["app", "web", "web"]) > 5').left  # type: ignore[union-attr]
    assert a == b and hash(a) == hash(b)


def test_lists_in_between_and_null_checks() -> None:
    assert checked('region in ["North", "South"]') == x.InList(
        x.Field("region", "string"), x.ConstList(("North", "South"), "string")
    )
    assert checked('interests in ["a", "b"]') == x.Overlaps(
        x.Field("interests", "list"), x.ConstList(("a", "b"), "string")
    )
    assert checked('"a" not in interests') == x.Not(
        x.Contains(x.Field("interests", "list"), x.Const("a", "string"))
    )
    assert checked("age not between 1 and 2") == x.Not(
        x.Between(x.Field("age", "number"), x.Const(1, "number"), x.Const(2, "number"))
    )
    assert checked("age is null") == x.IsNull(x.Field("age", "number"))
    assert checked("age is not null") == x.Not(x.IsNull(x.Field("age", "number")))
    assert checked("preferred_channel in channels") == x.Contains(
        x.Field("channels", "list"), x.Field("preferred_channel", "string")
    )


def test_booleans_and_dates() -> None:
    assert checked("cart_abandoned") == x.Field("cart_abandoned", "boolean")
    assert checked("cart_abandoned == false") == x.Compare(
        "==", x.Field("cart_abandoned", "boolean"), x.Const(False, "boolean")
    )
    assert checked("true") == x.Const(True, "boolean")
    # a timestamp compared with a date is compared by its day
    assert checked('first_order_at >= "2025-01-31"') == x.Compare(
        ">=", x.DayOf(x.Field("first_order_at", "timestamp")), x.Const(date(2025, 1, 31), "date")
    )
    assert checked('"2025-01-31" == first_order_at') == x.Compare(
        "==", x.Const(date(2025, 1, 31), "date"), x.DayOf(x.Field("first_order_at", "timestamp"))
    )
    assert checked('created_at between "2025-01-01" and first_order_at') == x.Between(
        x.DayOf(x.Field("created_at", "timestamp")),
        x.Const(date(2025, 1, 1), "date"),
        x.DayOf(x.Field("first_order_at", "timestamp")),
    )
    assert checked('birth_date between "1990-01-01" and "1999-12-31"') == x.Between(
        x.Field("birth_date", "date"), x.Const(date(1990, 1, 1), "date"), x.Const(date(1999, 12, 31), "date")
    )


def test_references() -> None:
    rule = check_rule('in_segment("Champions") or (in_segment("staff") and frequency > 1)', segments=SEGMENTS)
    assert rule.references == {"Champions", "staff"}


# -- every kind of error ------------------------------------------------------------------------
def test_unknown_trait_suggests_the_closest_names() -> None:
    e = error("recncy_days <= 30")
    assert "unknown trait or attribute `recncy_days`" in e.message
    assert e.position == 0
    assert e.suggestions[0] == "recency_days"
    assert "did you mean `recency_days`" in str(e)


def test_unknown_name_without_a_close_match_points_to_the_list() -> None:
    e = error("zzzzzz == 1")
    assert e.suggestions == [] and "personae segments names" in str(e)


def test_unknown_function_suggests_functions() -> None:
    e = error('evnts("x") > 1')
    assert "unknown function `evnts`" in e.message and e.suggestions == ["events"]


@pytest.mark.parametrize(
    ("rule", "message", "position"),
    [
        ('age == "x"', 'cannot compare `age` (a number) with "x" (a string)', 4),
        ('region < "x"', "can only be compared with == or !=", 7),
        ("cart_abandoned > true", "can only be compared with == or !=", 15),
        ('interests == "a"', "is a list and cannot be compared", 0),
        ("age == null", "`null` cannot be compared", 7),
        ("frequency", "`frequency` is a number, not a condition", 0),
        ("region", "`region` is a string, not a condition", 0),
        ('age between 1 and "x"', "the bounds of `between` must be numbers", 18),
        ("region between 1 and 2", "`between` needs a number or a date", 0),
        ('age in ["a"]', "is a number but the list holds strings", 4),
        ('frequency in [1, "a"]', "the list mixes numbers and strings", 13),
        ("x in []", "the list is empty", 5),
        ("age in []", "the list is empty", 7),
        ("age in [1, null]", "a list cannot hold null", 11),
        ('"a" in region', "`in` needs a list after it", 7),
        ("1 in interests", "holds strings", 0),
        ("interests in [1, 2]", "holds strings; the list holds numbers", 13),
        ("[1] == 1", "a list can only follow `in`", 0),
        ("null is null", "needs a trait or function on its left", 5),
        ('first_order_at > "yesterday"', "is not a date", 17),
        ("first_order_at > last_order_at", "dates can only be compared with a date", 15),
        ("consent", "`consent` is a function", 0),
        ("recency_days(3) > 1", "is a trait, not a function", 0),
        ('consent("emial")', 'unknown consent purpose "emial"', 8),
        ("consent()", "consent() needs its purpose", 0),
        ('in_segment("Champs")', 'unknown segment "Champs"', 11),
        ('affinity("") > 0', "affinity() needs a value", 9),
        ('events(within="7h") > 1', "unknown window unit `h`", 14),
        ('events(within="0d") > 1', "must be between 1 and 36500 days", 14),
        ('events(within="d7") > 1', "is not a number followed by a unit", 14),
        ("events(within=30) > 1", 'takes a text like "30d"', 14),
        ('orders(categroy="x") > 1', "unknown filter `categroy` for orders()", 7),
        ('orders(type="x") > 1', "unknown filter `type` for orders()", 7),
        ("events(add_to_cart) > 1", 'takes a string in quotes: "add_to_cart"', 7),
        ("events(1) > 1", "takes a string or a list of strings, not 1", 7),
        ("orders(channel=[1]) > 1", "takes strings; the list holds numbers", 15),
        ('orders("web") > 1', "takes no unnamed argument", 7),
        ('events("a", "b") > 1', "takes at most 1 unnamed argument", 12),
        ('events(within="7d", "a") > 1', "positional arguments must come before named ones", 20),
        ('events("a", type="b") > 1', "`type` is given twice", 12),
        ('consent(purpose="email", purpose="sms")', "`purpose` is given twice", 25),
    ],
)
def test_type_and_call_errors(rule: str, message: str, position: int) -> None:
    e = error(rule)
    assert message in e.message, e.message
    assert e.position == position, (e.position, language.caret(rule, e.position))


def test_error_suggestions_for_filters_and_purposes() -> None:
    assert error('orders(categroy="x") > 1').suggestions == ["category"]
    assert error('consent("emial")').suggestions == ["email"]
    assert error('in_segment("Champs")').suggestions == ["Champions"]


def test_self_reference_is_a_cycle() -> None:
    e = error('in_segment("staff")', self_name="staff")
    assert "cannot contain itself" in e.message


def test_suggest_is_case_insensitive() -> None:
    assert suggest("RECENCY_DAYS", NAMES)[0] == "recency_days"
