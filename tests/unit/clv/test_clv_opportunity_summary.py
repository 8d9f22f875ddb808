"""opportunity_summary: orders as purchase/no-purchase per week or month (the BG/BB summary)."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from personae.clv.summary import last_complete_period, opportunity_summary, period_index
from personae.errors import InputError

CON = ibis.duckdb.connect()


def orders(rows: list[tuple[int, str]]) -> ibis.Table:
    return ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": [r[0] for r in rows],
                "ordered_at": pd.to_datetime([r[1] for r in rows], format="mixed"),
                "amount": [1.0] * len(rows),
            }
        )
    )


# 2024-01-01 is a Monday: weeks W0 = Jan 1-7, W1 = 8-14, W2 = 15-21, W3 = 22-28, W4 = Jan 29-Feb 4
ROWS = [
    (1, "2024-01-01"),
    (1, "2024-01-03"),  # a second day in the trial week: busy
    (1, "2024-01-09"),
    (1, "2024-01-09 18:00"),  # same day: one purchase day
    (1, "2024-01-24"),
    (1, "2024-01-31"),  # in the holdout week
    (2, "2024-01-10"),
    (2, "2024-01-30"),
    (3, "2024-01-29"),  # first seen in the holdout: no row
    (4, "2024-01-15"),
    (5, "2024-01-12"),
    (5, "2024-01-13"),  # trial week with two days
    (5, "2024-01-20"),
    (5, "2024-01-21"),  # busy opportunity
]


def test_hand_checked_weeks_with_a_holdout() -> None:
    got = CON.execute(
        opportunity_summary(orders(ROWS), dt.date(2024, 1, 28), "week", holdout_end=dt.date(2024, 2, 4))
    ).sort_values("customer_id")
    want = pd.DataFrame(
        {
            "customer_id": [1, 2, 4, 5],
            "frequency": [2, 0, 0, 1],
            "recency": [3, 0, 0, 1],
            "n_periods": [3, 2, 1, 2],
            "active_periods": [3, 1, 1, 2],
            "busy_periods": [1, 0, 0, 2],
            "frequency_holdout": [1, 1, 0, 0],
        }
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_a_running_period_is_no_opportunity_yet() -> None:
    # calibration ends on Wednesday Jan 24: W3 is still running, its orders are ignored
    got = CON.execute(opportunity_summary(orders(ROWS), dt.date(2024, 1, 24), "week")).sort_values(
        "customer_id"
    )
    assert got["customer_id"].tolist() == [1, 2, 4, 5]
    assert got["n_periods"].tolist() == [2, 1, 0, 1]
    assert got["frequency"].tolist() == [1, 0, 0, 1]
    assert (got["frequency_holdout"] == 0).all()


def test_months() -> None:
    rows = [(1, "2024-01-31"), (1, "2024-02-01"), (1, "2024-04-30"), (2, "2024-03-15"), (2, "2024-05-02")]
    got = CON.execute(
        opportunity_summary(orders(rows), dt.date(2024, 4, 30), "month", holdout_end=dt.date(2024, 5, 31))
    ).sort_values("customer_id")
    assert got[["frequency", "recency", "n_periods", "frequency_holdout"]].values.tolist() == [
        [2, 3, 3, 0],
        [0, 0, 1, 1],
    ]


def test_period_numbers_and_errors() -> None:
    assert period_index(dt.date(2024, 1, 8), "week") - period_index(dt.date(2024, 1, 7), "week") == 1
    assert last_complete_period(dt.date(2024, 3, 31), "month") == period_index(dt.date(2024, 3, 1), "month")
    assert last_complete_period(dt.date(2024, 3, 30), "month") == period_index(dt.date(2024, 2, 1), "month")
    with pytest.raises(InputError, match="week or month"):
        period_index(dt.date(2024, 1, 1), "day")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="week or month"):
        opportunity_summary(orders(ROWS), dt.date(2024, 1, 28), "year")  # type: ignore[arg-type]
