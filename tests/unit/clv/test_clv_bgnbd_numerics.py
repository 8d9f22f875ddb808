"""BG/NBD conditional expectation for any parameters: quadrature rules, interpolation, speed guards.

The reference values below were computed with mpmath 1.3 at 22 significant digits, as the
Beta(a, b+x) average of h(p) = (1 - (1+ps)^-(r+x)) / p by tanh-sinh quadrature over
logit(p) (and, where mpmath's hyp2f1 converges, checked against the closed form of FHL
eq. 10: they agreed to 1e-16). The last column of the comments is the relative error of
the implementation before the vectorised quadrature (scipy hyp2f1 + per-value scalar
quadrature), for the record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.clv import BetaGeoModel, GammaGammaModel, bgnbd, customer_lifetime_value
from personae.clv import _chebyshev as chebyshev
from personae.clv._beta_quadrature import apply_rules, beta_rules
from personae.clv.bgnbd import _expected_if_alive, _numerator, _numerator_quadrature
from personae.clv.value import DAYS_PER_MONTH

#: a maximum-likelihood fit on realistic synthetic data that lands near the boundary: a, b
#: huge, i.e. Beta(a, b) is nearly a point mass at a/(a+b) = 0.035
DEGENERATE = (1.5522, 140.07, 477394.1, 13032492.5)
CDNOW = (0.243, 4.414, 0.793, 2.426)

# (params, t, x, T, E[purchases in the next t | alive, x, T])
MPMATH_REFERENCE = [
    (DEGENERATE, 1.0, 0, 0.0, "0.011078035592795364961"),  # before: 4e-08
    (DEGENERATE, 30.4375, 0, 30.0, "0.27557263945435006169"),  # 4e-08
    (DEGENERATE, 365.0, 1, 1100.0, "0.73754874270558305087"),  # 2e-08
    (DEGENERATE, 5000.0, 5, 0.0, "28.164452174203227598"),  # 5e-08
    (DEGENERATE, 365.0, 5, 30.0, "10.770075718671037357"),  # 5e-08
    (DEGENERATE, 365.0, 40, 30.0, "26.942236432894937548"),  # 3e-08
    (DEGENERATE, 30.4375, 40, 1100.0, "1.0013121546770039187"),  # 3e-08
    (DEGENERATE, 5000.0, 300, 1100.0, "28.299918034005938817"),  # 5e-08
    (DEGENERATE, 365.0, 1000, 0.0, "28.301384330858574685"),  # 7e-10
    (DEGENERATE, 1.0, 1000, 30.0, "5.3162284565228267161"),  # 7e-10
    (CDNOW, 5000.0, 0, 0.0, "11.9870530768115541"),  # 3e-15
    (CDNOW, 30.4375, 1, 30.0, "0.94244235612029672063"),  # 9e-16
    (CDNOW, 365.0, 300, 1100.0, "88.378535964042451836"),  # 2e-15
    ((2.0, 10.0, 20.0, 100.0), 365.0, 0, 30.0, "5.1766550647795106354"),  # 1e-05
    ((2.0, 10.0, 20.0, 100.0), 5000.0, 5, 0.0, "6.5263157894720715379"),  # 0
    ((2.0, 10.0, 20.0, 100.0), 30.4375, 300, 1100.0, "6.8473777689504225854"),  # 1e-15
    ((0.0384, 0.3855, 1.2112, 864.3), 30.4375, 0, 1100.0, "0.0010621518651163323244"),  # 1e-09
    ((0.0384, 0.3855, 1.2112, 864.3), 1.0, 1, 1100.0, "0.00094366806507959165322"),  # 4e-10
    ((0.0384, 0.3855, 1.2112, 864.3), 5000.0, 40, 0.0, "3160.2211070423623385"),  # 7e-13
    ((3.0, 461.9, 4.0, 8.047), 5000.0, 300, 30.0, "103.60227496057479253"),  # 6e-14
    ((3.0, 461.9, 4.0, 8.047), 30.4375, 1000, 0.0, "58.309519707025128631"),  # 0
    ((0.5, 20.0, 1.0, 3.0), 365.0, 1, 30.0, "4.8798767705332585582"),  # 0 (a = 1)
    ((0.5, 20.0, 1.0, 3.0), 5000.0, 1000, 0.0, "5539.5349222857424991"),  # 3e-13
    ((0.9, 50.0, 2e9, 6e10), 365.0, 0, 30.0, "3.6035580856071801601"),  # 2e-04
    ((0.9, 50.0, 2e9, 6e10), 5000.0, 40, 0.0, "31.000000034998125994"),  # 1e-04
    ((0.9, 50.0, 2e9, 6e10), 30.4375, 1000, 1100.0, "17.805546280822845221"),  # 9e-05
]


def degenerate_customers(n: int = 5_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(30, 1100, n)
    recency = T * rng.uniform(0, 1, n)
    frequency = rng.integers(1, 40, n).astype(float)
    frequency[: n // 10], recency[: n // 10] = 0.0, 0.0
    return frequency, recency, T


def only_quadrature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bgnbd, "CHEAP_RULE_NODES", 10**9)


@pytest.mark.parametrize("quadrature_only", [False, True])
def test_matches_mpmath_reference(quadrature_only: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if quadrature_only:
        only_quadrature(monkeypatch)
    for params, t, x, T, want in MPMATH_REFERENCE:
        got = _numerator(np.array([t]), np.array([float(x)]), np.array([T]), *params)[0]
        assert got == pytest.approx(float(want), rel=1e-10), (params, t, x, T)


def test_scalar_reference_quadrature_matches_mpmath() -> None:
    for params, t, x, T, want in MPMATH_REFERENCE[:10]:
        assert _numerator_quadrature(t, x, T, *params) == pytest.approx(float(want), rel=1e-10)


def test_matches_mpmath_on_random_cases() -> None:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 25
    rng = np.random.default_rng(7)
    for _ in range(12):
        r, alpha = rng.uniform(0.05, 3), 10 ** rng.uniform(-1, 2.5)
        a, b = 10 ** rng.uniform(-1, 7), 10 ** rng.uniform(-1, 8)
        t, x, T = 10 ** rng.uniform(0, 3.7), float(rng.integers(0, 300)), rng.uniform(0, 1100)
        s, c, bb = mp.mpf(t) / (alpha + T), mp.mpf(r) + x, mp.mpf(b) + x
        log_norm = mp.log(mp.beta(a, bb))

        def integrand(v, s=s, c=c, bb=bb, a=a, log_norm=log_norm):
            p = 1 / (1 + mp.exp(-v))
            dens = mp.exp(-a * mp.log1p(mp.exp(-v)) - bb * mp.log1p(mp.exp(v)) - log_norm)
            return dens * -mp.expm1(-c * mp.log1p(p * s)) / p

        mode, sd = mp.log(a / bb), mp.sqrt(1 / mp.mpf(a) + 1 / bb)
        points = [-mp.inf, *(mode + k * sd for k in range(-30, 31, 3)), mp.inf]
        want = float(mp.quad(integrand, points))
        got = _numerator(np.array([t]), np.array([x]), np.array([T]), r, alpha, a, b)[0]
        assert got == pytest.approx(want, rel=1e-9), (r, alpha, a, b, t, x, T)


def test_degenerate_parameters_use_the_vectorised_path() -> None:
    """Guard against the per-value fallback: 5,000 customers, one rule per frequency."""
    f, rec, T = degenerate_customers()
    model = BetaGeoModel.from_params(*DEGENERATE)
    bgnbd.EVALUATIONS.clear()
    pred = model.predict_transactions(365.0, f, rec, T)
    counts = bgnbd.EVALUATIONS
    assert counts["scalar_quadrature"] == 0
    assert counts["closed_form"] == 0  # hyp2f1 is not even tried for these parameters
    # every customer either interpolated or by quadrature; the quadrature count includes
    # the interpolation tables (a few dozen values per frequency)
    assert counts["interpolated"] + counts["quadrature"] >= len(f)
    assert counts["quadrature"] <= len(f)
    assert counts["rules"] <= 2 * len(np.unique(f))
    assert np.all(np.isfinite(pred)) and np.all(pred > 0)
    # same values one at a time (no interpolation, no batching) and by the slow reference
    sample = np.arange(0, len(f), 250)
    one_by_one = [model.predict_transactions(365.0, f[i], rec[i], T[i])[()] for i in sample]
    np.testing.assert_allclose(pred[sample], one_by_one, rtol=1e-11)
    alive = model.p_alive(f[sample], rec[sample], T[sample])
    slow = [_numerator_quadrature(365.0, f[i], T[i], *DEGENERATE) for i in sample]
    np.testing.assert_allclose(pred[sample], alive * slow, rtol=1e-10)


def test_degenerate_and_huge_parameters_finite_and_monotone() -> None:
    t = np.array([0.01, 1, 7, 30.4375, 365, 1000, 2000, 5000])
    for r, alpha, a, b in [
        DEGENERATE,
        (1.5, 140.0, 1e12, 3e13),
        (0.5, 20.0, 1e15, 1e15),
        (2.0, 5.0, 3e7, 1e6),
    ]:
        for x in (0, 1, 10, 100, 1000):
            for T in (0.0, 30.0, 1100.0):
                values = _numerator(t, np.full_like(t, x), np.full_like(t, T), r, alpha, a, b)
                assert np.all(np.isfinite(values)) and np.all(values > 0)
                assert np.all(np.diff(values) >= -1e-13 * values[1:])  # increasing in t (saturates)
                assert np.all(values <= (r + x) * t / (alpha + T) * (1 + 1e-12))  # E[λ] t


def h(p: float, s: float, c: float) -> float:
    return float(-np.expm1(-c * np.log1p(p * s)) / p)


def h2(p: float, s: float, c: float) -> float:
    """Second derivative of ``h`` in ``p``."""
    g = -np.expm1(-c * np.log1p(p * s))
    g1 = c * s * (1 + p * s) ** (-c - 1)
    g2 = -c * (c + 1) * s**2 * (1 + p * s) ** (-c - 2)
    return float(g2 / p - 2 * g1 / p**2 + 2 * g / p**3)


def test_point_mass_limit() -> None:
    """As a, b -> inf with a/(a+b) = μ fixed, E_p[h(p)] -> h(μ) + h''(μ) Var(p) / 2 -> h(μ).

    (The BG/NBD with a common dropout probability μ: E[Y(t) | alive] = (1 - (1+μs)^-c)/μ.)
    """
    r, alpha, mu = 1.5, 140.0, 0.035
    s, x = 365.0 / (alpha + 30.0), 5.0
    c = r + x
    for scale in (1e5, 1e7, 1e9, 1e12):
        a, b = mu * scale, (1 - mu) * scale - x  # so that Beta(a, b + x) has mean μ
        got = _numerator(np.array([365.0]), np.array([x]), np.array([30.0]), r, alpha, a, b)[0]
        var = mu * (1 - mu) / (scale + 1)
        correction = h2(mu, s, c) * var / 2
        assert got - h(mu, s, c) == pytest.approx(correction, rel=1e-3 + 1e-4 / (scale * var))
        assert got == pytest.approx(h(mu, s, c), rel=max(10 * abs(correction), 1e-14))


def test_rules_directly() -> None:
    """A rule serves every horizon up to its s_max; the masses add up."""
    a, bb, c = 0.793, 2.426 + 3, 0.243 + 3
    rules = beta_rules(a, np.array([bb]), np.array([c]), np.array([50.0]))
    total = rules.weight.sum() + rules.left_mass[0] + rules.right_mass[0]
    assert total == pytest.approx(1.0, abs=1e-14)
    s = np.array([1e-6, 0.1, 1.0, 10.0, 50.0])
    got = apply_rules(rules, np.zeros(len(s), dtype=np.intp), s)
    want = _numerator(s, np.full(len(s), 3.0), np.zeros(len(s)), 0.243, 1.0, a, 2.426)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # concentrated: a handful of panels around the mode, no tails
    rules = beta_rules(DEGENERATE[2], np.array([DEGENERATE[3]]), np.array([2.0]), np.array([10.0]))
    assert rules.size[0] <= bgnbd.CHEAP_RULE_NODES and rules.left_mass[0] == 0 and rules.right_mass[0] == 0


@pytest.mark.parametrize("params", [DEGENERATE, CDNOW, (0.25, 4.0, 0.8, 2.5), (1.2, 80.0, 0.3, 0.4)])
def test_interpolation_matches_exact(
    params: tuple[float, float, float, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    only_quadrature(monkeypatch)  # compare with quadrature (scipy's hyp2f1 can be off by 1e-10)
    r, _, a, b = params
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.choice([0.0, 1.0, 2.0, 7.0, 300.0], n)
    s = np.exp(rng.uniform(np.log(1e-4), np.log(5e3), n))
    bgnbd.EVALUATIONS.clear()
    fast = _expected_if_alive(s, x, r, a, b)
    assert bgnbd.EVALUATIONS["interpolated"] == n
    exact = _expected_if_alive(s, x, r, a, b, interpolate=False)
    np.testing.assert_allclose(fast, exact, rtol=1e-11)


def test_chebyshev_rejects_what_it_cannot_resolve() -> None:
    plan = chebyshev.plan(np.array([0.0, 0.0]), np.array([2.0, 2.0]))
    u, group = chebyshev.sample_points(plan)
    smooth = np.exp(-u) / (1 + np.exp(u))
    kink = np.where(group == 1, np.abs(u - 1.3) + 1.0, smooth)
    _, ok = chebyshev.fit(smooth)
    assert ok.all()
    _, ok = chebyshev.fit(kink)
    segments_of_group_1 = slice(plan.first[1], plan.first[1] + plan.count[1])
    assert ok[: plan.first[1]].all() and not ok[segments_of_group_1].all()
    assert ok[segments_of_group_1].sum() == plan.count[1] - 1  # only the segment with the kink


def test_clv_matches_month_by_month_predictions_degenerate() -> None:
    f, rec, T = degenerate_customers(2_000, seed=1)
    bg = BetaGeoModel.from_params(*DEGENERATE)
    gg = GammaGammaModel.from_params(0.9616, 1.819, 129.5)
    m = np.where(f > 0, 50.0 + T / 10, 0.0)
    bgnbd.EVALUATIONS.clear()
    out = customer_lifetime_value(bg, gg, f, rec, T, m, horizon_months=6, interval=None)
    assert bgnbd.EVALUATIONS["scalar_quadrature"] == 0
    rate = 1.10 ** (1 / 12) - 1
    cumulative = [np.zeros(len(f))] + [
        bg.predict_transactions(i * DAYS_PER_MONTH, f, rec, T) for i in range(1, 7)
    ]
    want = sum((cumulative[i] - cumulative[i - 1]) / (1 + rate) ** i for i in range(1, 7))
    want = want * gg.expected_spend(f, m)
    np.testing.assert_allclose(out["clv"], want, rtol=1e-10)
    np.testing.assert_allclose(out["expected_transactions"], cumulative[6], rtol=1e-10)


def test_clv_work_is_per_distinct_frequency_and_T() -> None:
    """Recency only enters P(alive): customers sharing (x, T) share the expensive part."""
    rng = np.random.default_rng(5)
    n = 3_000
    f = rng.integers(1, 6, n).astype(float)
    T = rng.choice([100.0, 200.0, 300.0], n)
    rec = np.round(T * rng.uniform(0, 1, n))
    bg = BetaGeoModel.from_params(0.25, 4.0, 0.8, 2.5)
    gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    bgnbd.EVALUATIONS.clear()
    out = customer_lifetime_value(bg, gg, f, rec, T, np.full(n, 20.0), interval=None)
    pairs = len(pd.MultiIndex.from_arrays([f, T]).unique())
    assert sum(bgnbd.EVALUATIONS[k] for k in ("closed_form", "interpolated")) <= 12 * pairs
    np.testing.assert_allclose(
        out["expected_transactions"], bg.predict_transactions(12 * DAYS_PER_MONTH, f, rec, T), rtol=1e-12
    )


def test_non_finite_and_zero_inputs() -> None:
    t = np.array([1.0, np.nan, 5.0, 0.0, np.inf, 3.0])
    x = np.array([1.0, 1.0, np.nan, 2.0, 1.0, 1.0])
    T = np.array([1.0, 1.0, 1.0, 1.0, 1.0, np.nan])
    got = _numerator(t, x, T, *CDNOW)
    assert np.isfinite(got[0]) and got[0] > 0 and got[3] == 0.0
    assert np.all(np.isnan(got[[1, 2, 4, 5]]))
    assert _expected_if_alive(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 0.243, 0.793, 2.426)[0] == 0.0
