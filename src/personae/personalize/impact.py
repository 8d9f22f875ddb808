"""Treated against held out: the effect of a playbook on money and on trust, with intervals.

Differences (treatment − control) with normal-approximation confidence intervals:

* a proportion (conversion): Wald interval of p₁ − p₀;
* a mean (revenue per customer, trust, CES): Welch's interval (unequal variances);
* NPS (% promoters − % detractors): each answer scores +1/0/−1, so NPS is a mean and its
  difference gets Welch's interval too.

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


def proportion_difference(
    x1: int, n1: int, x0: int, n0: int, metric: str, confidence: float = 0.95
) -> Effect:
    """p₁ − p₀ with a Wald interval (``None`` where a group is empty)."""
    if n1 == 0 or n0 == 0:
        return Effect(metric, x1 / n1 if n1 else None, x0 / n0 if n0 else None, None, None, None, n1, n0)
    p1, p0 = x1 / n1, x0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    d = p1 - p0
    z = _z(confidence)
    return Effect(metric, p1, p0, d, d - z * se, d + z * se, n1, n0)


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
