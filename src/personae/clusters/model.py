"""K-means on a sample, k chosen by silhouette with the one-standard-error rule, assign all.

Why k-means: the preprocessed features (:mod:`personae.clusters.features`) are on one scale,
so compact, roughly spherical groups are what we look for; k-means finds them, is
reproducible for a seed, and assigning a customer is one nearest-centre lookup — cheap for
a million customers and identical in batch and at build time. (A Gaussian mixture was tried:
its full covariances chase the heavy tails and it recovered the generator's groups worse.)

Scale: the model is fitted on a random sample (default 50,000 customers; the centres of
k-means converge long before that) and every customer is then assigned in chunks.

Choosing k (``k="auto"``): :mod:`personae.clusters.selection` — the gap statistic with its
one-standard-error rule, "no clear groups" when it prefers one, and the best silhouette among
bootstrap-stable k when the gap never levels off; every k's evidence is kept.

Cluster numbers are ordered by size (0 = largest), so they do not depend on k-means'
arbitrary initial order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from personae.clusters.selection import choose_k, one_thread
from personae.errors import InputError, ModelError, check_is_fitted

#: k values tried when k is chosen automatically.
K_RANGE = (2, 10)


@dataclass
class ClusterModel:
    """K-means with a documented choice of k.

    Args:
        k: number of clusters, or ``None`` to choose it (see the module docs).
        seed: makes every random choice (initial centres, subsamples) reproducible.
        k_range: smallest and largest k tried when choosing.
        n_init: k-means restarts per fit (the best is kept).

    Attributes (fitted):
        k_: the number of clusters.
        centers_: ``k_ × features`` cluster centres, ordered by cluster size.
        selection_: the choice of k (:meth:`KSelection.as_dict`: ``k``, ``rule``, ``reason``,
            ``warning``, ``scored_on`` and per k ``gap``, ``gap_se``, ``silhouette``,
            ``stability``), or ``{}`` when k was given.
    """

    k: int | None = None
    seed: int = 0
    k_range: tuple[int, int] = K_RANGE
    n_init: int = 4
    k_: int | None = None
    centers_: np.ndarray | None = None
    selection_: dict[str, Any] = field(default_factory=dict)

    def fit(self, X: np.ndarray) -> ClusterModel:
        """Fit on ``X`` (the preprocessed sample)."""
        n = len(X)
        if self.k is not None and self.k < 2:
            raise InputError(f"k must be at least 2, got {self.k}")
        if n < 3 or (self.k is not None and n < self.k):
            raise ModelError(
                f"cannot cluster {n} customers into {self.k or 'several'} groups",
                hint="clustering needs more customers with orders than clusters",
            )
        if self.k is None:
            k, self.selection_ = self._choose_k(X)
        else:
            k, self.selection_ = self.k, {}
        # scikit-learn is imported where it is used: the CLI imports this module at start-up.
        from sklearn.cluster import KMeans

        with one_thread():
            km = KMeans(k, n_init=self.n_init, random_state=self.seed).fit(X)
        sizes = np.bincount(km.labels_, minlength=k)
        order = np.lexsort((np.arange(k), -sizes))  # largest first, ties by k-means' index
        self.k_, self.centers_ = k, km.cluster_centers_[order]
        return self

    def _choose_k(self, X: np.ndarray) -> tuple[int, dict[str, Any]]:
        lo, hi = self.k_range
        if min(hi, len(X) - 1) < lo:
            raise ModelError(f"too few customers ({len(X)}) to choose k between {lo} and {hi}")
        chosen = choose_k(X, (lo, hi), seed=self.seed, n_init=self.n_init)
        return chosen.k, chosen.as_dict()

    def predict(self, X: np.ndarray, chunk: int = 200_000) -> np.ndarray:
        """The nearest centre of every row (in chunks, so memory stays flat)."""
        centers = self._centers()
        out = np.empty(len(X), dtype=np.int32)
        c2 = (centers**2).sum(axis=1)
        for start in range(0, len(X), chunk):
            block = X[start : start + chunk]
            # |x - c|² = |x|² - 2 x·c + |c|²; |x|² is the same for every centre
            out[start : start + chunk] = np.argmin(c2[None, :] - 2.0 * block @ centers.T, axis=1)
        return out

    def _centers(self) -> np.ndarray:
        check_is_fitted(self, "centers_")
        return cast(np.ndarray, self.centers_)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k_,
            "seed": self.seed,
            "centers": self._centers().tolist(),
            "selection": self.selection_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterModel:
        centers = np.asarray(data["centers"], dtype=float)
        return cls(
            k=int(data["k"]),
            seed=int(data["seed"]),
            k_=int(data["k"]),
            centers_=centers,
            selection_=selection_dict(data.get("selection")),
        )


def selection_dict(stored: Any) -> dict[str, Any]:
    """A stored k selection as a dict (models before the gap statistic stored a bare list of
    ``{"k", "silhouette", "se"}`` rows: they become ``{"rule": "silhouette (1-SE)", "scores"}``)."""
    if not stored:
        return {}
    if isinstance(stored, list):
        return {"rule": "silhouette (1-SE)", "scores": stored}
    return dict(stored)
