"""Choosing the number of clusters, with the evidence for every k.

Evidence per k, all on one random subsample of the fitting sample:

* **gap** (Tibshirani, Walther & Hastie 2001): mean log within-cluster dispersion of
  reference data without groups (uniform in the box of the data's principal components,
  their method (b)) minus that of the data, with its standard error ``s``; defined for k = 1;
* **silhouette** (−1…1): how much closer customers are to their own cluster than to the next;
* **stability**: mean adjusted Rand index between the k-means partition and refits on
  bootstrap resamples (1 = the same groups every time).

The rule (checked in tests/unit/clusters/test_cluster_selection.py on scikit-learn
``make_blobs`` data with 3–6 groups, unequal sizes included, and on data with no groups):

1. **Any groups at all?** If ``Gap(1) ≥ Gap(2) − s(2)`` (Tibshirani's one-standard-error
   rule stops at one group), the data show *no clear group structure*: the smallest k of the
   range is used, with a warning.
2. **Which k?** Among the k that are **stable** (stability ≥ :data:`STABLE`, Hennig's
   threshold for a cluster that is "there"; all k if none is, with a warning), the *smallest*
   k whose gap is within one standard error of the largest gap — the "global SE max" rule of
   Dudoit & Fridlyand (2002), kept to partitions that survive resampling.

Why not silhouette alone (the previous rule): it favours two clusters whenever one split
dominates (on ``make_blobs`` with 3 and 4 groups it chose 2 and 3), and it cannot say "no
groups", since it is undefined for one cluster. Why not Tibshirani's first-stop gap rule
alone: with one large group among small ones it keeps splitting the large one (k = 7 for 4
groups in the tests); the stability filter removes those splits, which move with every
resample. Silhouette stays in the evidence.

Cost: every score is computed on a random subsample of at most :data:`SCORE_SAMPLE` rows of
the fitting sample (the result says how many), so choosing k costs the same for 20,000 or a
million customers: about a hundred k-means fits of a few thousand rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Rows the scores are computed on at most (a random subsample of the fitting sample).
SCORE_SAMPLE = 3000
#: Reference data sets of the gap statistic, and bootstrap refits of the stability score.
REFERENCES = 5
RESAMPLES = 4
#: Mean bootstrap ARI from which a partition counts as stable (Hennig's 0.75 for clusterboot).
STABLE = 0.75


@dataclass(frozen=True)
class KScore:
    """The evidence for one k (``None``: undefined for this k, see ``note``)."""

    k: int
    gap: float
    gap_se: float
    silhouette: float | None
    stability: float | None
    note: str | None = None


@dataclass(frozen=True)
class KSelection:
    """The chosen k, the rule that chose it, why (one sentence) and every k's evidence."""

    k: int
    rule: str  # "gap", "silhouette among stable" or "no structure"
    reason: str
    warning: str | None
    scored_on: int
    scores: list[KScore] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["scores"] = [_rounded(asdict(s)) for s in self.scores]
        return out


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def choose_k(
    X: np.ndarray,
    k_range: tuple[int, int],
    *,
    seed: int = 0,
    sample: int = SCORE_SAMPLE,
    references: int = REFERENCES,
    resamples: int = RESAMPLES,
    n_init: int = 4,
) -> KSelection:
    """Apply the rule of the module docs to ``X`` (rows = customers, already preprocessed)."""
    with one_thread():
        return _choose_k(X, k_range, seed, sample, references, resamples, n_init)


