"""BG/NBD: likelihood, fitting, predictions and numerical safety."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln, gammaln, hyp2f1

from personae.clv import BetaGeoModel, bgnbd
from personae.clv.bgnbd import (
    _Data,
    _neg_loglik,
    _numerator,
    _numerator_quadrature,
    loglik_individual,
)
from personae.errors import InputError, NotFittedError

PARAMS = (0.243, 4.414, 0.793, 2.426)  # FHL 2005, CDNOW


def direct_loglik(x: int, tx: float, T: float, r: float, alpha: float, a: float, b: float) -> float:
    """FHL 2005 eq. 6 term by term, one customer at a time (no log-space tricks)."""
    common = math.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    first = math.exp(betaln(a, b + x) - betaln(a, b)) * common / (alpha + T) ** (r + x)
    second = 0.0
    if x > 0:
        second = math.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * common / (alpha + tx) ** (r + x)
    return math.log(first + second)


def simulate(n: int, params: tuple[float, float, float, float], seed: int = 1):
    """Simulate BG/NBD customers observed for T in (0, 52]."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(1, 52, n)
    x, tx = np.zeros(n), np.zeros(n)
    t, alive = np.zeros(n), np.ones(n, dtype=bool)
    while alive.any():
        nxt = t + rng.exponential(1 / np.maximum(lam, 1e-12))
        bought = alive & (nxt <= T)
        x[bought] += 1
        tx[bought] = nxt[bought]
        t = np.where(bought, nxt, t)
        alive = bought & (rng.random(n) > p)
    return x, tx, T


SMALL = (
    np.array([0, 1, 2, 5, 0, 3, 1]),
    np.array([0.0, 5.0, 20.0, 30.0, 0.0, 12.5, 38.0]),
    np.array([38.0, 30.0, 39.0, 35.0, 10.0, 13.0, 38.0]),
)


def test_loglik_matches_direct_formula() -> None:
    x, tx, T = SMALL
    want = [direct_loglik(int(a), b, c, *PARAMS) for a, b, c in zip(x, tx, T, strict=True)]
    got = loglik_individual(x.astype(float), tx, T, *PARAMS)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    data = _Data.build(x.astype(float), tx, T, np.ones(len(x)))
    nll, _ = _neg_loglik(np.log(PARAMS), data)
    assert -nll == pytest.approx(sum(want), rel=1e-12)


def test_gradient_matches_finite_differences() -> None:
    x, tx, T = SMALL
    data = _Data.build(x.astype(float), tx, T, np.array([1.0, 2, 1, 1, 3, 1, 1]))
    theta = np.log(PARAMS)
    _, grad = _neg_loglik(theta, data)
    eps = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = eps
        numeric = (_neg_loglik(theta + e, data)[0] - _neg_loglik(theta - e, data)[0]) / (2 * eps)
        assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_recovers_simulated_parameters() -> None:
    truth = (0.6, 8.0, 1.2, 3.0)
    x, tx, T = simulate(20_000, truth)
    model = BetaGeoModel().fit(x, tx, T)
    se = np.sqrt(np.diag(model.covariance_))
    for est, true, s in zip(model.params_.values(), truth, se, strict=True):
        assert abs(est - true) < 4 * s
    assert model.loglik_ == pytest.approx(
        loglik_individual(x, tx, T, *model.params_.values()).sum(), rel=1e-10
    )


def test_weights_equal_repeated_rows() -> None:
    x, tx, T = simulate(600, (0.5, 5.0, 0.8, 2.5), seed=3)
    tx, T = np.round(tx), np.round(T)
    tx = np.minimum(tx, T)
    counts = np.random.default_rng(4).integers(1, 4, len(x))
    repeated = BetaGeoModel().fit(np.repeat(x, counts), np.repeat(tx, counts), np.repeat(T, counts))
    weighted = BetaGeoModel().fit(x, tx, T, sample_weight=counts)
    for k in ("r", "alpha", "a", "b"):
        assert weighted.params_[k] == pytest.approx(repeated.params_[k], rel=1e-6)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    np.testing.assert_allclose(weighted.covariance_, repeated.covariance_, rtol=1e-3)


