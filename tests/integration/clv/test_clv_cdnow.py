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
from personae.clv.holdout import tracking_table
from personae.clv.mbgnbd import ModifiedBetaGeoModel
from personae.clv.pareto_nbd import ParetoNBDModel
from personae.clv.summary import daily_cohort_activity

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


# --- Pareto/NBD and MBG/NBD (issue 24) -------------------------------------------------------


@pytest.fixture(scope="module")
def pareto(summary: pd.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel().fit(summary.frequency, summary.recency, summary["T"])


@pytest.fixture(scope="module")
def mbgnbd(summary: pd.DataFrame) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel().fit(summary.frequency, summary.recency, summary["T"])


def test_pareto_nbd_published_estimates(pareto: ParetoNBDModel) -> None:
    # Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB":
    # r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0
    assert pareto.r_ == pytest.approx(0.553, abs=0.0005)
    assert pareto.alpha_ == pytest.approx(10.578, abs=0.001)
    assert pareto.s_ == pytest.approx(0.606, abs=0.0005)
    assert pareto.beta_ == pytest.approx(11.669, abs=0.002)
    assert pareto.loglik_ == pytest.approx(-9595.0, abs=0.05)
    # lifetimes 0.11.3's ParetoNBDFitter (Nelder-Mead, tol 1e-6) stops at r = 0.553274,
    # alpha = 10.577557, s = 0.606228, beta = 11.668166 (run in .venv-bench on this summary)
    np.testing.assert_allclose(
        [pareto.r_, pareto.alpha_, pareto.s_, pareto.beta_],
        [0.553274, 10.577557, 0.606228, 11.668166],
        rtol=2e-4,
    )
    assert np.all(np.isfinite(pareto.covariance_)) and pareto.weakly_identified() is None
    assert pareto.degenerate() is None


def test_mbg_nbd_matches_lifetimes(summary: pd.DataFrame, mbgnbd: ModifiedBetaGeoModel) -> None:
    # lifetimes 0.11.3 ModifiedBetaGeoFitter().fit(frequency, recency, T) on this summary, run in
    # .venv-bench (make .venv-bench/.install-stamp); its LL evaluated with the MBG/NBD formula
    # (loglik_individual) at its parameters: -9582.135716
    lifetimes = [0.5248429031495967, 6.183081764399273, 0.891359517271205, 1.6140029311982804]
    np.testing.assert_allclose(list(mbgnbd.params_.values()), lifetimes, rtol=1e-4)
    assert mbgnbd.loglik_ == pytest.approx(-9582.135716, abs=1e-3)
    assert mbgnbd.loglik_ >= -9582.135716 - 1e-6  # at least as good as lifetimes'
    # lifetimes' predictions at its parameters (same run): P(alive), E[Y(39)], E[X(39)]
    same = ModifiedBetaGeoModel.from_params(*lifetimes)
    x, tx, T = [0, 2, 2, 7, 30], [0.0, 30.43, 10.0, 35.0, 38.0], [38.86] * 5
    np.testing.assert_allclose(
        same.p_alive(x, tx, T), [0.389715186, 0.706125699, 0.234201059, 0.831210658, 0.951670022], rtol=1e-8
    )
    np.testing.assert_allclose(
        same.predict_transactions(39, x, tx, T),
        [0.153954277, 1.262669220, 0.418790123, 4.227616169, 19.009002355],
        rtol=1e-8,
    )
    assert same.expected_transactions_new(39.0)[()] == pytest.approx(1.182279847, rel=1e-8)


def test_models_on_the_holdout(orders: pd.DataFrame, summary: pd.DataFrame, bgnbd, pareto, mbgnbd) -> None:
    expr = holdout_summary(ibis.memtable(orders), CAL_END, HOLDOUT_END, time_unit="W", amount_col="dollars")
    holdout = ibis.duckdb.connect().execute(expr).set_index("customer_id").loc[summary.index]
    s = summary
    maes = {
        name: evaluate_holdout(m, s.frequency, s.recency, s["T"], holdout.frequency_holdout, 39.0)
        for name, m in (("bg_nbd", bgnbd), ("mbg_nbd", mbgnbd), ("pareto_nbd", pareto))
    }
    assert maes["pareto_nbd"].predicted_total == pytest.approx(1_665.5, abs=0.1)
    assert {k: round(v.mae, 4) for k, v in maes.items()} == {
        "bg_nbd": 0.7855,
        "mbg_nbd": 0.7648,
        "pareto_nbd": 0.7545,
    }
    # one-time buyers: BG/NBD says all alive, the other two do not
    once = (s.frequency == 0).to_numpy()
    assert np.all(bgnbd.p_alive(s.frequency, s.recency, s["T"])[once] == 1.0)
    assert pareto.p_alive(s.frequency, s.recency, s["T"])[once].max() < 0.6
    assert mbgnbd.p_alive(s.frequency, s.recency, s["T"])[once].max() < 0.6


def test_tracking_table_counts_every_repeat(orders: pd.DataFrame, bgnbd, pareto) -> None:
    expr = daily_cohort_activity(ibis.memtable(orders), CAL_END, HOLDOUT_END, amount_col="dollars")
    activity = ibis.duckdb.connect().execute(expr)
    table = tracking_table(
        activity,
        {"bg_nbd": bgnbd, "pareto_nbd": pareto},
        calibration_end=CAL_END,
        holdout_end=HOLDOUT_END,
        time_unit="W",
    )
    assert int(activity.first_purchases.sum()) == 2_357
    # calibration repeats (2,457) + holdout repeats (1,882)
    assert table.actual.iloc[-1] == 2_457 + 1_882
    at_cal_end = table[table.period == "calibration"].iloc[-1]
    assert at_cal_end.actual == 2_457
    # the cohort forecasts of the holdout (FHL's tracking plot; BG/NBD 1,666.7 as above)
    assert table.bg_nbd.iloc[-1] - at_cal_end.bg_nbd == pytest.approx(1_666.65, abs=5)
    assert table.pareto_nbd.iloc[-1] > table.bg_nbd.iloc[-1]
