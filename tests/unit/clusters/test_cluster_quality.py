"""Silhouette, Davies-Bouldin, bootstrap stability and recovery of a truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from personae.clusters.quality import bootstrap_stability, davies_bouldin, recovery, silhouette
from personae.errors import InputError


def test_recovery_ignores_label_names_and_counts_the_confusion() -> None:
    truth = pd.Series(["a", "a", "b", "b", "c"], index=["1", "2", "3", "4", "5"])
    clusters = pd.Series([7, 7, 8, 8, 8], index=["1", "2", "3", "4", "6"])  # 5 not clustered, 6 unknown
    r = recovery(truth, clusters)
    assert r.matched == 4
    assert r.ari == pytest.approx(1.0)
    assert r.confusion.loc["a", 7] == 2 and r.confusion.loc["b", 8] == 2
    assert r.purity == 1.0


def test_recovery_of_a_mixed_partition() -> None:
    truth = pd.Series(list("aabb"), index=list("wxyz"))
    clusters = pd.Series([0, 1, 0, 1], index=list("wxyz"))
    r = recovery(truth, clusters)
    assert r.ari == pytest.approx(-0.5)  # worse than chance: hand-computed ARI for this 2x2 split
    assert r.purity == 0.5


def test_recovery_needs_overlap() -> None:
    with pytest.raises(InputError, match="no customer"):
        recovery(pd.Series(["a"], index=["1"]), pd.Series([0], index=["2"]))


def test_separation_and_stability_of_clear_groups() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.1, (100, 2)), rng.normal(5, 0.1, (100, 2))])
    labels = np.repeat([0, 1], 100)
    assert silhouette(X, labels) > 0.9
    assert davies_bouldin(X, labels) < 0.1
    s = bootstrap_stability(X, labels, 2, resamples=3)
    assert s.scores == (1.0, 1.0, 1.0) and s.mean == 1.0


def test_noise_is_unstable() -> None:
    X = np.random.default_rng(1).normal(0, 1, (300, 2))
    labels = np.zeros(300, dtype=int)
    labels[X[:, 0] > 0] = 1
    assert bootstrap_stability(X, labels, 6, resamples=3).mean < 0.9


def test_one_cluster_has_no_silhouette() -> None:
    X = np.zeros((5, 2))
    assert math.isnan(silhouette(X, np.zeros(5)))
    assert math.isnan(davies_bouldin(X, np.zeros(5)))
