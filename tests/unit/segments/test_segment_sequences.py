"""Sequences and rhythms: ``first_time``, ``regularly``, ``stopped`` — what the checker refuses,
and the real-time evaluator on a hand-made history with events exactly on window boundaries.

tests/integration/segments/test_segment_sequences_batch.py runs the same cases in batch.
"""

from __future__ import annotations

import pytest

from personae.errors import RuleError
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
    ],
)
def test_bad_arguments_are_reported_with_a_hint(rule: str, message: str) -> None:
    with pytest.raises(RuleError) as err:
        check_rule(rule)
    assert message in err.value.message