def test_big_input_path_matches_small_input_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 200k distinct rows the fit warm-starts from a subsample; same optimum."""
    x, tx, T = simulate(210_000, (0.4, 6.0, 0.9, 2.0), seed=5)
    data = _Data.build(x, tx, T, np.ones(len(x)))
    assert len(data.wp) + len(data.t_unique) >= 200_000
    warm = BetaGeoModel().fit(x, tx, T)
    monkeypatch.setattr(bgnbd, "_starting_values", lambda *args: (np.log([1.0, 10.0, 1.0, 1.0]), None))
    cold = BetaGeoModel().fit(x, tx, T)
    for k in ("r", "alpha", "a", "b"):
        assert warm.params_[k] == pytest.approx(cold.params_[k], rel=1e-6)
    assert warm.loglik_ == pytest.approx(cold.loglik_, rel=1e-12)
    np.testing.assert_allclose(warm.covariance_, cold.covariance_, rtol=1e-3)


def test_predictions_match_closed_form_in_benign_region() -> None:
    model = fitted()
    x, tx, T = 2.0, 30.43, 38.86
    r, alpha, a, b = model.r_, model.alpha_, model.a_, model.b_
    t = 39.0
    z = t / (alpha + T + t)
    num = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    den = 1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    assert model.predict_transactions(t, x, tx, T)[()] == pytest.approx(num / den, rel=1e-9)
    assert model.p_alive(x, tx, T)[()] == pytest.approx(1 / den, rel=1e-12)
    assert model.p_alive(0, 0, 10)[()] == 1.0
    unconditional = (
        (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert model.expected_transactions_new(t)[()] == pytest.approx(unconditional, rel=1e-9)
    assert model.expected_transactions_new(0.0)[()] == 0.0


@pytest.mark.parametrize(
    "params", [PARAMS, (0.5, 30.0, 1.5, 8.0), (1.2, 80.0, 0.3, 0.4), (2.0, 10.0, 20.0, 100.0)]
)
def test_hyp2f1_safety_large_frequency_long_horizon(params: tuple[float, ...]) -> None:
    r, alpha, _, _ = params
    t = np.array([0.01, 1, 7, 39, 52, 365, 1000, 2000, 5000])
    for x in (0, 1, 10, 100, 300, 1000):
        for T in (0.0, 1.0, 39.0, 365.0, 1000.0):
            tx = T * 0.5 if x else 0.0
            values = _numerator(t, np.full_like(t, x), np.full_like(t, T), *params)
            assert np.all(np.isfinite(values))
            assert np.all(np.diff(values) >= -1e-9 * values[1:])  # monotone in t
            # never above E[lambda] t, the expectation without dropout
            assert np.all(values <= (r + x) * t / (alpha + T) * (1 + 1e-9))
            pred = BetaGeoModel.from_params(*params).predict_transactions(t, x, tx, T)
            assert np.all(np.isfinite(pred)) and np.all(pred >= 0)


def test_numerator_matches_quadrature_in_hard_cases() -> None:
    # scipy's hyp2f1 returns NaN for the first two and a wrong finite value for the third
    cases = [
        (365.0, 5.0, 0.0, (0.0384, 0.3855, 1.2112, 864.3)),
        (5000.0, 100.0, 1.0, (3.0, 461.9, 4.0, 8.047)),
        (5000.0, 5.0, 300.0, (2.0, 1.9068, 4.0, 147.4)),
        (365.0, 1000.0, 0.0, (4.35, 74.88, 89.91, 763.9)),
    ]
    for t, x, T, params in cases:
        fast = _numerator(np.array([t]), np.array([x]), np.array([T]), *params)[0]
        slow = _numerator_quadrature(t, x, T, *params)
        assert np.isfinite(fast)
        assert fast == pytest.approx(slow, rel=1e-8)


def test_quadrature_matches_closed_form() -> None:
    r, alpha, a, b = PARAMS
    for t, x, T in [(39.0, 2.0, 38.86), (1.0, 0.0, 10.0), (200.0, 7.0, 20.0)]:
        closed = _numerator(np.array([t]), np.array([x]), np.array([T]), *PARAMS)[0]
        assert _numerator_quadrature(t, x, T, r, alpha, a, b) == pytest.approx(closed, rel=1e-10)


def test_a_equal_one_is_handled() -> None:
    near = _numerator(np.array([39.0]), np.array([2.0]), np.array([30.0]), 0.3, 5.0, 1.0 + 1e-3, 2.0)
    exact = _numerator(np.array([39.0]), np.array([2.0]), np.array([30.0]), 0.3, 5.0, 1.0, 2.0)
    assert np.isfinite(exact[0]) and exact[0] == pytest.approx(near[0], rel=1e-3)


def test_not_fitted_and_input_errors() -> None:
    model = BetaGeoModel()
    with pytest.raises(NotFittedError):
        model.predict_transactions(10, [1], [1.0], [2.0])
    with pytest.raises(NotFittedError):
        model.p_alive([1], [1.0], [2.0])
    with pytest.raises(NotFittedError):
        model.expected_transactions_new(10)
    with pytest.raises(InputError):
        model.fit([1, 2], [3.0, 1.0], [2.0, 5.0])  # recency > T
    with pytest.raises(InputError):
        model.fit([0, 2], [1.0, 1.0], [2.0, 5.0])  # recency > 0 with frequency 0
    with pytest.raises(InputError):
        model.fit([1.5, 2], [1.0, 1.0], [2.0, 5.0])  # non-integer frequency
    with pytest.raises(InputError):
        model.fit([1, 2], [1.0, np.nan], [2.0, 5.0])
    with pytest.raises(InputError):
        model.fit([1, 2], [1.0, 1.0], [2.0])
    with pytest.raises(InputError):
        BetaGeoModel(penalizer_coef=-1)


def test_penalizer_shrinks_parameters() -> None:
    x, tx, T = simulate(2_000, (0.5, 5.0, 0.8, 2.5), seed=6)
    plain = BetaGeoModel().fit(x, tx, T)
    shrunk = BetaGeoModel(penalizer_coef=0.1).fit(x, tx, T)
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in plain.params_.values())
    assert shrunk.loglik_ < plain.loglik_


_FITTED: list[BetaGeoModel] = []


def fitted() -> BetaGeoModel:
    if not _FITTED:
        _FITTED.append(BetaGeoModel.from_params(*PARAMS))
    return _FITTED[0]