def one_thread() -> Any:
    """A context in which scikit-learn's k-means runs on one thread.

    Measured on the shared 2-core machine: choosing k took 2 s on one thread against 31 s
    with the default thread pool, and one ``KMeans(8, n_init=4)`` of 23,570 CDNOW customers
    0.4 s against 6.4 s — OpenMP threads contending with each other (and with other work)
    cost far more than they give on data this size.

    scikit-learn is imported first: a limit only reaches the thread pools already loaded, and
    k-means' OpenMP runtime loads with ``sklearn.cluster`` (imported late, for the CLI's
    start-up)."""
    import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime the limit must reach)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def _choose_k(
    X: np.ndarray,
    k_range: tuple[int, int],
    seed: int,
    sample: int,
    references: int,
    resamples: int,
    n_init: int,
) -> KSelection:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    lo, hi = k_range
    rng = np.random.default_rng(seed)
    if len(X) > sample:
        X = X[np.sort(rng.choice(len(X), sample, replace=False))]
    hi = min(hi, len(X) - 1)
    refs = _references(X, references, rng)
    scores: list[KScore] = []
    for k in range(1, hi + 1):
        km = KMeans(k, n_init=n_init, random_state=seed).fit(X)
        log_w = np.log(max(float(km.inertia_), 1e-300))
        ref_w = [
            np.log(max(float(KMeans(k, n_init=1, random_state=seed + b).fit(r).inertia_), 1e-300))
            for b, r in enumerate(refs)
        ]
        gap = float(np.mean(ref_w) - log_w)
        gap_se = float(np.std(ref_w) * np.sqrt(1 + 1 / len(refs)))
        if k == 1 or len(np.unique(km.labels_)) < 2:
            scores.append(
                KScore(k, gap, gap_se, None, None, "silhouette and stability are undefined for one cluster")
            )
            continue
        sil = float(silhouette_score(X, km.labels_))
        ari = []
        for b in range(resamples):
            idx = rng.integers(0, len(X), len(X))
            refit = KMeans(k, n_init=1, random_state=seed + 100 + b).fit(X[idx])
            ari.append(float(adjusted_rand_score(km.labels_, refit.predict(X))))
        scores.append(KScore(k, gap, gap_se, sil, float(np.mean(ari))))
    return _decide(scores, lo, len(X))


def _decide(scores: list[KScore], lo: int, scored_on: int) -> KSelection:
    by_k = {s.k: s for s in scores}
    first = by_k[1].gap >= by_k[2].gap - by_k[2].gap_se
    if first:
        return KSelection(
            lo,
            "no structure",
            f"The gap statistic is highest for one group (gap {by_k[1].gap:.3f} ≥ "
            f"{by_k[2].gap:.3f} − {by_k[2].gap_se:.3f} for two), so the data show no clear groups; "
            f"k = {lo}, the smallest tried, is used.",
            "no clear group structure: these clusters cut a continuum (read them as ranges, "
            "not as types of customer)",
            scored_on,
            scores,
        )
    in_range = [s for s in scores if s.k >= lo and s.silhouette is not None]
    stable = [s for s in in_range if (s.stability or 0.0) >= STABLE]
    pool = stable or in_range
    top = max(pool, key=lambda s: (s.gap, -s.k))
    k = min(s.k for s in pool if s.gap >= top.gap - top.gap_se)
    chosen = by_k[k]
    among = (
        f"the {len(stable)} stable k (bootstrap ARI ≥ {STABLE}: {', '.join(str(s.k) for s in stable)})"
        if stable
        else "all k (none is stable)"
    )
    return KSelection(
        k,
        "gap among stable",
        f"k = {k} is the smallest k within one standard error of the largest gap "
        f"({top.gap:.3f} − {top.gap_se:.3f} at k = {top.k}) among {among}; "
        f"its silhouette is {_fmt(chosen.silhouette)}, its stability {_fmt(chosen.stability)}.",
        _unstable(chosen),
        scored_on,
        scores,
    )


def _unstable(s: KScore) -> str | None:
    if s.stability is not None and s.stability < STABLE:
        return (
            f"k = {s.k} is not stable (bootstrap ARI {s.stability:.2f} < {STABLE}): "
            "the clusters move when the customers are resampled"
        )
    return None


def _fmt(v: float | None) -> str:
    return "undefined" if v is None else f"{v:.3f}"


def _references(X: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Uniform data in the box of ``X``'s principal components (the gap statistic's null)."""
    mean = X.mean(axis=0)
    centred = X - mean
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    return [rng.uniform(low, high, rotated.shape) @ vt + mean for _ in range(n)]
