"""BG/BB: the published donation-data fit, a plain reference of every formula, recovery, inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personae.clv.bgbb import BetaGeoBetaBinomModel, _Data, _neg_loglik, loglik_individual
from personae.errors import InputError

# Fader, Hardie & Shang (2010), the 1995 cohort of donors, 6 repeat opportunities (1996-2001):
# (x, t_x, number of donors); n = 6 for all. 11,104 donors in 22 rows.
DONATIONS = [
    (6, 6, 1203), (5, 6, 728), (4, 6, 512), (3, 6, 357), (2, 6, 234), (1, 6, 129),
    (5, 5, 335), (4, 5, 284), (3, 5, 225), (2, 5, 173), (1, 5, 119),
    (4, 4, 240), (3, 4, 181), (2, 4, 155), (1, 4, 78),
    (3, 3, 322), (2, 3, 255), (1, 3, 129),
    (2, 2, 613), (1, 2, 277),
    (1, 1, 1091),
    (0, 0, 3464),
]  # fmt: skip
PUBLISHED = (1.204, 0.750, 0.657, 2.783)  # alpha, beta, gamma, delta; LL = -33,225.6


def donations() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, tx, w = (np.array([row[i] for row in DONATIONS], dtype=float) for i in range(3))
    return x, tx, np.full(len(x), 6.0), w


def lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def reference_likelihood(x: int, tx: int, n: int, a: float, b: float, g: float, d: float) -> float:
    """FHS 2010 eq. 5, term by term in plain floats."""
    total = math.exp(lbeta(a + x, b + n - x) - lbeta(a, b) + lbeta(g, d + n) - lbeta(g, d))
    for i in range(n - tx):
        total += math.exp(lbeta(a + x, b + tx - x + i) - lbeta(a, b) + lbeta(g + 1, d + tx + i) - lbeta(g, d))
    return total


def reference_p_alive(x: int, tx: int, n: int, a: float, b: float, g: float, d: float) -> float:
    """Eq. 11: alive at opportunity n + 1."""
    num = math.exp(lbeta(a + x, b + n - x) - lbeta(a, b) + lbeta(g, d + n + 1) - lbeta(g, d))
    return num / reference_likelihood(x, tx, n, a, b, g, d)


def reference_conditional(ns: int, x: int, tx: int, n: int, a: float, b: float, g: float, d: float) -> float:
    """Eq. 13 in the paper's closed form (with its division by gamma - 1)."""
    front = math.exp(lbeta(a + x + 1, b + n - x) - lbeta(a, b)) / reference_likelihood(x, tx, n, a, b, g, d)
    ratio = math.exp(math.lgamma(g + d) - math.lgamma(1 + d))
    bracket = math.exp(math.lgamma(1 + d + n) - math.lgamma(g + d + n)) - math.exp(
        math.lgamma(1 + d + n + ns) - math.lgamma(g + d + n + ns)
    )
    return front * d / (g - 1) * ratio * bracket


def reference_new(n: int, a: float, b: float, g: float, d: float) -> float:
    """Eq. 7: expected purchases of a new customer in n opportunities (closed form)."""
    tail = math.exp(math.lgamma(g + d) - math.lgamma(1 + d) + math.lgamma(1 + d + n) - math.lgamma(g + d + n))
    return a / (a + b) * d / (g - 1) * (1 - tail)


def test_pins_the_published_donation_estimates() -> None:
    x, tx, n, w = donations()
    assert w.sum() == 11_104
    model = BetaGeoBetaBinomModel().fit(x, tx, n, sample_weight=w)
    got = [model.params_[k] for k in ("alpha", "beta", "gamma", "delta")]
    assert got == pytest.approx(PUBLISHED, abs=6e-4)  # published to 3 decimals
    assert model.loglik_ == pytest.approx(-33_225.6, abs=0.05)
    assert model.n_customers_ == 11_104
    assert model.degenerate() is None and model.weakly_identified() is None
    se = model.summary()["se"]
    assert (se > 0).all() and se["delta"] == pytest.approx(0.32, abs=0.02)
    # the published parameters give the published log-likelihood too
    assert float(np.dot(w, loglik_individual(x, tx, n, *PUBLISHED))) == pytest.approx(-33_225.6, abs=0.05)


def test_one_row_per_donor_gives_the_same_fit_as_the_weighted_table() -> None:
    x, tx, n, w = donations()
    rep = w.astype(int)
    weighted = BetaGeoBetaBinomModel().fit(x, tx, n, sample_weight=w)
    expanded = BetaGeoBetaBinomModel().fit(np.repeat(x, rep), np.repeat(tx, rep), np.repeat(n, rep))
    assert expanded.loglik_ == pytest.approx(weighted.loglik_, abs=1e-6)
    for k, v in weighted.params_.items():
        assert expanded.params_[k] == pytest.approx(v, rel=1e-6)


