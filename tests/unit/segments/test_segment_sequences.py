"""Sequences and rhythms: ``first_time``, ``regularly``, ``stopped``, ``did``, ``returned`` — what
the checker refuses,
and the real-time evaluator on a hand-made history with events exactly on window boundaries.

tests/integration/segments/test_segment_sequences_batch.py runs the same cases in batch.
"""

from __future__ import annotations

import pytest

from personae.errors import RuleError
from personae.live.segments import Needs
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from segment_events import SEQUENCE_CASES, SEQUENCES_AS_OF, sequence_history

AS_OF = SEQUENCES_AS_OF
CASES = SEQUENCE_CASES


@pytest.mark.parametrize(("rule", "member"), CASES)
def test_real_time_on_a_hand_made_history(rule: str, member: bool) -> None:
    state = CustomerState.of("C1", {}, events=sequence_history())
    assert ProfileEvaluator({}).evaluate(check_rule(rule), state, AS_OF) is member


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('first_time("view")', "first_time() needs its within"),
        ('first_time(within="7d")', "first_time() needs its type"),
        ('first_time("view", within="7q")', "unknown window unit"),
        ('stopped("view", within="30d")', "stopped() takes after="),
        ('stopped("view")', "stopped() needs its after"),
        ('regularly("view", periods=5, of=3, period="1w")', "5 periods out of only 3"),
        ('regularly("view", periods=0, of=3, period="1w")', "whole number from 1 to 8"),
        ('regularly("view", periods=2, of=9, period="1w")', "whole number from 1 to 8"),
        ('regularly("view", periods="2", of=3, period="1w")', "whole number from 1 to 8"),
        ('regularly("view", periods=2.5, of=3, period="1w")', "whole number from 1 to 8"),
        ('regularly("view", periods=2, of=3)', "regularly() needs its period"),
        ('regularly("view", periods=2, of=8, period="20y")', "longer than 100 years"),
        ('first_time("view", within="7d") >= 1', "(true/false) with 1"),
        ('did("view", then="cart")', "did() needs its within"),
        ('did("view", within="1d")', "did() needs its then"),
        ('did(then="cart", within="1d")', "did() needs its type"),
        ('did("view", then="cart", within="1m")', "a month or a year has no fixed length"),
        ('did("view", then="cart", within="1d", after="2d")', "unknown filter `after` for did()"),
        ('did("view", thn="cart", within="1d")', "unknown filter `thn` for did()"),
        ('did("view", then=cart, within="1d")', 'takes a string in quotes: "cart"'),
        ('did("view", then="cart", within="1d", then_where="price >")', 'in then_where="price >"'),
        ('did("view", then="cart", within="1d", since=7)', 'takes a text like "30d"'),
        ('did("view", then="cart", within="1d") > 0', "(true/false) with 0"),
        ('returned("view", after="1m", within="7d")', "no common length"),
        ('returned("view", within="7d")', "returned() needs its after"),
        ('returned("view", after="30d")', "returned() needs its within"),
        ('returned("view", after="100y", within="1y")', "longer than 100 years"),
        ('returned("view", after="30d", within="7x")', "unknown window unit"),
    ],
)
def test_bad_arguments_are_reported_with_a_hint(rule: str, message: str) -> None:
    with pytest.raises(RuleError) as err:
        check_rule(rule)
    assert message in err.value.message
    text = str(err.value)
    assert "\n" not in text, text
    # a hint or a suggestion, or a message that spells the fix itself
    fixes = ("expected", "use d (days)", "in quotes: ")
    assert err.value.hint or err.value.suggestions or any(f in text for f in fixes), text


def test_a_misspelt_then_is_suggested() -> None:
    with pytest.raises(RuleError) as err:
        check_rule('did("view", thn="cart", within="1d")')
    assert err.value.suggestions == ["then", "within"]


def test_did_and_returned_mean_whole_days_and_weeks() -> None:
    """``within="1w"`` of did is 7 × 24 h; returned's windows add up in days (a week + 30 days)
    and in months (a year + a month): the same counts as spelling them out."""
    week = check_rule('did("view", then="cart", within="1w")')
    days = check_rule('did("view", then="cart", within="7d")')
    assert week != days  # different calls, same meaning: checked on events below
    state = CustomerState.of(
        "C1",
        {},
        events=[
            {"type": "view", "occurred_at": "2025-06-20T10:00:00"},
            {"type": "cart", "occurred_at": "2025-06-27T10:00:00"},
        ],
    )
    evaluator = ProfileEvaluator({})
    assert evaluator.evaluate(week, state, AS_OF) is evaluator.evaluate(days, state, AS_OF) is True
    returned = check_rule('returned("view", after="30d", within="1w")').expr
    assert "Window(amount=37, unit='d')" in repr(returned)
    yearly = check_rule('returned("view", after="1y", within="1m")').expr
    assert "Window(amount=13, unit='m')" in repr(yearly)


def test_live_state_keeps_the_events_that_must_follow() -> None:
    """The live service keeps only the event types rules read: did's ``then`` types too."""
    needs = Needs.of([check_rule('did("view", then="cart", then_where=\'price > 10\', within="1d")')])
    assert needs.event_types == frozenset({"view", "cart"})
    assert needs.properties
