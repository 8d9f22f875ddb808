"""Do segments really differ? Tests, effect sizes, post-hoc pairs and a verdict in words.

* Categorical answers (NPS category, a string or true/false trait): Pearson's chi-square test
  of independence on the segment × answer table, effect size **Cramér's V**
  ``= √(χ² / (n · (min(r, c) − 1)))``. Post hoc: a chi-square test per pair of segments.
* Scales (0–10, 1–7, any number): **Kruskal-Wallis** (ranks, so no normality or interval-scale
  assumption — right for rating scales), effect size **eta²** ``= (H − k + 1) / (n − k)``
  (Tomczak & Tomczak 2014). Post hoc: **Dunn's test** (mean ranks, tie-corrected), the
  standard companion of Kruskal-Wallis.
* Pairwise p-values are adjusted with **Holm's** step-down method (controls the family-wise
  error like Bonferroni, never less powerful). When several questions are tested at once, the
  omnibus p-values are Holm-adjusted across questions too.

Groups must be independent: callers pass each customer in one group only (see
:func:`personae.experience.validation.exclusive_groups`).

Effect-size words follow Cohen: V small/medium/large at 0.1/0.3/0.5 divided by √(min(r, c) − 1);
eta² at 0.01/0.06/0.14.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

ETA2_STEPS = (0.01, 0.06, 0.14)
V_STEPS = (0.1, 0.3, 0.5)
_STRENGTH = ("negligibly", "slightly", "moderately", "strongly")


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the input order.

    Example:
        >>> holm([0.01, 0.04, 0.03]).tolist()
        [0.03, 0.06, 0.06]
        >>> holm([0.6, 0.7]).tolist()
        [1.0, 1.0]
    """
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def exclusive_groups(memberships: pd.DataFrame, order: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Members of the segments in ``order`` who belong to exactly one of them, and how many
    were left out for belonging to several (they would be counted twice)."""
    m = memberships[memberships["segment"].isin(list(order))].drop_duplicates(["segment", "customer_id"])
    counts = m.groupby("customer_id")["segment"].transform("size")
    overlap = int(m.loc[counts > 1, "customer_id"].nunique())
    return m[counts == 1].reset_index(drop=True), overlap


def effect_label(value: float, steps: Sequence[float]) -> str:
    """``negligibly``, ``slightly``, ``moderately`` or ``strongly`` by Cohen's steps.

    Example:
        >>> [effect_label(v, V_STEPS) for v in (0.05, 0.1, 0.35, 0.6)]
        ['negligibly', 'slightly', 'moderately', 'strongly']
    """
    return _STRENGTH[sum(value >= s - 1e-12 for s in steps)]


@dataclass
class PairResult:
    a: str
    b: str
    statistic: float
    p: float
    p_adjusted: float = 1.0
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "statistic": self.statistic,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            **self.detail,
        }


@dataclass
class TestResult:
    """One question tested across segments."""

    on: str
    kind: str  # categorical or scale
    test: str
    n: int
    groups: dict[str, int]
    statistic: float | None
    df: int | None
    p: float | None
    effect_name: str
    effect: float | None
    pairs: list[PairResult]
    p_adjusted: float | None = None
    strength: str | None = None
    verdict: str = ""
    notes: list[str] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "kind": self.kind,
            "test": self.test,
            "n": self.n,
            "groups": self.groups,
            "statistic": self.statistic,
            "df": self.df,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            self.effect_name: self.effect,
            "strength": self.strength,
            "verdict": self.verdict,
            "pairs": [p.as_dict() for p in self.pairs],
            "summary": self.summary,
            "notes": self.notes,
        }


def _clean(groups: ArrayLike, values: ArrayLike, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(groups, dtype=object)
    v = np.asarray(values, dtype=float if numeric else object)
    keep = ~pd.isna(v) & ~pd.isna(g)
    return g[keep].astype(str), v[keep]


def chi_square(
    on: str, groups: ArrayLike, values: ArrayLike, order: Sequence[str] | None = None
) -> TestResult:
    """Chi-square test of independence with Cramér's V, and Holm-adjusted pairwise tests."""
    g, v = _clean(groups, values, numeric=False)
    v = v.astype(str)
    names = [x for x in (order or sorted(set(g))) if x in set(g)]
    table = pd.crosstab(pd.Categorical(g, categories=names), v)
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    sizes = {str(k): int(x) for k, x in table.sum(axis=1).items()}
    summary = {
        str(k): {str(c): round(float(x) / max(1, row.sum()) * 100, 2) for c, x in row.items()}
        for k, row in table.iterrows()
    }
    res = TestResult(
        on,
        "categorical",
        "chi-square",
        int(table.to_numpy().sum()),
        sizes,
        None,
        None,
        None,
        "cramers_v",
        None,
        [],
        summary=summary,
    )
    if table.shape[0] < 2 or table.shape[1] < 2:
        res.notes.append("needs at least two segments and two different answers to test")
        return res
    from scipy import stats

    chi2, p, dof, expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    res.statistic, res.p, res.df = float(chi2), float(p), int(dof)
    res.effect = cramers_v(float(chi2), res.n, table.shape)
    if (expected < 5).mean() > 0.2:
        res.notes.append("more than 20% of expected counts are below 5: the chi-square p-value is rough")
    pairs = []
    for a, b in itertools.combinations(list(table.index), 2):
        sub = table.loc[[a, b]]
        sub = sub.loc[:, sub.sum(axis=0) > 0]
        if sub.shape[1] < 2:
            pairs.append(PairResult(str(a), str(b), 0.0, 1.0, detail={"cramers_v": 0.0}))
            continue
        c2, pp, _, _ = stats.chi2_contingency(sub.to_numpy(), correction=False)
        v_ab = cramers_v(float(c2), int(sub.to_numpy().sum()), sub.shape)
        pairs.append(PairResult(str(a), str(b), float(c2), float(pp), detail={"cramers_v": v_ab}))
    _adjust(pairs)
    res.pairs = pairs
    return res


def cramers_v(chi2: float, n: int, shape: tuple[int, int]) -> float:
    k = min(shape) - 1
    return math.sqrt(chi2 / (n * k)) if n and k else 0.0


def kruskal_wallis(
    on: str, groups: ArrayLike, values: ArrayLike, order: Sequence[str] | None = None
) -> TestResult:
    """Kruskal-Wallis H with eta², and Dunn's pairwise tests (Holm-adjusted)."""
    g, v = _clean(groups, values, numeric=True)
    v = v.astype(float)
    names = [x for x in (order or sorted(set(g))) if x in set(g)]
    samples = {h: v[g == h] for h in names}
    sizes = {h: len(x) for h, x in samples.items()}
    n, k = int(sum(sizes.values())), len(names)
    summary = {
        h: {"median": float(np.median(x)), "mean": float(np.mean(x)), "mean_rank": None}
        for h, x in samples.items()
    }
    res = TestResult(
        on, "scale", "kruskal-wallis", n, sizes, None, None, None, "eta_squared", None, [], summary=summary
    )
    if k < 2:
        res.notes.append("needs at least two segments with values to test")
        return res
    if np.ptp(v) == 0:
        res.statistic, res.p, res.df, res.effect = 0.0, 1.0, k - 1, 0.0
        res.notes.append("every value is the same")
        return res
    from scipy import stats

    h_stat, p = stats.kruskal(*samples.values())
    res.statistic, res.p, res.df = float(h_stat), float(p), k - 1
    res.effect = max(0.0, (float(h_stat) - k + 1) / (n - k)) if n > k else None
    ranks = stats.rankdata(v)
    for h in names:
        summary[h]["mean_rank"] = float(ranks[g == h].mean())
    res.pairs = dunn(g, v, names)
    return res


def dunn(groups: np.ndarray, values: np.ndarray, names: Sequence[str]) -> list[PairResult]:
    """Dunn's test for every pair: z from the difference of mean ranks, tie-corrected variance."""
    n = len(values)
    from scipy import stats

    ranks = stats.rankdata(values)
    _, ties = np.unique(values, return_counts=True)
    tie_term = float((ties**3 - ties).sum()) / (12 * (n - 1)) if n > 1 else 0.0
    base = n * (n + 1) / 12 - tie_term
    pairs = []
    for a, b in itertools.combinations(names, 2):
        ra, rb = ranks[groups == a], ranks[groups == b]
        se = math.sqrt(base * (1 / len(ra) + 1 / len(rb)))
        diff = float(ra.mean() - rb.mean())
        z = diff / se if se > 0 else 0.0
        p = float(2 * stats.norm.sf(abs(z)))
        pairs.append(PairResult(a, b, z, p, detail={"mean_rank_difference": diff}))
    _adjust(pairs)
    return pairs


def _adjust(pairs: list[PairResult]) -> None:
    for pair, adj in zip(pairs, holm([p.p for p in pairs]), strict=True):
        pair.p_adjusted = float(adj)


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def conclude(results: list[TestResult], alpha: float = 0.05) -> list[TestResult]:
    """Holm-adjust the omnibus p-values across questions and write each verdict."""
    tested = [r for r in results if r.p is not None]
    for r, adj in zip(tested, holm([float(r.p or 0.0) for r in tested]), strict=True):
        r.p_adjusted = float(adj)
    for r in results:
        r.verdict = verdict(r, alpha)
    return results


def verdict(r: TestResult, alpha: float = 0.05) -> str:
    """One sentence a CX analyst can paste into a deck."""
    if r.p is None or r.effect is None:
        return f"cannot test {r.on}: " + ("; ".join(r.notes) or "not enough data")
    p = r.p_adjusted if r.p_adjusted is not None else r.p
    steps: tuple[float, ...] = ETA2_STEPS
    if r.kind == "categorical":
        dof_star = max(1, min(len(r.groups), len(next(iter(r.summary.values()), {})) or 2) - 1)
        steps = tuple(s / math.sqrt(dof_star) for s in V_STEPS)
    symbol = "V" if r.kind == "categorical" else "eta²"
    stat = f"{symbol} = {r.effect:.2f}, {_fmt_p(p)}"
    if p >= alpha:
        r.strength = "none"
        return f"no evidence that segments differ on {r.on} ({stat})"
    r.strength = effect_label(r.effect, steps)
    line = f"segments differ {r.strength} on {r.on} ({stat})"
    sig = [q for q in r.pairs if q.p_adjusted < alpha]
    if sig:
        line += f"; {len(sig)} of {len(r.pairs)} pairs differ after Holm correction"
    return line
