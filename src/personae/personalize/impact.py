"""Treated against held out: the effect of a playbook on money and on trust, with intervals.

Differences (treatment − control) with confidence intervals:

* a proportion (conversion): Newcombe's hybrid score interval of p₁ − p₀ (his method 10,
  built from the two Wilson intervals), which keeps its coverage for small groups and rates
  near 0 or 1 where the Wald interval does not;
* a mean (trust, CES): Welch's interval (unequal variances);
* revenue per customer: Welch's interval, or a percentile bootstrap of the difference of
  means when either group's revenue is skewed (most customers spend nothing, a few a lot —
  the usual case), where the t interval's coverage is poor;
* NPS (% promoters − % detractors): each answer scores +100/0/−100, so NPS is a mean and its
  difference gets Welch's interval too.

:func:`holdout_needed` and :func:`detectable_lift` are the power calculation for two
proportions (normal approximation, unequal groups): how big a holdout must be to detect a
given lift in conversion, and the smallest lift the actual groups can detect.

:func:`verdict` then says in one sentence whether the initiative earns money, and whether it
does so at the cost of trust (an interval entirely below zero is a measured loss; one that
straddles zero is "no detectable effect", not "no effect").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Effect:
    metric: str
    treatment: float | None
    control: float | None
    difference: float | None
    low: float | None
    high: float | None
    n_treatment: int
    n_control: int
    #: how the interval was made: newcombe, welch, bootstrap
    method: str = "welch"

    @property
    def direction(self) -> str:
        """``up`` / ``down`` when the interval excludes 0, ``unclear`` otherwise."""
        if self.low is None or self.high is None:
            return "unclear"
        if self.low > 0:
            return "up"
        if self.high < 0:
            return "down"
        return "unclear"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "direction": self.direction}


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion x/n.

    Example:
        >>> [round(v, 4) for v in wilson(56, 70)]
        [0.6918, 0.877]
    """
    z = _z(confidence)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(
    x1: int, n1: int, x0: int, n0: int, metric: str, confidence: float = 0.95
) -> Effect:
    """p₁ − p₀ with Newcombe's hybrid score interval (``None`` where a group is empty).

    Newcombe (1998), "Interval estimation for the difference between independent
    proportions", *Statistics in Medicine* 17, 873-890, method 10: with Wilson intervals
    (l₁, u₁) and (l₀, u₀), the difference d = p₁ − p₀ has
    ``low = d − √((p₁−l₁)² + (u₀−p₀)²)``, ``high = d + √((u₁−p₁)² + (p₀−l₀)²)``.

    Example:
        Newcombe's example (a), 56/70 against 48/80: 0.2000 (0.0524 to 0.3339):

        >>> e = proportion_difference(56, 70, 48, 80, "conversion")
        >>> round(e.difference, 4), round(e.low, 4), round(e.high, 4)
        (0.2, 0.0524, 0.3339)
    """
    if n1 == 0 or n0 == 0:
        return Effect(metric, x1 / n1 if n1 else None, x0 / n0 if n0 else None, None, None, None, n1, n0)
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1, confidence)
    l0, u0 = wilson(x0, n0, confidence)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Effect(metric, p1, p0, d, low, high, n1, n0, method="newcombe")


def skewed(values: Sequence[float] | np.ndarray, threshold: float = 1.0) -> bool:
    """Whether a sample's skewness (Fisher-Pearson, bias-corrected) exceeds ``threshold`` in size.

    Example:
        >>> skewed([0, 0, 0, 0, 0, 0, 0, 0, 10, 250]), skewed([1, 2, 3, 4, 5])
        (True, False)
    """
    v = np.asarray(values, dtype=float)
    if len(v) < 3 or float(v.std()) == 0.0:
        return False
    from scipy import stats

    return bool(abs(float(stats.skew(v, bias=False))) > threshold)


