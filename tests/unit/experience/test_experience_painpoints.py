"""Ranking pain points: customers, value at stake and the NPS gap, worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from personae.experience.metrics import nps
from personae.experience.painpoints import rank_pain_points


def test_rank_by_value_and_by_customers() -> None:
    hits = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "a", "a"],
            "stage": ["delivery", "delivery", "support", "support", "support"],
            "signal": [
                "failed_delivery",
                "failed_delivery",
                "support_contact",
                "support_contact",
                "support_contact",
            ],
            "occurrences": [1, 2, 1, 1, 3],
        }
    )
    bases = pd.DataFrame(
        {
            "stage": ["delivery", "support"],
            "signal": ["failed_delivery", "support_contact"],
            "exposed": [4, 10],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "value": [100.0, 50.0, 400.0, 10.0],
            "latest_nps": [2.0, 3.0, None, 10.0],
        }
    )
    rows = rank_pain_points(hits, bases, customers)
    assert [(r["signal"], r["customers"], r["value_at_stake"]) for r in rows] == [
        ("support_contact", 2, 500.0),
        ("failed_delivery", 2, 150.0),
    ]
    fd = rows[1]
    assert fd["occurrences"] == 3 and fd["rate"] == 0.5 and fd["rank"] == 2
    # affected answerers a, b: two detractors → −100; the others: d promoter → +100
    assert fd["nps_affected"] == -100 and fd["nps_others"] == 100 and fd["nps_gap"] == -200
    assert fd["nps_gap_se"] == pytest.approx(math.hypot(nps([2, 3]).se or 0, nps([10]).se or 0))
    sc = rows[0]
    assert sc["occurrences"] == 5 and sc["nps_affected_n"] == 1  # only a answered
    # by customers: a tie (2 and 2), broken by value
    by_customers = rank_pain_points(hits, bases, customers, by="customers")
    assert [r["signal"] for r in by_customers] == ["support_contact", "failed_delivery"]


def test_no_hits() -> None:
    empty = pd.DataFrame(columns=["customer_id", "stage", "signal", "occurrences"])
    bases = pd.DataFrame(columns=["stage", "signal", "exposed"])
    customers = pd.DataFrame(columns=["customer_id", "value", "latest_nps"])
    assert rank_pain_points(empty, bases, customers) == []
