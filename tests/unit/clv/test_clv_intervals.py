"""CLV intervals that never crash and say what they cover (issue 28, point 3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from personae.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from personae.clv._fitting import log_param_covariance, positive_definite
from personae.clv.value import parameter_draws, predictive_interval


def _customers(n: int = 3000, seed: int = 0, dropout: float = 0.3):
    """A BG/NBD world: Poisson buyers who drop out after a purchase with probability p."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(1.0, 1 / 20.0, n)
    p = np.full(n, dropout)
    big_t = rng.uniform(100, 400, n)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > big_t[i]:
                break
            x[i] += 1
            tx[i] = t
            if rng.random() < p[i]:
                break
    m = np.where(x > 0, rng.gamma(4.0, 10.0, n), 0.0)
    return x, tx, big_t, m


def test_a_hessian_that_is_not_positive_definite_gives_no_covariance():
    saddle = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1
    assert not positive_definite(saddle)
    with pytest.warns(RuntimeWarning, match="not positive definite"):
        cov = log_param_covariance(saddle, 100.0, model="M")
    assert np.isnan(cov).all()  # never inv(|eigenvalues|)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(log_param_covariance(np.zeros((2, 2)), 100.0, model="M")).all()  # singular


def test_without_a_covariance_the_interval_is_a_bootstrap_of_customers_not_a_point():
    x, tx, big_t, m = _customers()
    bg = BetaGeoModel().fit(x, tx, big_t)
    gg = GammaGammaModel().fit(x, m)
    normal = customer_lifetime_value(bg, gg, x[:50], tx[:50], big_t[:50], m[:50], n_draws=30)
    assert normal.attrs["interval"]["method"] == "normal"
    # pretend the Hessian was singular: before, the draws were all the point (low = high = clv)
    bg.log_covariance_ = np.full((4, 4), np.nan)
    out = customer_lifetime_value(bg, gg, x, tx, big_t, m, n_draws=30)
    how = out.attrs["interval"]
    assert how["method"] == "bootstrap" and how["draws"] >= 20
    assert (out["clv_low"] < out["clv_high"]).mean() > 0.99
    assert ((out["clv_low"] <= out["clv"] * 1.0001) & (out["clv"] <= out["clv_high"] * 1.0001)).mean() > 0.95
    # the bootstrap and the normal approximation agree where both apply
    first = out.iloc[:50]
    width_b = (first["clv_high"] - first["clv_low"]).median()
    width_n = (normal["clv_high"] - normal["clv_low"]).median()
    assert 0.5 < width_b / width_n < 2.0


def test_draws_the_model_cannot_evaluate_are_left_out_and_counted_never_a_crash():
    # issue 28: a backdated build crashed (ZeroDivisionError) after exp() overflowed in the draws
    x, tx, big_t, m = _customers(800, seed=3)
    bg = BetaGeoModel().fit(x, tx, big_t)
    gg = GammaGammaModel().fit(x, m)
    bg.log_covariance_ = np.diag([1e4, 1e4, 1e4, 1e4])  # absurdly wide: draws run off to 0 or inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = customer_lifetime_value(bg, gg, x, tx, big_t, m, n_draws=40)
    how = out.attrs["interval"]
    assert how["draws"] + how["draws_left_out"] == 40
    if how["draws"] == 0:  # too few usable draws: no interval rather than a wrong one
        assert out["clv_low"].isna().all() and "no interval" in how["note"]
    assert np.isfinite(out["clv"]).all()


def test_a_fit_where_nobody_leaves_is_degenerate_and_a_homogeneous_one_is_weak():
    nobody = BetaGeoModel.from_params(2.0, 198.0, 4.3e-7, 1.1e5)
    assert "nobody ever leaves" in nobody.degenerate()
    same = BetaGeoModel.from_params(1.5, 135.0, 4.6e5, 1.26e7)
    assert same.degenerate() is None
    same.log_covariance_ = np.eye(4) * 0.01
    assert "same chance of leaving" in same.weakly_identified()
    gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    gg.log_covariance_ = np.eye(3) * 0.01
    x, tx, big_t, m = _customers(400, seed=5)
    _, _, how = parameter_draws(same, gg, x, tx, big_t, m, 3, np.random.default_rng(0))
    assert how["method"] == "bootstrap" and "same chance of leaving" in how["why"]


def test_sampled_futures_have_the_models_means():
    bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
    gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    x, tx, big_t = np.array([0.0, 2, 7]), np.array([0.0, 30.43, 35.0]), np.array([38.86, 38.86, 38.86])
    rng = np.random.default_rng(0)
    k = bg.sample_transactions(52.0, x, tx, big_t, 200_000, rng)
    assert k.mean(axis=0) == pytest.approx(bg.predict_transactions(52.0, x, tx, big_t), rel=0.02)
    ones = np.ones((200_000, 3), dtype=np.int64)
    spend = gg.sample_total_spend(ones, x, np.array([0.0, 40.0, 25.0]), rng)
    assert spend.mean(axis=0) == pytest.approx(gg.expected_spend(x, [0.0, 40.0, 25.0]), rel=0.02)


def test_the_predictive_interval_covers_what_customers_actually_spend():
    bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
    gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    x, tx, big_t, m = np.array([2.0]), np.array([30.43]), np.array([38.86]), np.array([40.0])
    value = customer_lifetime_value(bg, gg, x, tx, big_t, m, time_unit="W", interval=None)["clv"].to_numpy()
    p = predictive_interval(bg, gg, x, tx, big_t, m, value, time_unit="W", n_draws=4000, seed=1)
    low, high = float(p["clv_predictive_low"][0]), float(p["clv_predictive_high"][0])
    # fresh simulated futures of the same customer fall inside about 90 % of the time
    rng = np.random.default_rng(7)
    k = bg.sample_transactions(12 * 365.25 / 12 / 7, x, tx, big_t, 20_000, rng)
    future = gg.sample_total_spend(k, x, m, rng)[:, 0] * (
        value[0]
        / (bg.predict_transactions(12 * 365.25 / 12 / 7, x, tx, big_t)[0] * gg.expected_spend(x, m)[0])
    )
    inside = float(((future >= low) & (future <= high)).mean())
    assert 0.88 < inside <= 1.0
    assert low <= value[0] <= high
