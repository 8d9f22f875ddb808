"""btyd_summary (Ibis on DuckDB) against the plain reference, plus hand-checked cases."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from personae.clv import btyd_summary, btyd_summary_reference, holdout_summary
from personae.errors import InputError, MissingColumnsError

CON = ibis.duckdb.connect()
END = dt.date(2024, 3, 31)


def run(expr: ibis.Table) -> pd.DataFrame:
    return CON.execute(expr).sort_values("customer_id").reset_index(drop=True)


def frame(rows: list[tuple[object, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "ordered_at": pd.to_datetime([r[1] for r in rows], format="mixed"),
            "amount": [r[2] for r in rows],
        }
    )


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    assert got["frequency"].tolist() == want["frequency"].tolist()
    for col in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, atol=1e-9)


def test_hand_checked_example() -> None:
    df = frame(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-01 17:30", 5.0),  # same day: one transaction of 15
            ("a", "2024-01-08", 20.0),
            ("a", "2024-01-15 23:59", 40.0),
            ("a", "2024-04-01", 1000.0),  # after observation_end: ignored
            ("b", "2024-03-31 12:00", 7.0),  # first purchase on observation_end: T = 0
            ("c", "2024-02-01", 3.0),
            ("c", "2024-02-01", 3.0),  # exact duplicate row: summed like any same-day line
        ]
    )
    got = run(btyd_summary(ibis.memtable(df), END))
    want = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [2, 0, 0],
            "recency": [14.0, 0.0, 0.0],
            "T": [90.0, 0.0, 59.0],  # 2024 is a leap year
            "monetary_value": [30.0, 0.0, 0.0],
        }
    )
    assert_same(got, want)
    weekly = run(btyd_summary(ibis.memtable(df), END, time_unit="W"))
    np.testing.assert_allclose(weekly["T"], [90 / 7, 0.0, 59 / 7])
    assert_same(got, btyd_summary_reference(df, END))


def test_cdnow_style_weeks() -> None:
    df = frame([("1", "1997-01-01", 29.33), ("1", "1997-01-18", 29.73), ("1", "1997-08-02", 14.96)])
    got = run(btyd_summary(ibis.memtable(df), dt.date(1997, 9, 30), time_unit="W"))
    assert got["T"].iloc[0] == pytest.approx(38.857142857)
    assert got["recency"].iloc[0] == pytest.approx(30.428571428)
    assert got["monetary_value"].iloc[0] == pytest.approx(22.345)


def test_calibration_start_drops_earlier_rows() -> None:
    df = frame([("a", "2023-12-01", 1.0), ("a", "2024-01-10", 2.0), ("a", "2024-01-20", 4.0)])
    got = run(btyd_summary(ibis.memtable(df), END, calibration_start=dt.date(2024, 1, 1)))
    assert got[["frequency", "recency", "monetary_value"]].iloc[0].tolist() == [1, 10.0, 4.0]
    assert_same(got, btyd_summary_reference(df, END, calibration_start=dt.date(2024, 1, 1)))


def test_custom_column_names_and_date_column() -> None:
    df = pd.DataFrame(
        {
            "cust": [1, 1, 2],
            "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 2)],
            "value": [1, 2, 3],  # integers are fine
        }
    )
    got = run(btyd_summary(ibis.memtable(df), END, customer_col="cust", date_col="day", amount_col="value"))
    assert got["customer_id"].tolist() == [1, 2]
    assert got["monetary_value"].tolist() == [2.0, 0.0]


def test_errors() -> None:
    df = frame([("a", "2024-01-01", 1.0)])
    with pytest.raises(MissingColumnsError):
        btyd_summary(ibis.memtable(df), END, amount_col="dollars")
    with pytest.raises(InputError):
        btyd_summary(ibis.memtable(df), END, time_unit="M")  # type: ignore[arg-type]
    text = df.assign(ordered_at=df["ordered_at"].dt.strftime("%Y%m%d"))
    with pytest.raises(InputError, match="not a date"):
        btyd_summary(ibis.memtable(text), END)


def test_holdout_summary() -> None:
    df = frame(
        [
            ("a", "2024-01-01", 1.0),
            ("a", "2024-04-02", 2.0),
            ("a", "2024-04-02", 3.0),  # same day in the holdout: one transaction of 5
            ("a", "2024-05-01", 7.0),
            ("a", "2024-07-01", 100.0),  # after holdout_end
            ("b", "2024-02-01", 1.0),  # no holdout purchase: 0
            ("c", "2024-04-05", 9.0),  # first seen in the holdout: not a calibration customer
        ]
    )
    expr = holdout_summary(ibis.memtable(df), END, dt.date(2024, 6, 30), time_unit="W")
    got = run(expr)
    assert got["customer_id"].tolist() == ["a", "b"]
    assert got["frequency_holdout"].tolist() == [2, 0]
    assert got["value_holdout"].tolist() == [12.0, 0.0]
    assert got["monetary_value_holdout"].tolist() == [6.0, 0.0]
    assert got["duration_holdout"].tolist() == pytest.approx([91 / 7, 91 / 7])
    with pytest.raises(InputError):
        holdout_summary(ibis.memtable(df), END, END)


# -- property test: the Ibis expression equals the loop-based reference -----------------------

DAY0 = dt.datetime(2024, 3, 1)
lines = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(min_value=0, max_value=45),  # days after DAY0; END is day 30
        st.integers(min_value=0, max_value=86_399),  # second of the day
        st.integers(min_value=-500, max_value=50_000),  # cents (refunds allowed)
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=lines, time_unit=st.sampled_from(["D", "W"]), use_start=st.booleans())
def test_matches_reference(rows: list[tuple[str, int, int, int]], time_unit: str, use_start: bool) -> None:
    df = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "ordered_at": [DAY0 + dt.timedelta(days=r[1], seconds=r[2]) for r in rows],
            "amount": [r[3] / 100 for r in rows],
        }
    )
    start = dt.date(2024, 3, 5) if use_start else None
    want = btyd_summary_reference(df, END, time_unit, calibration_start=start)  # type: ignore[arg-type]
    got = run(btyd_summary(ibis.memtable(df), END, time_unit, calibration_start=start))  # type: ignore[arg-type]
    assert_same(got, want)
