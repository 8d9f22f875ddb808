"""Gamma-Gamma spend model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln

from personae.clv import GammaGammaModel
from personae.clv.gamma_gamma import _neg_loglik, loglik_individual
from personae.errors import InputError, ModelError, NotFittedError

PARAMS = (6.25, 3.74, 15.44)  # Fader & Hardie 2013, CDNOW


def direct_loglik(x: int, m: float, p: float, q: float, g: float) -> float:
    """Fader & Hardie (2013) eq. for one customer, written out as a product."""
    log_coef = gammaln(p * x + q) - gammaln(p * x) - gammaln(q)
    return log_coef + math.log(g**q * m ** (p * x - 1) * x ** (p * x) / (g + m * x) ** (p * x + q))


def simulate(n: int, p: float, q: float, g: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n)
    nu = rng.gamma(q, 1 / g, n)
    m = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, x, strict=True)])
    return x.astype(float), m


def test_loglik_matches_direct_formula() -> None:
    x = np.array([1, 2, 3, 5])
    m = np.array([10.0, 22.5, 35.0, 18.2])
    want = [direct_loglik(int(a), b, *PARAMS) for a, b in zip(x, m, strict=True)]
    np.testing.assert_allclose(loglik_individual(x.astype(float), m, *PARAMS), want, rtol=1e-12)
    nll, grad = _neg_loglik(np.log(PARAMS), x.astype(float), m, np.ones(4))
    assert -nll == pytest.approx(sum(want), rel=1e-12)
    eps = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = eps
        up = _neg_loglik(np.log(PARAMS) + e, x.astype(float), m, np.ones(4))[0]
        down = _neg_loglik(np.log(PARAMS) - e, x.astype(float), m, np.ones(4))[0]
        assert grad[i] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_recovers_simulated_parameters_and_ignores_non_repeat_customers() -> None:
    x, m = simulate(5_000, 4.0, 5.0, 20.0)
    x = np.concatenate([x, [0, 0, 3]])
    m = np.concatenate([m, [0.0, 12.0, -5.0]])  # frequency 0 and a refund-only customer
    model = GammaGammaModel().fit(x, m)
    assert model.n_customers_ == 5_000
    se = np.sqrt(np.diag(model.covariance_))
    for est, true, s in zip(model.params_.values(), (4.0, 5.0, 20.0), se, strict=True):
        assert abs(est - true) < 4 * s


def test_expected_spend() -> None:
    model = GammaGammaModel.from_params(*PARAMS)
    p, q, g = PARAMS
    population = p * g / (q - 1)
    assert model.population_mean_spend() == pytest.approx(population)
    got = model.expected_spend([0, 2, 10, 3], [0.0, 22.35, 40.0, -1.0])
    weight = p * 2 / (p * 2 + q - 1)
    assert got[0] == pytest.approx(population)
    assert got[1] == pytest.approx((1 - weight) * population + weight * 22.35)
    assert got[2] == pytest.approx(p * (g + 400.0) / (p * 10 + q - 1))
    assert got[3] == pytest.approx(population)  # non-positive spend carries no information


def test_weights_equal_repeated_rows() -> None:
    x, m = simulate(400, 3.0, 4.0, 10.0, seed=2)
    counts = np.random.default_rng(3).integers(1, 4, len(x))
    repeated = GammaGammaModel().fit(np.repeat(x, counts), np.repeat(m, counts))
    weighted = GammaGammaModel().fit(x, m, sample_weight=counts)
    for k in ("p", "q", "gamma"):
        assert weighted.params_[k] == pytest.approx(repeated.params_[k], rel=1e-6)


def test_q_at_most_one_raises_actionable_error() -> None:
    # spend so heavy-tailed across customers that the population mean is infinite
    rng = np.random.default_rng(7)
    x = rng.integers(1, 5, 3_000).astype(float)
    m = (rng.pareto(0.6, 3_000) + 1) * 10
    with pytest.raises(ModelError, match=r"q = .* <= 1") as info:
        GammaGammaModel().fit(x, m)
    assert "cap extreme monetary values" in str(info.value)


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_spend([1], [10.0])
    with pytest.raises(ModelError, match="at least"):
        GammaGammaModel().fit([1, 2, 0], [5.0, 6.0, 0.0])
    with pytest.raises(ModelError, match="same monetary value"):
        GammaGammaModel().fit(np.arange(1, 21), np.full(20, 9.99))
    with pytest.raises(InputError):
        GammaGammaModel().fit([1, 2], [5.0])
    with pytest.raises(InputError):
        GammaGammaModel.from_params(1.0, 0.5, 1.0)
