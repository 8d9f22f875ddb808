"""Published CDNOW results (Fader, Hardie & Lee 2005; Fader & Hardie 2013), end to end.

Needs ../shared/datasets/cdnow/cdnow_sample.csv (or $PERSONAE_CDNOW_DIR); skipped without it.
Calibration 1997-01-01..1997-09-30, holdout to 1998-06-30, time in (fractional) weeks.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from personae.clv import (
    BetaGeoModel,
    GammaGammaModel,
    btyd_summary,
    btyd_summary_reference,
    customer_lifetime_value,
    evaluate_holdout,
    holdout_summary,
)

pytestmark = pytest.mark.cdnow

CAL_END = dt.date(1997, 9, 30)
HOLDOUT_END = dt.date(1998, 6, 30)


def cdnow_dir() -> Path:
    env = os.environ.get("PERSONAE_CDNOW_DIR")
    if env:
        return Path(env)
    return Path(__file__).parents[3] / ".." / "shared" / "datasets" / "cdnow"


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    path = cdnow_dir() / "cdnow_sample.csv"
    if not path.is_file():
        pytest.skip(f"CDNOW sample not found at {path} (set PERSONAE_CDNOW_DIR)")
    df = pd.read_csv(path, dtype={"master_id": str, "customer_id": str, "date": str})
    df["ordered_at"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    expr = btyd_summary(ibis.memtable(df), CAL_END, time_unit="W", amount_col="dollars")
    return ibis.duckdb.connect().execute(expr).set_index("customer_id").sort_index()


@pytest.fixture(scope="module")
def summary(orders: pd.DataFrame) -> pd.DataFrame:
    return summarise(orders)


@pytest.fixture(scope="module")
def bgnbd(summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(summary.frequency, summary.recency, summary["T"])


def test_summary(orders: pd.DataFrame, summary: pd.DataFrame) -> None:
    assert len(orders) == 6_919 and orders.duplicated().sum() == 21
    assert len(summary) == 2_357
    assert summary.frequency.sum() == 2_457  # repeat transactions in calibration
    assert (summary.frequency > 0).sum() == 946
    first = summary.loc["0001"]
    assert (first.frequency, round(first.recency, 2), round(first["T"], 2)) == (2, 30.43, 38.86)
    assert first.monetary_value == pytest.approx(22.345)
    reference = btyd_summary_reference(orders, CAL_END, "W", amount_col="dollars")
    reference = reference.set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(summary, reference, check_exact=False, rtol=1e-9)


def test_bgnbd_published_estimates(bgnbd: BetaGeoModel) -> None:
    # FHL (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    assert bgnbd.r_ == pytest.approx(0.243, abs=0.001)
    assert bgnbd.alpha_ == pytest.approx(4.414, abs=0.002)
    assert bgnbd.a_ == pytest.approx(0.793, abs=0.001)
    assert bgnbd.b_ == pytest.approx(2.426, abs=0.002)
    assert bgnbd.loglik_ == pytest.approx(-9582.4, abs=0.5)
    # our optimum to more digits (lifetimes 0.11.3 agrees to ~1e-5)
    assert bgnbd.r_ == pytest.approx(0.242595, rel=1e-4)
    assert bgnbd.alpha_ == pytest.approx(4.413602, rel=1e-4)
    assert bgnbd.a_ == pytest.approx(0.792922, rel=1e-4)
    assert bgnbd.b_ == pytest.approx(2.425907, rel=1e-4)
    assert bgnbd.loglik_ == pytest.approx(-9582.4292, abs=0.01)
    # standard errors (lifetimes reports 0.0126, 0.378, 0.186, 0.705)
    se = np.sqrt(np.diag(bgnbd.covariance_))
    np.testing.assert_allclose(se, [0.012557, 0.378224, 0.185734, 0.705414], rtol=0.01)


def test_bgnbd_published_predictions(bgnbd: BetaGeoModel) -> None:
    # FHL (2005) worked example: x = 2, t_x = 30.43, T = 38.86 -> E[Y(39) | ...] = 1.226
    assert bgnbd.predict_transactions(39, 2, 30.43, 38.86)[()] == pytest.approx(1.226, abs=5e-4)
    assert bgnbd.p_alive(2, 30.43, 38.86)[()] == pytest.approx(0.7266, abs=1e-4)
    # unconditional E[X(t)] for a new customer (lifetimes gives the same to 1e-6)
    np.testing.assert_allclose(
        bgnbd.expected_transactions_new([1.0, 39.0, 78.0]), [0.053184, 1.195016, 1.857972], rtol=1e-4
    )


def test_holdout_aggregate(orders: pd.DataFrame, summary: pd.DataFrame, bgnbd: BetaGeoModel) -> None:
    expr = holdout_summary(ibis.memtable(orders), CAL_END, HOLDOUT_END, time_unit="W", amount_col="dollars")
    holdout = ibis.duckdb.connect().execute(expr).set_index("customer_id").loc[summary.index]
    assert holdout.duration_holdout.iloc[0] == pytest.approx(39.0)
    # distinct customer-days in the holdout (1,959 raw records on 1,882 customer-days)
    assert holdout.frequency_holdout.sum() == 1_882
    result = evaluate_holdout(
        bgnbd, summary.frequency, summary.recency, summary["T"], holdout.frequency_holdout, 39.0
    )
    assert result.predicted_total == pytest.approx(1_653.41, abs=0.1)
    # cohort forecast from the unconditional E[X(t)] (FHL's tracking plot): 1,666.7
    T = summary["T"].to_numpy()
    cohort = bgnbd.expected_transactions_new(T + 39) - bgnbd.expected_transactions_new(T)
    assert cohort.sum() == pytest.approx(1_666.65, abs=0.1)
    table = result.table.set_index("frequency")
    assert table.n_customers.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    np.testing.assert_allclose(
        table.actual, [0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594], atol=1e-4
    )
    np.testing.assert_allclose(
        table.predicted, [0.2251, 0.5231, 1.0441, 1.5203, 2.1639, 2.6538, 3.5040, 6.1572], atol=1e-3
    )
    assert result.correlation == pytest.approx(0.6256, abs=1e-3)


def test_gamma_gamma_reproduced_only_with_duplicates_kept(
    orders: pd.DataFrame, summary: pd.DataFrame
) -> None:
    # Fader & Hardie (2013) / lifetimes docs: p = 6.25, q = 3.74, gamma (v) = 15.44 on the
    # 946 repeat customers; reproduced when the 21 exact duplicate rows are kept (summed
    # into their day like any other same-day record)
    repeat = summary[summary.frequency > 0]
    gg = GammaGammaModel().fit(repeat.frequency, repeat.monetary_value)
    assert gg.n_customers_ == 946
    assert gg.p_ == pytest.approx(6.25, abs=0.005)
    assert gg.q_ == pytest.approx(3.74, abs=0.005)
    assert gg.gamma_ == pytest.approx(15.44, abs=0.005)
    assert gg.loglik_ == pytest.approx(-4055.918, abs=0.01)
    assert gg.population_mean_spend() == pytest.approx(35.170, abs=0.01)
    # dropping them moves gamma to 15.35 and p to 6.276: not the published fit
    deduplicated = summarise(orders.drop_duplicates())
    repeat = deduplicated[deduplicated.frequency > 0]
    dropped = GammaGammaModel().fit(repeat.frequency, repeat.monetary_value)
    assert dropped.gamma_ == pytest.approx(15.35, abs=0.01)
    assert abs(dropped.gamma_ - 15.44) > 0.05


def test_clv_end_to_end(summary: pd.DataFrame, bgnbd: BetaGeoModel) -> None:
    repeat = summary[summary.frequency > 0]
    gg = GammaGammaModel().fit(repeat.frequency, repeat.monetary_value)
    s = summary
    out = customer_lifetime_value(
        bgnbd, gg, s.frequency, s.recency, s["T"], s.monetary_value, time_unit="W", n_draws=50
    )
    assert out.loc["0001", "clv"] == pytest.approx(36.73, abs=0.01)  # 12 months, 10% a year
    assert out["clv"].sum() == pytest.approx(72_403, rel=1e-4)
    assert np.all(out["clv_low"] <= out["clv"]) and np.all(out["clv"] <= out["clv_high"])
