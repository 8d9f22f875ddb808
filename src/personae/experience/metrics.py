"""The experience metrics, defined once, each with its uncertainty.

* **NPS** — share of promoters (9–10) minus share of detractors (0–6), ×100, so −100…100.
  Its standard error comes from the multinomial (trinomial) variance of that difference:
  ``Var = (p + d − (p − d)²) / n``. The interval is the *adjusted Wald* interval (Rocks 2016,
  The American Statistician): add 3 to ``n`` and ¾ to promoters and detractors before using the
  same variance. Unlike the plain Wald interval it does not collapse to a point when every
  answer is a promoter, and its coverage stays near nominal down to small samples. (With a
  handful of answers the adjusted interval can miss the observed score; it is then widened to
  include it.)
* **Net trust** — the trust question asked like NPS (9–10 trust, 0–6 distrust), same formula.
* **CSAT** — share of top-two-box answers (4–5 on 1–5), in percent, with a Wilson interval.
* **CES** — mean on 1–7 (t interval), share agreeing (5–7) and *net ease*: agree (5–7) minus
  disagree (1–3), ×100, which is NPS-shaped and so can be combined with it.
* **Net Trust Score** — a weighted mean of NPS, net ease and net trust (see
  :class:`~personae.config.experience.NetTrustWeights` for the default and why).

Everything is pure NumPy/SciPy over arrays of scores already on the standard scales
(:mod:`personae.experience.scales`). Empty input gives ``None`` figures, never zeros.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from personae.config.experience import NetTrustWeights

PROMOTER_MIN = 9.0
PASSIVE_MIN = 7.0
CSAT_TOP_TWO_MIN = 4.0
CES_AGREE_MIN = 5.0
CES_DISAGREE_MAX = 3.0


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def _scores(values: ArrayLike) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[~np.isnan(a)]


@dataclass(frozen=True)
class NetScore:
    """A net score (NPS, net trust, net ease): top share minus bottom share, ×100.

    ``score`` and ``se`` are in points (−100…100); ``ci`` is the adjusted Wald interval.
    """

    n: int
    top: int
    middle: int
    bottom: int
    score: float | None
    se: float | None
    ci: tuple[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci else None
        return d


def net_score(top: int, middle: int, bottom: int, confidence: float = 0.95) -> NetScore:
    """NPS-style net score from counts of top (promoters), middle and bottom (detractors).

    Example:
        One promoter: the score is 100, and the interval says how little that tells.

        >>> one = net_score(1, 0, 0)
        >>> one.score, [round(c, 1) for c in one.ci]
        (100.0, [-48.5, 100.0])
        >>> net_score(0, 0, 0).score is None
        True
    """
    if min(top, middle, bottom) < 0:
        raise ValueError("counts cannot be negative")
    n = top + middle + bottom
    if n == 0:
        return NetScore(0, 0, 0, 0, None, None, None)
    p, d = top / n, bottom / n
    score = 100.0 * (p - d)
    se = 100.0 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    # adjusted Wald (Rocks 2016): n + 3, promoters and detractors + 3/4 each
    na = n + 3.0
    pa, da = (top + 0.75) / na, (bottom + 0.75) / na
    centre = pa - da
    half = _z(confidence) * math.sqrt((pa + da - centre**2) / na)
    low, high = 100.0 * (centre - half), 100.0 * (centre + half)
    # with a handful of answers the adjustment can pull the interval off the observed score
    # (one promoter: [−48, 98]); widen it to include the score rather than show a contradiction
    ci = (max(-100.0, min(low, score)), min(100.0, max(high, score)))
    return NetScore(n, top, middle, bottom, score, se, ci)


def nps(scores: ArrayLike, confidence: float = 0.95) -> NetScore:
    """NPS of 0–10 answers: promoters 9–10, passives 7–8, detractors 0–6.

    Example:
        >>> r = nps([10, 10, 9, 9, 9, 8, 7, 6, 3, 0])
        >>> r.top, r.middle, r.bottom, r.score
        (5, 2, 3, 20.0)
        >>> round(r.se, 1), [round(c, 1) for c in r.ci]
        (27.6, [-30.3, 61.1])
        >>> nps([9, 10, float("nan"), 6]).n  # missing answers are left out
        3
    """
    s = _scores(scores)
    top = int((s >= PROMOTER_MIN).sum())
    bottom = int((s < PASSIVE_MIN).sum())
    return net_score(top, len(s) - top - bottom, bottom, confidence)


def net_trust(scores: ArrayLike, confidence: float = 0.95) -> NetScore:
    """The trust question scored like NPS: 9–10 trust, 7–8 neutral, 0–6 distrust."""
    return nps(scores, confidence)


@dataclass(frozen=True)
class Proportion:
    """A share in percent with its Wilson score interval (good near 0 and 100 % too)."""

    n: int
    hits: int
    percent: float | None
    ci: tuple[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci else None
        return d


def wilson(hits: int, n: int, confidence: float = 0.95) -> Proportion:
    """``hits`` of ``n`` in percent, with its Wilson score interval.

    Example:
        None of ten: the share is 0 %, but the interval does not collapse to a point.

        >>> p = wilson(0, 10)
        >>> p.percent, [round(c, 1) for c in p.ci]
        (0.0, [0.0, 27.8])
    """
    if n == 0:
        return Proportion(0, 0, None, None)
    z = _z(confidence)
    p = hits / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return Proportion(n, hits, 100.0 * p, (100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)))


def csat(scores: ArrayLike, confidence: float = 0.95) -> Proportion:
    """CSAT: share of top-two-box answers (4 or 5 on the 1–5 scale), in percent.

    Example:
        >>> c = csat([5, 4, 4, 3, 1])
        >>> c.hits, c.n, c.percent, [round(x, 1) for x in c.ci]
        (3, 5, 60.0, [23.1, 88.2])
    """
    s = _scores(scores)
    return wilson(int((s >= CSAT_TOP_TWO_MIN).sum()), len(s), confidence)


@dataclass(frozen=True)
class Ces:
    """CES 2.0 on 1–7: mean (t interval), percent agreeing (5–7) and net ease (agree − disagree)."""

    n: int
    mean: float | None
    mean_ci: tuple[float, float] | None
    agree_percent: float | None
    net_ease: NetScore

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "mean_ci": list(self.mean_ci) if self.mean_ci else None,
            "agree_percent": self.agree_percent,
            "net_ease": self.net_ease.as_dict(),
        }


def ces(scores: ArrayLike, confidence: float = 0.95) -> Ces:
    """CES 2.0 of 1–7 answers: mean with its t interval, percent agreeing and net ease.

    Example:
        >>> c = ces([7, 6, 5, 2, 4])
        >>> c.mean, [round(x, 2) for x in c.mean_ci], c.agree_percent, c.net_ease.score
        (4.8, [2.41, 7.19], 60.0, 40.0)
    """
    s = _scores(scores)
    n = len(s)
    agree = int((s >= CES_AGREE_MIN).sum())
    disagree = int((s <= CES_DISAGREE_MAX).sum())
    ease = net_score(agree, n - agree - disagree, disagree, confidence)
    if n == 0:
        return Ces(0, None, None, None, ease)
    mean = float(s.mean())
    if n > 1:
        from scipy import stats

        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * s.std(ddof=1) / math.sqrt(n))
        ci: tuple[float, float] | None = (mean - half, mean + half)
    else:
        ci = None  # one answer says nothing about spread
    return Ces(n, mean, ci, 100.0 * agree / n, ease)


def net_trust_score(
    nps_score: float | None,
    net_ease: float | None,
    trust_score: float | None,
    weights: NetTrustWeights | None = None,
) -> float | None:
    """Weighted mean of the components that are present (weights rescaled over them).

    ``None`` when no component with a positive weight has answers. Stays within −100…100
    because it is a convex combination of net scores.

    Example:
        With the default weights (NPS 0.4, CES 0.3, trust 0.3) and no trust answers, NPS and
        net ease share the whole weight 4 : 3:

        >>> round(net_trust_score(40.0, 10.0, None), 1)
        27.1
        >>> net_trust_score(40.0, 10.0, -20.0)
        13.0
        >>> net_trust_score(None, None, None) is None
        True
    """
    w = weights or NetTrustWeights()
    parts = [
        (v, wt) for v, wt in ((nps_score, w.nps), (net_ease, w.ces), (trust_score, w.trust)) if v is not None
    ]
    total = sum(wt for _, wt in parts)
    if total <= 0:
        return None
    return sum(v * wt for v, wt in parts) / total


@dataclass(frozen=True)
class ExperienceMetrics:
    """Every metric of one group of answers."""

    nps: NetScore
    csat: Proportion
    ces: Ces
    trust: NetScore
    net_trust: float | None


def experience_metrics(
    nps_scores: ArrayLike,
    csat_scores: ArrayLike,
    ces_scores: ArrayLike,
    trust_scores: ArrayLike,
    *,
    confidence: float = 0.95,
    weights: NetTrustWeights | None = None,
) -> ExperienceMetrics:
    n, c, e, t = (
        nps(nps_scores, confidence),
        csat(csat_scores, confidence),
        ces(ces_scores, confidence),
        net_trust(trust_scores, confidence),
    )
    return ExperienceMetrics(n, c, e, t, net_trust_score(n.score, e.net_ease.score, t.score, weights))