@pytest.mark.parametrize("params", [PUBLISHED, (0.3, 5.0, 2.5, 0.4), (20.0, 1.5, 0.05, 40.0)])
def test_likelihood_and_predictions_match_the_plain_reference(params: tuple[float, ...]) -> None:
    a, b, g, d = params
    rows = [(0, 0, 0), (0, 0, 9), (1, 1, 1), (1, 3, 9), (4, 5, 6), (6, 6, 6), (30, 60, 120), (2, 2, 200)]
    x, tx, n = (np.array([r[i] for r in rows], dtype=float) for i in range(3))
    want = [math.log(reference_likelihood(*r, a, b, g, d)) for r in rows]
    assert loglik_individual(x, tx, n, a, b, g, d) == pytest.approx(want, rel=1e-11, abs=1e-11)
    model = BetaGeoBetaBinomModel.from_params(a, b, g, d)
    assert model.p_alive(x, tx, n) == pytest.approx(
        [reference_p_alive(*r, a, b, g, d) for r in rows], rel=1e-10
    )
    for ns in (1, 5):
        want_c = [reference_conditional(ns, *r, a, b, g, d) for r in rows]
        assert model.predict_transactions(ns, x, tx, n) == pytest.approx(want_c, rel=1e-9, abs=1e-300)
    assert model.expected_transactions_new([1, 6, 25]) == pytest.approx(
        [reference_new(k, a, b, g, d) for k in (1, 6, 25)], rel=1e-10
    )


def test_gradient_is_the_derivative_of_the_likelihood() -> None:
    x, tx, n, w = donations()
    data = _Data.build(x, tx, n, w)
    theta = np.log([0.9, 1.3, 0.4, 5.0])
    _, grad = _neg_loglik(theta, data)
    step = 1e-6
    numeric = [
        (_neg_loglik(theta + step * e, data)[0] - _neg_loglik(theta - step * e, data)[0]) / (2 * step)
        for e in np.eye(4)
    ]
    assert grad == pytest.approx(numeric, rel=1e-6)


def simulate(n_customers: int, n: int, params: tuple[float, ...], seed: int) -> np.ndarray:
    """Plain simulation of the story: p ~ Beta, theta ~ Beta, die before each opportunity;
    returns who bought at each opportunity (customers x opportunities)."""
    a, b, g, d = params
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, n_customers)
    theta = rng.beta(g, d, n_customers)
    alive = np.cumprod(rng.random((n_customers, n)) >= theta[:, None], axis=1).astype(bool)
    return alive & (rng.random((n_customers, n)) < p[:, None])


def summarise(buy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = buy.shape[1]
    x = buy.sum(axis=1).astype(float)
    last = np.where(buy.any(axis=1), n - np.argmax(buy[:, ::-1], axis=1), 0).astype(float)
    return x, last, np.full(len(x), float(n))


def test_recovers_simulated_parameters_and_predicts_the_next_opportunities() -> None:
    truth = (0.8, 1.6, 0.5, 3.0)
    buy = simulate(40_000, 18, truth, seed=1)
    x, tx, n = summarise(buy[:, :12])
    model = BetaGeoBetaBinomModel().fit(x, tx, n)
    for name, true in zip(("alpha", "beta", "gamma", "delta"), truth, strict=True):
        low, high = model.summary().loc[name, ["lower_95", "upper_95"]]
        assert low * 0.9 < true < high * 1.1, (name, low, true, high)
    # the next 6 opportunities of the same customers: predicted vs what they did
    actual = buy[:, 12:].sum()
    predicted = model.predict_transactions(6, x, tx, n)
    assert predicted.sum() == pytest.approx(actual, rel=0.03)
    draws = model.sample_transactions(6, x, tx, n, size=40, rng=np.random.default_rng(0))
    assert draws.mean(axis=0).sum() == pytest.approx(predicted.sum(), rel=0.02)


def test_inputs_are_checked() -> None:
    model = BetaGeoBetaBinomModel()
    with pytest.raises(InputError, match="whole numbers"):
        model.fit([1.5], [2], [3])
    with pytest.raises(InputError, match="frequency <= recency <= n_periods"):
        model.fit([3], [2], [3])
    with pytest.raises(InputError, match="frequency <= recency <= n_periods"):
        model.fit([1], [4], [3])
    with pytest.raises(InputError, match="recency must be 0"):
        model.fit([0], [2], [3])
    with pytest.raises(InputError, match="no customers"):
        model.fit([1], [1], [3], sample_weight=[0.0])
