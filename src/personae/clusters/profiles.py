"""Cluster profiles a person can read: size, revenue, CLV, NPS and what sets each apart.

Distinguishing features are measured as standardised effect sizes of the cluster against
everyone else, on the scale the clustering used (log for skewed traits), ignoring missing
values (a survey answer nobody in the cluster gave is no evidence):

* numeric features and channel shares: Cohen's d = (mean in − mean out) / pooled SD;
* levels of categorical features (region = North): Cohen's h = 2·asin√p_in − 2·asin√p_out.

Both read on the same conventional scale (0.2 small, 0.5 medium, 0.8 large). Each profile
lists its strongest effects (|effect| ≥ :data:`MIN_LISTED`) with the plain means in and out
of the cluster, so "recency +1.4" comes with "412 days vs 61 days".

NPS is the usual score: % promoters (9–10) − % detractors (0–6) among customers whose
latest answer is known, or ``None`` when nobody in the cluster answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from personae.clusters.features import MAX_LEVELS, Feature, raw_values
from personae.clusters.naming import name_clusters

#: Smallest |effect| listed in a profile, and how many are listed at most.
MIN_LISTED = 0.2
MAX_LISTED = 6
#: Traits a profile reads besides the features.
PROFILE_COLUMNS = ("monetary", "clv_12m", "latest_nps")


@dataclass(frozen=True)
class Effect:
    """One feature that sets a cluster apart."""

    column: str  # recency, channel_mix:share_app, region=North
    feature: str
    effect: float  # Cohen's d or h: positive = higher in the cluster
    mean_in: float | None  # plain value: days, orders, a share…
    mean_out: float | None
    clustered: bool = True  # False: describes the cluster, was not clustered on (gender, taste…)


@dataclass
class ClusterProfile:
    cluster: int
    name: str
    generated_name: str
    size: int
    share: float
    revenue_share: float
    avg_clv: float | None
    nps: float | None
    distinguishing: list[Effect] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["distinguishing"] = [asdict(e) for e in self.distinguishing]
        return out


def _columns(features: Sequence[Feature], traits: pd.DataFrame) -> list[tuple[str, str, pd.Series, bool]]:
    """``(column, feature, values on the clustering scale, is_level)`` for every column."""
    out = []
    for f in features:
        raw = raw_values(f, traits)
        if f.kind == "category":
            s = raw[f.name]
            for level in s.dropna().astype(str).value_counts().index[:MAX_LEVELS]:
                out.append((f"{f.name}={level}", f.name, (s.astype(str) == level).astype(float), True))
        elif f.kind == "shares":
            out += [(f"{f.name}:{c}", f.name, raw[c], False) for c in raw.columns]
        elif f.kind == "taste":  # columns are already ``taste:<category>``
            out += [(c, f.name, raw[c], False) for c in raw.columns]
        else:
            out.append((f.name, f.name, raw[f.name], False))
    return out


def _plain(feature: Feature, values: pd.Series) -> pd.Series:
    """Values back on their everyday scale (days, orders, money) for display."""
    return np.expm1(values) if feature.kind == "log" else values


def effect_sizes(
    features: Sequence[Feature],
    traits: pd.DataFrame,
    labels: np.ndarray,
    describing: Sequence[Feature] = (),
) -> dict[int, list[Effect]]:
    """Every column's effect size for every cluster, strongest first (``describing``: features
    measured to describe the clusters, marked ``clustered=False``)."""
    clustered = {f.name for f in features}
    features = [*features, *(f for f in describing if f.name not in clustered)]
    by_name = {f.name: f for f in features}
    clusters = sorted(int(c) for c in np.unique(labels))
    result: dict[int, list[Effect]] = {c: [] for c in clusters}
    for column, feature, values, is_level in _columns(features, traits):
        v = values.to_numpy(dtype=float)
        plain = _plain(by_name[feature], values).to_numpy(dtype=float)
        for c in clusters:
            inside = labels == c
            a, b = v[inside & ~np.isnan(v)], v[~inside & ~np.isnan(v)]
            if len(a) == 0 or len(b) == 0:
                continue
            if is_level:
                effect = 2 * np.arcsin(np.sqrt(a.mean())) - 2 * np.arcsin(np.sqrt(b.mean()))
            else:
                pooled = np.sqrt(
                    ((len(a) - 1) * a.var(ddof=1 if len(a) > 1 else 0) + (len(b) - 1) * b.var(ddof=1))
                    / max(len(a) + len(b) - 2, 1)
                )
                effect = (a.mean() - b.mean()) / pooled if pooled > 1e-12 else 0.0
            pa_, pb_ = plain[inside & ~np.isnan(plain)], plain[~inside & ~np.isnan(plain)]
            result[c].append(
                Effect(
                    column,
                    feature,
                    round(float(effect), 3),
                    _mean(pa_),
                    _mean(pb_),
                    feature in clustered,
                )
            )
    for c in clusters:
        result[c].sort(key=lambda e: (-abs(e.effect), e.column))
    return result


def _mean(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if len(values) else None


def nps_score(answers: pd.Series) -> float | None:
    """% promoters − % detractors among known answers (0–10), or ``None``."""
    known = pd.to_numeric(answers, errors="coerce").dropna()
    if known.empty:
        return None
    return round(float(100.0 * ((known >= 9).mean() - (known <= 6).mean())), 1)


def profile_clusters(
    features: Sequence[Feature],
    traits: pd.DataFrame,
    labels: np.ndarray,
    names: dict[int, str] | None = None,
    describing: Sequence[Feature] = (),
) -> list[ClusterProfile]:
    """Profiles of every cluster in ``labels`` (aligned with the rows of ``traits``).

    Args:
        names: user-given names by cluster (kept); others get a generated name.
        describing: features that describe (and may name) clusters without having shaped
            them — demographics and taste (:func:`~personae.clusters.features.describing_features`).
    """
    names = names or {}
    effects = effect_sizes(features, traits, labels, describing)
    revenue = pd.to_numeric(traits["monetary"], errors="coerce") if "monetary" in traits else None
    total_revenue = float(revenue.clip(lower=0).sum()) if revenue is not None else 0.0
    clv = pd.to_numeric(traits["clv_12m"], errors="coerce") if "clv_12m" in traits else None
    nps = traits.get("latest_nps")
    generated = name_clusters(
        {c: [(e.column, e.feature, e.effect) for e in effects[c]] for c in effects},
        {c: int((labels == c).sum()) for c in effects},
    )
    profiles = []
    for c in sorted(effects):
        inside = labels == c
        gen = generated[c]
        rev = float(revenue[inside].clip(lower=0).sum()) if revenue is not None else 0.0
        avg_clv = clv[inside].mean() if clv is not None else np.nan
        profiles.append(
            ClusterProfile(
                cluster=c,
                name=names.get(c, gen),
                generated_name=gen,
                size=int(inside.sum()),
                share=round(float(inside.mean()), 4),
                revenue_share=round(rev / total_revenue, 4) if total_revenue > 0 else 0.0,
                avg_clv=None if pd.isna(avg_clv) else round(float(avg_clv), 2),
                nps=nps_score(nps[inside]) if nps is not None else None,
                distinguishing=[e for e in effects[c] if abs(e.effect) >= MIN_LISTED][:MAX_LISTED],
            )
        )
    return profiles
