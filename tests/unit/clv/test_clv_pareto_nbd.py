"""Pareto/NBD: likelihood against an independent integral, lifetimes' values, fitting, predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1

from personae.clv.pareto_nbd import (
    ParetoNBDModel,
    _Data,
    _neg_loglik,
    _pair_gauss_terms,
    loglik_individual,
)
from personae.errors import InputError

PUBLISHED = (0.553, 10.578, 0.606, 11.669)  # FHL 2005 note, CDNOW (weeks)


def integral_loglik(x: int, tx: float, T: float, r: float, alpha: float, s: float, beta: float) -> float:
    """The likelihood from its definition, no hypergeometric function: alive at T, or dead at
    some tau in (t_x, T] (numerical integral, scaled by the integrand's largest value)."""
    c = r + x
    front = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    log_alive = -c * math.log(alpha + T) - s * math.log(beta + T)
    peak = -c * math.log(alpha + tx) - (s + 1) * math.log(beta + tx)

    def f(tau: float) -> float:
        return math.exp(-c * math.log(alpha + tau) - (s + 1) * math.log(beta + tau) - peak)

    died = s * quad(f, tx, T, epsabs=0, epsrel=1e-12, limit=200)[0] if tx < T else 0.0
    return front + peak + math.log(math.exp(log_alive - peak) + died)


@pytest.mark.parametrize(
    "params",
    [PUBLISHED, (0.553, 20.0, 0.606, 5.0), (1.0, 7.0, 2.0, 7.0), (2.5, 0.5, 0.3, 40.0)],
    ids=["alpha<beta", "alpha>beta", "alpha=beta", "tiny-alpha"],
)
def test_loglik_matches_the_integral_definition(params: tuple[float, float, float, float]) -> None:
    rows = [(0, 0.0, 38.86), (2, 30.43, 38.86), (2, 10.0, 38.86), (7, 35.0, 38.86), (1, 5.0, 5.0)]
    for x, tx, T in rows:
        got = loglik_individual(np.array([x]), np.array([tx]), np.array([T]), *params)[0]
        assert got == pytest.approx(integral_loglik(x, tx, T, *params), rel=1e-10, abs=1e-10)


def test_large_frequencies_and_long_periods_stay_finite_and_right() -> None:
    # daily data over 3 years: hundreds of purchases, where hyp2f1 and the raw powers overflow
    params = (0.8, 12.0, 0.5, 300.0)
    for x, tx, T in [(400, 1000.0, 1095.0), (900, 1090.0, 1095.0), (3, 10.0, 1095.0), (0, 0.0, 1095.0)]:
        got = loglik_individual(np.array([float(x)]), np.array([tx]), np.array([T]), *params)[0]
        assert np.isfinite(got)
        assert got == pytest.approx(integral_loglik(x, tx, T, *params), rel=1e-9)
    with np.errstate(all="ignore"):  # the direct evaluation of A_0's first half underflows to 0
        c = 0.8 + 0.5 + 900
        naive = hyp2f1(c, 0.8 + 900, c + 1, (300 - 12) / (300 + 1090.0)) / np.float64(300 + 1090.0) ** c
    assert naive == 0.0


@pytest.mark.parametrize(
    "params",
    [(0.4646, 132.59, 152.70, 927_915.7), (720.2, 56_951.8, 0.0319, 0.00816)],
    ids=["z-near-1", "huge-r-tiny-beta"],
)
def test_where_the_series_was_slow_or_failed_the_likelihood_is_right(params: tuple[float, ...]) -> None:
    # the first: the 1M benchmark's fit (z = 0.9986-0.9999, the series needed SciPy's hyp2f1,
    # ~60 µs a value); the second: a shop's calibration fit, where the series gave NaN
    rows = [(0, 0.0, 1094.0), (1, 50.0, 700.0), (5, 300.0, 700.0), (20, 650.0, 700.0), (30, 1090.0, 1094.0)]
    for x, tx, T in rows:
        got = loglik_individual(np.array([float(x)]), np.array([tx]), np.array([T]), *params)[0]
        assert got == pytest.approx(integral_loglik(x, tx, T, *params), rel=1e-10)


def test_gauss_terms_against_scipy_where_scipy_is_reliable() -> None:
    # log[2F1(c, t; c+1; z) / (max(α,β)+y)^c], c = r+s+x, by quadrature along y, against
    # SciPy's hyp2f1 where z is moderate and c small (there it is accurate to ~1e-15)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 8, 400).astype(float)
    tx = rng.uniform(0, 30, 400)
    T = tx + rng.uniform(0, 30, 400)
    data = _Data.build(x, tx, T, np.ones(400))
    for r, alpha, s, beta in [PUBLISHED, (0.553, 20.0, 0.606, 5.0), (1.0, 7.0, 2.0, 7.0)]:
        got, _ = _pair_gauss_terms(data, r, alpha, s, beta)
        hi, lo = max(alpha, beta), min(alpha, beta)
        c = r + s + data.pair_x
        t = r + data.pair_x if alpha < beta else s + 1.0
        z = (hi - lo) / (hi + data.pair_y)
        want = np.log(hyp2f1(c, t, c + 1, z)) - c * np.log(hi + data.pair_y)
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_lifetimes_values_at_the_published_parameters() -> None:
    # lifetimes 0.11.3 ParetoNBDFitter with params_ set to the published estimates (run in .venv-bench)
    m = ParetoNBDModel.from_params(*PUBLISHED)
    x, tx, T = [0, 2, 2, 7, 30], [0.0, 30.43, 10.0, 35.0, 38.0], [38.86] * 5
    np.testing.assert_allclose(
        m.p_alive(x, tx, T), [0.295286605, 0.869167559, 0.268851640, 0.936081176, 0.986346241], rtol=1e-8
    )
    np.testing.assert_allclose(
        m.predict_transactions(39, x, tx, T),
        [0.107081468, 1.455123193, 0.450099929, 4.636373733, 19.761899832],
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        m.loglik_individual(x, tx, T),
        [-0.521046294, -9.554283245, -8.380907023, -21.816937222, -46.089746037],
        rtol=1e-8,
        atol=1e-6,
    )
    assert m.expected_transactions_new(39.0)[()] == pytest.approx(1.213002844, rel=1e-8)


def simulate(n: int, params: tuple[float, float, float, float], seed: int = 3):
    r, alpha, s, beta = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    life = rng.exponential(1.0, n) / rng.gamma(s, 1 / beta, n)
    T = rng.uniform(20, 80, n)
    end = np.minimum(life, T)
    x, tx = np.zeros(n), np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        t = t + rng.exponential(1.0, n) / np.maximum(lam, 1e-12)
        bought = active & (t <= end)
        x[bought] += 1
        tx[bought] = t[bought]
        active = bought
    return x, tx, T


def test_fit_recovers_simulated_parameters() -> None:
    truth = (0.8, 8.0, 1.2, 30.0)
    x, tx, T = simulate(20_000, truth)
    m = ParetoNBDModel().fit(x, tx, T)
    lower, upper = m.summary().lower_95.to_numpy(), m.summary().upper_95.to_numpy()
    # each within its 99.9% interval (3.3 standard errors on the log scale)
    se = np.sqrt(np.diag(m.log_covariance_))
    assert np.all(np.abs(np.log(list(m.params_.values())) - np.log(truth)) < 3.3 * se), m
    assert np.all(lower < upper)
    # no better point nearby: the fit is a maximum
    data = _Data.build(x, tx, T, np.ones(len(x)))
    theta = np.log(list(m.params_.values()))
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-3
        assert _neg_loglik(theta + step, data) > -m.loglik_
        assert _neg_loglik(theta - step, data) > -m.loglik_


def test_weights_equal_repeated_rows() -> None:
    x, tx, T = simulate(3_000, (0.8, 8.0, 1.2, 30.0), seed=5)
    w = np.random.default_rng(1).integers(0, 3, len(x)).astype(float)
    weighted = ParetoNBDModel().fit(x, tx, T, sample_weight=w)
    rep = np.repeat(np.arange(len(x)), w.astype(int))
    repeated = ParetoNBDModel().fit(x[rep], tx[rep], T[rep])
    np.testing.assert_allclose(list(weighted.params_.values()), list(repeated.params_.values()), rtol=1e-6)


def test_a_one_time_buyer_fades_with_time() -> None:
    m = ParetoNBDModel.from_params(*PUBLISHED)
    alive = m.p_alive([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 40.0, 75.0])
    assert alive[0] > alive[1] > alive[2]
    assert alive[2] < 0.25


def test_sampled_purchases_average_to_the_expectation() -> None:
    m = ParetoNBDModel.from_params(*PUBLISHED)
    x, tx, T = [2, 0, 7], [30.43, 0.0, 35.0], [38.86, 38.86, 38.86]
    draws = m.sample_transactions(39.0, x, tx, T, 200_000, np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(axis=0), m.predict_transactions(39.0, x, tx, T), rtol=0.02)


def test_degenerate_fit_is_said_in_words() -> None:
    m = ParetoNBDModel.from_params(0.5, 10.0, 1e-6, 1e4)
    m.max_T_ = 52.0
    assert "nobody ever leaves" in (m.degenerate() or "")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InputError):
        ParetoNBDModel().fit([1, 2], [5.0, 50.0], [10.0, 20.0])  # recency > T
    with pytest.raises(InputError):
        ParetoNBDModel.from_params(0.5, -1.0, 0.5, 1.0)


@pytest.mark.parametrize(
    "params",
    [PUBLISHED, (0.553, 20.0, 0.606, 5.0), (1.0, 7.0, 2.0, 7.0), (0.46, 131.9, 58.6, 377_158.8)],
    ids=["alpha<beta", "alpha>beta", "alpha=beta", "z-near-1-scipy"],
)
def test_analytic_gradient_is_the_derivative_of_the_likelihood(params: tuple[float, ...]) -> None:
    from personae.clv.pareto_nbd import _neg_loglik_with_gradient

    x, tx, T = simulate(3_000, (0.8, 8.0, 1.2, 30.0), seed=7)
    x, tx, T = (
        np.append(x, [0, 40, 900]),
        np.append(tx, [0.0, 70.0, 1090.0]),
        np.append(T, [80.0, 75.0, 1095.0]),
    )
    data = _Data.build(x, tx, T, np.ones(len(x)))
    theta = np.log(params)
    value, grad = _neg_loglik_with_gradient(theta, data)
    assert value == _neg_loglik(theta, data)  # the same likelihood, to the last bit
    step = 1e-5
    numeric = [
        (_neg_loglik(theta + step * e, data) - _neg_loglik(theta - step * e, data)) / (2 * step)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * abs(value))
