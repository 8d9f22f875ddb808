"""MBG/NBD: likelihood and gradient, predictions, fitting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import betaln, gammaln

from personae.clv.bgnbd import BetaGeoModel
from personae.clv.mbgnbd import ModifiedBetaGeoModel, _Data, _neg_loglik, loglik_individual

LIFETIMES = (0.5248429031495967, 6.183081764399273, 0.891359517271205, 1.6140029311982804)


def direct_loglik(x: int, tx: float, T: float, r: float, alpha: float, a: float, b: float) -> float:
    """Batislam et al. (2007) term by term: alive at T, or dropped right after the last purchase."""
    common = math.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    alive = math.exp(betaln(a, b + x + 1) - betaln(a, b)) * common / (alpha + T) ** (r + x)
    dropped = math.exp(betaln(a + 1, b + x) - betaln(a, b)) * common / (alpha + tx) ** (r + x)
    return math.log(alive + dropped)


def test_loglik_matches_direct_formula() -> None:
    for x, tx, T in [(0, 0.0, 38.0), (1, 5.0, 30.0), (5, 30.0, 35.0), (2, 38.0, 38.0)]:
        got = loglik_individual(np.array([x]), np.array([tx]), np.array([T]), *LIFETIMES)[0]
        assert got == pytest.approx(direct_loglik(x, tx, T, *LIFETIMES), rel=1e-12)


def test_gradient_is_the_derivative() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, 300).astype(float)
    T = rng.uniform(5, 40, 300)
    tx = np.where(x > 0, rng.uniform(0, 1, 300) * T, 0.0)
    data = _Data.build(x, tx, T, np.ones(300))
    theta = np.log([0.4, 5.0, 0.7, 2.0])
    numeric = approx_fprime(theta, lambda t: _neg_loglik(t, data)[0], 1e-7)
    np.testing.assert_allclose(_neg_loglik(theta, data)[1], numeric, rtol=1e-4, atol=1e-3)


def test_one_time_buyers_are_not_certainly_alive() -> None:
    m = ModifiedBetaGeoModel.from_params(*LIFETIMES)
    bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
    assert bg.p_alive([0], [0.0], [70.0])[0] == 1.0
    alive = m.p_alive([0, 0], [0.0, 0.0], [10.0, 70.0])
    assert 0 < alive[1] < alive[0] < 1


def test_sampled_purchases_average_to_the_expectation() -> None:
    m = ModifiedBetaGeoModel.from_params(*LIFETIMES)
    x, tx, T = [2, 0, 7], [30.43, 0.0, 35.0], [38.86, 38.86, 38.86]
    draws = m.sample_transactions(39.0, x, tx, T, 200_000, np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(axis=0), m.predict_transactions(39.0, x, tx, T), rtol=0.02)


def simulate(n: int, params: tuple[float, float, float, float], seed: int = 2):
    """MBG/NBD customers: may drop out right after the first purchase, then after each repeat."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(10, 60, n)
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = rng.random(n) > p
    while alive.any():
        t = t + rng.exponential(1.0, n) / lam
        bought = alive & (t <= T)
        x[bought] += 1
        tx[bought] = t[bought]
        alive = bought & (rng.random(n) > p)
    return x, tx, T


def test_fit_reaches_the_maximum_and_weights_equal_repeats() -> None:
    truth = (0.6, 5.0, 0.9, 2.5)
    x, tx, T = simulate(6_000, truth)
    n = len(x)
    m = ModifiedBetaGeoModel().fit(x, tx, T)
    grad = _neg_loglik(np.log(list(m.params_.values())), _Data.build(x, tx, T, np.ones(n)))[1]
    assert np.abs(grad).max() / n < 1e-6
    se = np.sqrt(np.diag(m.log_covariance_))
    assert np.all(np.abs(np.log(list(m.params_.values())) - np.log(truth)) < 3.3 * se), m
    w = np.random.default_rng(1).integers(0, 3, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))
    a = ModifiedBetaGeoModel().fit(x, tx, T, sample_weight=w)
    b = ModifiedBetaGeoModel().fit(x[rep], tx[rep], T[rep])
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)


def test_degenerate_fit_is_said_in_words() -> None:
    assert "nobody ever leaves" in (
        ModifiedBetaGeoModel.from_params(2.0, 198.0, 4e-7, 1e5).degenerate() or ""
    )
