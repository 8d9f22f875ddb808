"""How good a clustering is: separation, stability, and recovery of a known truth.

* **silhouette** (−1…1, higher is better): how much closer each customer is to their own
  cluster than to the next one; computed on a random subsample (it is quadratic in size);
* **Davies-Bouldin** (≥ 0, lower is better): average ratio of within-cluster spread to the
  distance between cluster centres;
* **stability**: refit on bootstrap resamples of the sample and compare each refit's
  assignment of the whole sample with the model's, by adjusted Rand index (1 = the same
  partition, 0 = chance). Clusters that move with the resample are artefacts;
* **recovery** against a ground truth (such as the generator's ``truth.csv``): adjusted Rand
  index and the confusion table (truth groups × clusters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from personae.clusters.selection import one_thread
from personae.errors import InputError

SILHOUETTE_SAMPLE = 10_000


def silhouette(X: np.ndarray, labels: np.ndarray, seed: int = 0, sample: int = SILHOUETTE_SAMPLE) -> float:
    """Mean silhouette on at most ``sample`` rows (NaN with fewer than two clusters)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    size = min(sample, len(X))
    # scikit-learn is imported where it is used: the CLI imports this module at start-up.
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(X, labels, sample_size=size, random_state=seed))


def davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float:
    if len(np.unique(labels)) < 2:
        return float("nan")
    from sklearn.metrics import davies_bouldin_score

    return float(davies_bouldin_score(X, labels))


@dataclass(frozen=True)
class Stability:
    """Bootstrap stability: ARI of each refit with the reference partition."""

    scores: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else float("nan")

    @property
    def minimum(self) -> float:
        return float(np.min(self.scores)) if self.scores else float("nan")


#: Rows the stability check works on at most (a random subset of the fitting sample).
STABILITY_SAMPLE = 20_000


def bootstrap_stability(
    X: np.ndarray,
    labels: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    resamples: int = 5,
    n_init: int = 2,
    sample: int = STABILITY_SAMPLE,
) -> Stability:
    """Refit k-means on ``resamples`` bootstrap samples of ``X``; ARI of each with ``labels``.

    At most ``sample`` rows of ``X`` are used (bootstrap resamples of a 20,000-row subset
    already show whether a partition is an artefact; it bounds the cost at any scale).
    """
    rng = np.random.default_rng(seed)
    if len(X) > sample:
        keep = rng.choice(len(X), sample, replace=False)
        X, labels = X[keep], labels[keep]
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    scores = []
    with one_thread():
        for b in range(resamples):
            idx = rng.integers(0, len(X), len(X))
            km = KMeans(k, n_init=n_init, random_state=seed + b + 1).fit(X[idx])
            scores.append(float(adjusted_rand_score(labels, km.predict(X))))
    return Stability(tuple(scores))


@dataclass(frozen=True)
class Recovery:
    """How well clusters recover known groups."""

    ari: float
    confusion: pd.DataFrame  # truth groups (rows) × cluster labels (columns), counts
    matched: int  # customers found in both the truth and the clustering
    purity: float  # share of customers in their cluster's majority group


def recovery(truth: pd.Series, clusters: pd.Series) -> Recovery:
    """Compare two labelings of the same customers (indexed by customer id).

    Raises:
        InputError: no customer is in both.
    """
    both = pd.concat({"truth": truth, "cluster": clusters}, axis=1, join="inner").dropna()
    if both.empty:
        raise InputError(
            "no customer of the truth file is clustered",
            hint="check that the truth file's customer_id values are the ones you ingested",
        )
    from sklearn.metrics import adjusted_rand_score

    ari = float(adjusted_rand_score(both["truth"].astype(str), both["cluster"].astype(str)))
    confusion = pd.crosstab(both["truth"], both["cluster"])
    purity = float(confusion.max(axis=0).sum() / len(both))
    return Recovery(ari, confusion, len(both), purity)