def bootstrap_mean_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    metric: str,
    confidence: float = 0.95,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Effect:
    """mean(a) − mean(b) with a percentile bootstrap interval (each group resampled on its own).

    For skewed outcomes such as revenue per customer, where the t interval's coverage falls
    short. Seeded: the same data give the same interval.

    Example:
        >>> e = bootstrap_mean_difference([0, 0, 0, 5, 100], [0, 0, 1, 2], "revenue")
        >>> e.difference, e.method, bool(e.low < e.difference < e.high)
        (20.25, 'bootstrap', True)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n0 = len(x), len(y)
    if n1 < 2 or n0 < 2:
        return mean_difference(x, y, metric, confidence)
    rng = np.random.default_rng(seed)
    m1 = x[rng.integers(0, n1, size=(n_resamples, n1))].mean(axis=1)
    m0 = y[rng.integers(0, n0, size=(n_resamples, n0))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(m1 - m0, [tail, 100 - tail])
    d = float(x.mean() - y.mean())
    return Effect(metric, float(x.mean()), float(y.mean()), d, float(low), float(high), n1, n0, "bootstrap")


def holdout_needed(
    p0: float, lift: float, treated: int, *, confidence: float = 0.95, power: float = 0.80
) -> int | None:
    """Control-group size needed to detect conversion going from ``p0`` to ``p0 + lift``.

    Two-sided test of two proportions, normal approximation, with ``treated`` customers in
    the treatment group (k = treated / holdout)::

        n₀ = (z_α·√(p̄q̄(1 + 1/k)) + z_β·√(p₀q₀ + p₁q₁/k))² / lift²

    solved for n₀ (k depends on it) by bisection; ``None`` when even an infinite holdout
    cannot (the treated group alone is too small) or the rates are out of range.

    Example:
        The textbook case, equal groups (Fleiss, no continuity correction): 10 % against
        15 % needs 686 per group at 95 % confidence and 80 % power:

        >>> n = holdout_needed(0.10, 0.05, treated=686)
        >>> n
        686
    """
    p1 = p0 + lift
    if lift == 0 or not (0 < p0 < 1 and 0 < p1 < 1) or treated < 1:
        return None
    if _power(p0, p1, treated, 10**9, confidence) < power:
        return None
    lo, hi = 1, 10**9
    while lo < hi:
        mid = (lo + hi) // 2
        if _power(p0, p1, treated, mid, confidence) >= power:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _power(p0: float, p1: float, n1: int, n0: int, confidence: float) -> float:
    """Power of the two-sided two-proportion z-test (pooled variance under H0)."""
    from scipy import stats

    z = _z(confidence)
    pbar = (n1 * p1 + n0 * p0) / (n1 + n0)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
    se1 = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return float(stats.norm.cdf((abs(p1 - p0) - z * se0) / se1))


def detectable_lift(
    p0: float, treated: int, held_out: int, *, confidence: float = 0.95, power: float = 0.80
) -> float | None:
    """The smallest rise in conversion (absolute) these groups detect with ``power``.

    Example:
        >>> round(detectable_lift(0.10, 686, 686), 3)
        0.05
    """
    if treated < 1 or held_out < 1 or not 0 < p0 < 1:
        return None
    lo, hi = 0.0, 1.0 - p0 - 1e-9
    if _power(p0, p0 + hi, treated, held_out, confidence) < power:
        return None
    for _ in range(60):
        mid = (lo + hi) / 2
        if _power(p0, p0 + mid, treated, held_out, confidence) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def mean_difference(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, metric: str, confidence: float = 0.95
) -> Effect:
    """mean(a) − mean(b) with Welch's t interval (needs 2+ values per group)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n0 = len(x), len(y)
    m1 = float(x.mean()) if n1 else None
    m0 = float(y.mean()) if n0 else None
    if n1 < 2 or n0 < 2 or m1 is None or m0 is None:
        return Effect(metric, m1, m0, None if m1 is None or m0 is None else m1 - m0, None, None, n1, n0)
    v1, v0 = x.var(ddof=1) / n1, y.var(ddof=1) / n0
    se = math.sqrt(v1 + v0)
    d = m1 - m0
    if se == 0:
        return Effect(metric, m1, m0, d, d, d, n1, n0)
    df = (v1 + v0) ** 2 / ((v1**2) / (n1 - 1) + (v0**2) / (n0 - 1))
    from scipy import stats

    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    return Effect(metric, m1, m0, d, d - t * se, d + t * se, n1, n0)


def nps_points(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """+100 for promoters (9–10), −100 for detractors (0–6), 0 for passives: NPS is their mean."""
    s = np.asarray(scores, dtype=float)
    return np.where(s >= 9, 100.0, np.where(s <= 6, -100.0, 0.0))


def verdict(effects: Sequence[Effect]) -> str:
    """One plain sentence on money against trust."""
    by = {e.metric: e for e in effects}
    money = by.get("revenue_per_customer")
    trust_metrics = [by[m] for m in ("trust", "nps") if m in by]
    ces = by.get("ces")
    earns = money is not None and money.direction == "up"
    loses = money is not None and money.direction == "down"
    # lower CES = less effort = better, so a rise in CES is a loss of experience
    hurt = [e.metric for e in trust_metrics if e.direction == "down"] + (
        ["ces"] if ces and ces.direction == "up" else []
    )
    helped = [e.metric for e in trust_metrics if e.direction == "up"]
    if earns and hurt:
        return (
            "It earns money at the cost of trust: revenue per customer is up, "
            f"but {', '.join(hurt)} went the wrong way."
        )
    if earns:
        tail = f" and {', '.join(helped)} improved" if helped else " with no measured harm to trust"
        return f"It earns money{tail}."
    if loses:
        return "It costs money: revenue per customer is lower than in the control group."
    if hurt:
        return f"No measurable revenue effect, and {', '.join(hurt)} went the wrong way: reconsider it."
    return (
        "No effect on revenue or trust is detectable yet (the intervals include zero): "
        "keep measuring or grow the groups."
    )
