"""The features customers are clustered on, and how they are made comparable.

A registry (like :mod:`personae.traits.registry`): each :class:`Feature` names the traits it
reads, its family (value, behaviour, channel, attitude, demographic, taste) and its transform. The
CLI's ``--features`` takes feature names or family names; docs/clusters.md lists them.

Why these transforms (k-means measures Euclidean distance, so the scale of a column *is* its
weight):

* **skew** — spend, order counts, days and event counts are heavy-tailed; ``log1p`` turns
  "10 vs 100 orders" and "1 vs 10 orders" into the same step, so a few whales do not define
  the clusters on their own;
* **outliers** — every numeric feature is clipped to its 1st-99th percentile before scaling;
* **missing** — a missing value (no survey answer, no birth date) becomes the median: it
  places the customer in the middle of that axis rather than inventing a signal;
* **scale** — numeric features are standardised (mean 0, variance 1);
* **blocks** — a set of shares (orders per channel, or per category: the ``taste`` block) or
  the one-hot columns of a categorical trait (region) describe *one* thing; each block is
  scaled to a total variance of 1, so a block counts like one numeric feature however many
  columns it has, and a rare level
  (phone orders) is not blown up by dividing by its own tiny spread.

Fitted state (:class:`Preprocessor`) is plain numbers and strings, stored as JSON with the
model so ``personae build`` transforms new customers exactly as the fit did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from personae.errors import InputError, check_is_fitted
from personae.voice.traits import CLUSTER_FEATURES as VOICE_CLUSTER_FEATURES

#: Channels whose order shares form the ``channel_mix`` block (the canonical order channels).
MIX_CHANNELS = ("web", "app", "store", "phone", "marketplace")
#: Most levels a categorical feature keeps (the rest are pooled as ``other``), and most
#: categories the taste block has (the most common ones).
MAX_LEVELS = 20
#: Columns of the traits frame that carry the taste block: ``taste:<category>`` = the share of
#: the customer's orders (events, in a store without orders) in that category.
TASTE_PREFIX = "taste:"
#: Age bands, for describing clusters ("25-34"): lower bounds and labels.
AGE_BANDS = (
    (0, "under 18"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65+"),
)


@dataclass(frozen=True)
class Feature:
    """One clustering feature.

    Attributes:
        name: what ``--features`` and the profiles call it.
        family: value, behaviour, channel, attitude, demographic or taste.
        kind: ``log`` (log1p of a non-negative trait), ``numeric`` (as is), ``shares``
            (a block of shares), ``category`` (a block of one-hot levels) or ``taste`` (a
            block of category shares, its columns found in the data).
        columns: the traits it reads.
        doc: what it measures, for people.
    """

    name: str
    family: str
    kind: str
    columns: tuple[str, ...]
    doc: str


_F = Feature
FEATURES: tuple[Feature, ...] = (
    _F("recency", "value", "log", ("recency_days",), "Days since the last order (log)."),
    _F("frequency", "value", "log", ("frequency",), "Number of orders (log)."),
    _F("monetary", "value", "log", ("monetary",), "Net spend (log)."),
    _F("aov", "value", "log", ("aov",), "Average order value (log)."),
    _F("tenure", "value", "log", ("tenure_days",), "Days since joining (log)."),
    _F("clv", "value", "log", ("clv_12m",), "Predicted 12-month lifetime value (log)."),
    _F("p_alive", "value", "numeric", ("p_alive",), "Probability the customer is still active."),
    _F("returns", "behaviour", "numeric", ("returns_ratio",), "Share of order lines returned."),
    _F("discount", "behaviour", "numeric", ("discount_share",), "Discount as a share of list value."),
    _F("engagement", "behaviour", "log", ("events_90d",), "Events in the last 90 days (log)."),
    _F("email_open_rate", "behaviour", "numeric", ("email_open_rate_90d",), "E-mail open rate, 90 days."),
    _F("n_channels", "channel", "numeric", ("n_channels",), "Number of purchase channels used."),
    _F(
        "channel_focus",
        "channel",
        "numeric",
        ("frequency", *(f"orders_{c}" for c in MIX_CHANNELS)),
        "Share of orders in the customer's main channel (1 = single-channel).",
    ),
    _F(
        "channel_mix",
        "channel",
        "shares",
        ("frequency", *(f"orders_{c}" for c in MIX_CHANNELS)),
        "Share of orders per channel (one block).",
    ),
    _F("nps", "attitude", "numeric", ("latest_nps",), "Latest NPS answer (0-10)."),
    _F("csat", "attitude", "numeric", ("latest_csat",), "Latest CSAT answer (1-5)."),
    _F("age", "demographic", "numeric", ("age",), "Age in years."),
    _F("gender", "demographic", "category", ("gender",), "Gender (one block)."),
    _F("income_band", "demographic", "category", ("income_band",), "Income band (one block)."),
    _F("region", "demographic", "category", ("region",), "Region (one block)."),
    _F(
        "taste",
        "taste",
        "taste",
        (),
        "Share of orders (events, without orders) in each of the 20 most common categories (one block).",
    ),
)
#: Describe clusters (profiles and names) but are not clustered on unless asked for: a
#: country or age band is what a cluster *is*, rarely what should *make* it.
DESCRIBING: tuple[Feature, ...] = (
    _F("age_band", "demographic", "category", ("age",), "Age band (18-24, 25-34, … one block)."),
    _F("country", "demographic", "category", ("country",), "Country (one block)."),
)
#: What customers say (docs/voice.md): opt-in features, since a shop without texts has none.
VOICE_FEATURES: tuple[Feature, ...] = tuple(Feature(*f) for f in VOICE_CLUSTER_FEATURES)
#: Every behavioural, value, channel, survey, demographic and taste feature, by default: the
#: weighting above keeps the demographic blocks from drowning the behavioural signal (see
#: docs/clusters.md for the measured effect); taste is dropped where the data has no
#: categories. Voice features, country and age band join with ``--features``.
DEFAULT_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES = (*FEATURES, *VOICE_FEATURES, *DESCRIBING)
BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(f.family for f in FEATURES))


def select_features(spec: str | Sequence[str] | None) -> list[Feature]:
    """Features from ``"recency,frequency,channel"`` (names and/or families); ``None`` = default.

    Raises:
        InputError: an unknown name (with the closest valid ones).
    """
    if spec is None:
        return [BY_NAME[n] for n in DEFAULT_FEATURES]
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    chosen: dict[str, Feature] = {}
    for item in items:
        if item in BY_NAME:
            chosen[item] = BY_NAME[item]
        elif item in FAMILIES:
            chosen.update({f.name: f for f in FEATURES if f.family == item})
        else:
            import difflib

            close = difflib.get_close_matches(item, [*BY_NAME, *FAMILIES], n=3)
            raise InputError(
                f"unknown clustering feature {item!r}"
                + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""),
                hint="features: " + ", ".join(BY_NAME) + "; families: " + ", ".join(FAMILIES),
            )
    if not chosen:
        raise InputError("--features is empty", hint="e.g. --features value,channel")
    return list(chosen.values())


def needed_columns(features: Iterable[Feature]) -> list[str]:
    """The trait columns the features read (for a narrow query; taste comes from affinities)."""
    return list(dict.fromkeys(c for f in features for c in f.columns))


def describing_features(clustered: Sequence[Feature], taste: bool) -> list[Feature]:
    """The clustered features plus what describes a cluster without shaping it: gender, age
    band, country, region and (where the data has categories) taste."""
    names = {f.name for f in clustered}
    extra = [BY_NAME[n] for n in ("gender", "age_band", "country", "region") if n not in names]
    if taste and "taste" not in names:
        extra.append(BY_NAME["taste"])
    return [*clustered, *extra]


def taste_columns(traits: pd.DataFrame) -> list[str]:
    """The ``taste:<category>`` columns of a traits frame, in their order."""
    return [c for c in traits.columns if isinstance(c, str) and c.startswith(TASTE_PREFIX)]


def age_band(age: pd.Series) -> pd.Series:
    """Ages as bands (``25-34``); unknown and implausible ages (< 0 or > 120) as missing."""
    years = pd.to_numeric(age, errors="coerce")
    years = years.where(years.between(0, 120))
    bounds = [b for b, _ in AGE_BANDS] + [121]
    bands = pd.cut(years, bounds, right=False, labels=[label for _, label in AGE_BANDS])
    return bands.astype(object).where(bands.notna(), None)


def raw_values(feature: Feature, traits: pd.DataFrame) -> pd.DataFrame:
    """The untransformed-but-derived value(s) of ``feature`` (one column, or the block's columns).

    Missing trait columns count as missing values, so a database without surveys still
    clusters (the attitude features are then constant and carry no weight).
    """

    def col(name: str) -> pd.Series:
        if name in traits.columns:
            return pd.to_numeric(traits[name], errors="coerce").astype(float)
        return pd.Series(np.nan, index=traits.index, dtype=float)

    if feature.kind == "log":
        return pd.DataFrame({feature.name: np.log1p(col(feature.columns[0]).clip(lower=0))})
    if feature.kind == "numeric" and feature.name != "channel_focus":
        return pd.DataFrame({feature.name: col(feature.columns[0])})
    if feature.kind == "category":
        c = feature.columns[0]
        values = traits[c] if c in traits.columns else pd.Series(None, index=traits.index, dtype=object)
        if feature.name == "age_band":
            values = age_band(values)
        return pd.DataFrame({feature.name: values.astype(object).where(values.notna(), None)})
    if feature.kind == "taste":
        cols = taste_columns(traits)
        return traits[cols].apply(pd.to_numeric, errors="coerce").astype(float).fillna(0.0)
    total = col("frequency").where(lambda s: s > 0)
    shares = pd.DataFrame({f"share_{c}": col(f"orders_{c}").fillna(0) / total for c in MIX_CHANNELS})
    if feature.name == "channel_focus":
        return pd.DataFrame({feature.name: shares.max(axis=1, skipna=False)})
    return shares


@dataclass
class Preprocessor:
    """Turns trait rows into the matrix k-means sees; fitted on a sample, applied to all.

    Attributes (fitted, ending in ``_``):
        columns_: the matrix's column names (``recency``, ``channel_mix:share_app``,
            ``region=North`` …), in order.
        feature_of_: the feature each column belongs to.
        params_: per feature, what :meth:`transform` needs (medians, clip bounds, means,
            scales, levels).
    """

    features: list[Feature]
    columns_: list[str] | None = None
    feature_of_: list[str] | None = None
    params_: dict[str, dict[str, Any]] | None = None

    def fit(self, traits: pd.DataFrame) -> Preprocessor:
        params: dict[str, dict[str, Any]] = {}
        columns: list[str] = []
        owners: list[str] = []
        for f in self.features:
            raw = raw_values(f, traits)
            if f.kind == "category":
                s = raw[f.name].fillna("unknown").astype(str)
                counts = s.value_counts()
                levels = sorted(counts.index[:MAX_LEVELS].tolist())
                if len(counts) > MAX_LEVELS:
                    levels.append("other")
                onehot = _onehot(s, levels)
                mean = onehot.mean(axis=0)
                scale = float(np.sqrt(onehot.var(axis=0).sum())) or 1.0
                params[f.name] = {"levels": levels, "mean": mean.tolist(), "scale": scale}
                names = [f"{f.name}={lvl}" for lvl in levels]
            elif f.kind in ("shares", "taste"):
                values = raw.fillna(0.0).to_numpy()
                mean = values.mean(axis=0)
                scale = float(np.sqrt(values.var(axis=0).sum())) or 1.0
                params[f.name] = {"mean": mean.tolist(), "scale": scale}
                if f.kind == "taste":  # the categories of the fit, for every later transform
                    params[f.name]["levels"] = list(raw.columns)
                names = [f"{f.name}:{c}" if f.kind == "shares" else c for c in raw.columns]
            else:
                v = raw[f.name]
                median = float(v.median()) if v.notna().any() else 0.0
                filled = v.fillna(median)
                lo, hi = (float(q) for q in filled.quantile([0.01, 0.99]))
                clipped = filled.clip(lo, hi)
                sd = float(clipped.std(ddof=0))
                params[f.name] = {
                    "median": median,
                    "low": lo,
                    "high": hi,
                    "mean": float(clipped.mean()),
                    "scale": sd if sd > 1e-12 else 1.0,
                }
                names = [f.name]
            columns += names
            owners += [f.name] * len(names)
        self.columns_, self.feature_of_, self.params_ = columns, owners, params
        return self

    def transform(self, traits: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "params_")
        params = cast(dict[str, dict[str, Any]], self.params_)
        parts: list[np.ndarray] = []
        for f in self.features:
            p = params[f.name]
            raw = raw_values(f, traits)
            if f.kind == "category":
                s = raw[f.name].fillna("unknown").astype(str)
                levels = p["levels"]
                if "other" in levels:
                    s = s.where(s.isin(levels), "other")
                block = (_onehot(s, levels) - np.asarray(p["mean"])) / p["scale"]
            elif f.kind == "taste":
                values = raw.reindex(columns=p["levels"], fill_value=0.0).to_numpy()
                block = (values - np.asarray(p["mean"])) / p["scale"]
            elif f.kind == "shares":
                block = (raw.fillna(0.0).to_numpy() - np.asarray(p["mean"])) / p["scale"]
            else:
                v = raw[f.name].fillna(p["median"]).clip(p["low"], p["high"]).to_numpy()
                block = ((v - p["mean"]) / p["scale"])[:, None]
            parts.append(np.asarray(block, dtype=float))
        return np.hstack(parts) if parts else np.empty((len(traits), 0))

    def fit_transform(self, traits: pd.DataFrame) -> np.ndarray:
        return self.fit(traits).transform(traits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [f.name for f in self.features],
            "columns": self.columns_,
            "feature_of": self.feature_of_,
            "params": self.params_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        unknown = [n for n in data["features"] if n not in BY_NAME]
        if unknown:
            raise InputError(
                f"the stored cluster model uses unknown features {unknown}",
                hint="rebuild it with `personae clusters build`",
            )
        return cls(
            [BY_NAME[n] for n in data["features"]],
            columns_=list(data["columns"]),
            feature_of_=list(data["feature_of"]),
            params_=dict(data["params"]),
        )


def _onehot(values: pd.Series, levels: Sequence[str]) -> np.ndarray:
    known = values.where(values.isin(list(levels)))  # unseen levels: no column
    codes = pd.Categorical(known, categories=list(levels)).codes
    out = np.zeros((len(values), len(levels)))
    ok = codes >= 0
    out[np.nonzero(ok)[0], codes[ok]] = 1.0
    return out
