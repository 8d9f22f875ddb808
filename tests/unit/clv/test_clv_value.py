"""CLV discounting, uncertainty interval and value tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value, value_tiers
from personae.clv.value import DAYS_PER_MONTH
from personae.errors import InputError

BG = (0.243, 4.414, 0.793, 2.426)
GG = (6.25, 3.74, 15.44)
CUSTOMERS = pd.DataFrame(
    {
        "frequency": [2, 1, 0, 0, 7, 2],
        "recency": [30.43, 1.71, 0.0, 0.0, 35.0, 30.43],
        "T": [38.86, 38.86, 38.86, 10.0, 38.0, 38.86],
        "monetary_value": [22.35, 11.77, 0.0, 0.0, 40.0, 22.35],
    },
    index=pd.Index(["c1", "c2", "c3", "c4", "c5", "c1-twin"], name="customer_id"),
)


def fitted_models() -> tuple[BetaGeoModel, GammaGammaModel]:
    """Models with covariances, fitted on simulated weekly data near the CDNOW estimates."""
    rng = np.random.default_rng(11)
    n = 3_000
    r, alpha, a, b = BG
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(27, 39, n)
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        nxt = t + rng.exponential(1 / np.maximum(lam, 1e-12))
        bought = alive & (nxt <= T)
        x[bought] += 1
        tx[bought] = nxt[bought]
        t = np.where(bought, nxt, t)
        alive = bought & (rng.random(n) > p)
    bg = BetaGeoModel().fit(x, tx, T)
    rep = x > 0
    nu = rng.gamma(GG[1], 1 / GG[2], rep.sum())
    m = np.array([rng.gamma(GG[0], 1 / v, int(k)).mean() for v, k in zip(nu, x[rep], strict=True)])
    gg = GammaGammaModel().fit(x[rep], m)
    return bg, gg


def clv(bg: BetaGeoModel, gg: GammaGammaModel, **kwargs: object) -> pd.DataFrame:
    c = CUSTOMERS
    return customer_lifetime_value(
        bg,
        gg,
        c.frequency,
        c.recency,
        c["T"],
        c.monetary_value,
        time_unit="W",
        **kwargs,  # type: ignore[arg-type]
    )


def test_zero_discount_is_spend_times_expected_transactions() -> None:
    bg, gg = BetaGeoModel.from_params(*BG), GammaGammaModel.from_params(*GG)
    out = clv(bg, gg, discount_rate_annual=0.0, interval=None, horizon_months=12)
    c = CUSTOMERS
    weeks = 12 * DAYS_PER_MONTH / 7
    transactions = bg.predict_transactions(weeks, c.frequency, c.recency, c["T"])
    spend = gg.expected_spend(c.frequency, c.monetary_value)
    np.testing.assert_allclose(out["expected_transactions"], transactions, rtol=1e-12)
    np.testing.assert_allclose(out["clv"], spend * transactions, rtol=1e-12)
    assert list(out.columns) == ["expected_transactions", "expected_spend", "clv"]
    assert out.index.equals(c.index)
    assert out.loc["c1", "clv"] == out.loc["c1-twin", "clv"]


def test_positive_discount_by_hand() -> None:
    bg, gg = BetaGeoModel.from_params(*BG), GammaGammaModel.from_params(*GG)
    out = clv(bg, gg, discount_rate_annual=0.10, interval=None, horizon_months=3)
    month = DAYS_PER_MONTH / 7
    x, tx, T = 7, 35.0, 38.0
    cumulative = [0.0] + [bg.predict_transactions(i * month, x, tx, T)[()] for i in (1, 2, 3)]
    rate = 1.10 ** (1 / 12) - 1
    want = sum((cumulative[i] - cumulative[i - 1]) / (1 + rate) ** i for i in (1, 2, 3))
    want *= gg.expected_spend(7, 40.0)[()]
    assert out.loc["c5", "clv"] == pytest.approx(want, rel=1e-12)
    undiscounted = clv(bg, gg, discount_rate_annual=0.0, interval=None, horizon_months=3)
    assert np.all(out["clv"] < undiscounted["clv"])
    longer = clv(bg, gg, discount_rate_annual=0.10, interval=None, horizon_months=24)
    assert np.all(longer["clv"] > out["clv"])


def test_days_and_weeks_agree() -> None:
    bg_w, gg = BetaGeoModel.from_params(*BG), GammaGammaModel.from_params(*GG)
    bg_d = BetaGeoModel.from_params(BG[0], BG[1] * 7, BG[2], BG[3])  # alpha scales with time
    c = CUSTOMERS
    weekly = clv(bg_w, gg, interval=None)
    daily = customer_lifetime_value(
        bg_d,
        gg,
        c.frequency,
        c.recency * 7,
        c["T"] * 7,
        c.monetary_value,
        time_unit="D",
        interval=None,
    )
    np.testing.assert_allclose(daily["clv"], weekly["clv"], rtol=1e-9)


def test_interval_contains_point_estimate_and_is_reproducible() -> None:
    bg, gg = fitted_models()
    out = clv(bg, gg, n_draws=100, seed=42)
    assert np.all(out["clv_low"] <= out["clv"]) and np.all(out["clv"] <= out["clv_high"])
    assert np.all(out["clv_low"] < out["clv_high"])
    again = clv(bg, gg, n_draws=100, seed=42)
    pd.testing.assert_frame_equal(out, again)
    other = clv(bg, gg, n_draws=100, seed=43)
    assert not np.allclose(other["clv_low"], out["clv_low"])
    wider = clv(bg, gg, n_draws=100, seed=42, interval=0.99)
    assert np.all(wider["clv_high"] >= out["clv_high"])


def test_input_errors() -> None:
    bg, gg = BetaGeoModel.from_params(*BG), GammaGammaModel.from_params(*GG)
    with pytest.raises(InputError):
        clv(bg, gg, horizon_months=0)
    with pytest.raises(InputError):
        clv(bg, gg, interval=1.5)
    with pytest.raises(InputError):
        customer_lifetime_value(bg, gg, [1], [1.0], [2.0], [3.0], time_unit="M")  # type: ignore[arg-type]


def test_value_tiers_shares_and_order() -> None:
    values = np.arange(200, dtype=float)[::-1]  # customer 0 has the highest CLV
    tiers = value_tiers(values)
    assert tiers[:2].tolist() == ["top1", "top1"]  # top 1% of 200
    assert (tiers == "top10").sum() == 18 and tiers[2] == "top10" and tiers[19] == "top10"
    assert (tiers == "top25").sum() == 30 and tiers[20] == "top25" and tiers[49] == "top25"
    assert (tiers == "rest").sum() == 150


def test_value_tiers_ties_and_nan() -> None:
    # 10 customers: top1, top10 = first ranked only (ceil(0.1) = ceil(1.0) = 1), top25 = ranks 1-2
    tiers = value_tiers([3.0, 5.0, 5.0, np.nan, 1.0, 5.0, 0.0, 2.0, 2.0, 4.0])
    # ranks: the three 5.0 by position (1, 2, 5), then 4.0 (9), 3.0 (0), ...; NaN last
    assert tiers.tolist() == [
        "rest",
        "top1",
        "top25",
        "rest",
        "rest",
        "top25",
        "rest",
        "rest",
        "rest",
        "rest",
    ]
    assert value_tiers([]).tolist() == []
    assert value_tiers([7.0]).tolist() == ["top1"]
