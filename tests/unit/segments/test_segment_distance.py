"""``distance_km("S1")`` in the rule language: checking, its messages, and real-time meaning."""

from __future__ import annotations

from datetime import date

import pytest

from personae.errors import RuleError
from personae.segments import expr as x
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from personae.traits.places import haversine_km

AS_OF = date(2025, 6, 30)
STORES = {"S1": (48.8566, 2.3522), "S2": (51.5074, -0.1278)}


def test_a_distance_is_a_number_about_the_customer() -> None:
    rule = check_rule('distance_km("S1") <= 10 and distance_km(store="S2") > 5')
    assert isinstance(rule.expr, x.And)
    first = rule.expr.operands[0]
    assert isinstance(first, x.Compare) and first.left == x.Distance("S1")
    assert rule.expr.operands[1].left == x.Distance("S2")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            'distance_km("S3") < 5',
            'no store "S3" with a place (coordinates, or a known postcode) (column 13) '
            "(did you mean `S2` or `S1`?)",
        ),
        (
            'distance_km("Paris") < 5',
            'no store "Paris" with a place (coordinates, or a known postcode) (column 13) '
            "(stores with a place: S1, S2 "
            "(personae ingest stores FILE: latitude/longitude or postcode + country))",
        ),
        (
            'distance_km(customer, "S1") < 5',
            "distance_km() takes only the store: the customer is the one the rule is about (column 13) "
            '(e.g. distance_km("S1") <= 10)',
        ),
        ('distance_km("S1") == "near"', 'cannot compare `distance_km(…)` (a number) with "near" (a string)'),
        ("distance_km() < 5", "distance_km() needs its store"),
        ("distance_km(S1) < 5", 'takes a string in quotes: "S1"'),
        ('distance_km("S1")', "`distance_km(…)` is a number, not a condition"),
    ],
)
def test_mistakes_are_one_line_with_a_hint(rule: str, message: str) -> None:
    with pytest.raises(RuleError) as err:
        check_rule(rule, stores=STORES)
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_without_the_list_of_stores_any_id_passes() -> None:
    """A rule checked where the stores are not known (definitions loaded at build) is kept; an id
    with no place is then unknown, like a missing trait."""
    assert check_rule('distance_km("S9") < 5').expr.left == x.Distance("S9")  # type: ignore[union-attr]


def result(rule: str, traits: dict[str, object]) -> bool | None:
    evaluator = ProfileEvaluator({}, STORES)
    return evaluator.evaluate(check_rule(rule), CustomerState.of("C", traits), AS_OF)


LONDON = {"location_latitude": 51.5074, "location_longitude": -0.1278}


def test_real_time_distance_and_three_valued_logic() -> None:
    assert haversine_km(51.5074, -0.1278, *STORES["S1"]) == pytest.approx(343.56, abs=0.01)
    assert result('distance_km("S1") between 343 and 344', LONDON) is True
    assert result('distance_km("S2") < 0.001', LONDON) is True
    assert result('distance_km("S2") < distance_km("S1")', LONDON) is True
    # unknown: no place for the customer (none, half of one, NaN) or the store
    for traits in ({}, {"location_latitude": 51.5}, {**LONDON, "location_longitude": float("nan")}):
        assert result('distance_km("S1") < 500', traits) is None
        assert result('distance_km("S1") is null', traits) is True
    assert result('distance_km("S9") < 500', LONDON) is None
    assert result('not (distance_km("S9") < 500)', LONDON) is None
    assert result('distance_km("S9") < 500 or distance_km("S1") < 500', LONDON) is True
