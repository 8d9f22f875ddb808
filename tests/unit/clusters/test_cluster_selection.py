"""The choice of k: recovers known structure, says when there is none, and shows its evidence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from personae.clusters.model import ClusterModel, selection_dict
from personae.clusters.selection import STABLE, KScore, _decide, choose_k

#: make_blobs configurations with known k: 2-D and 10-D, equal and very unequal sizes, 3–6 groups.
BLOBS = {
    "3 groups, 2-D": (dict(n_samples=1500, centers=3, n_features=2, random_state=1), 3),
    "4 groups, 8-D, wide": (
        dict(n_samples=3000, centers=4, n_features=8, cluster_std=2.0, random_state=2),
        4,
    ),
    "5 groups, unequal sizes": (dict(n_samples=[1500, 600, 300, 150, 80], n_features=5, random_state=3), 5),
    "6 groups, 10-D": (dict(n_samples=6000, centers=6, n_features=10, cluster_std=1.5, random_state=4), 6),
    "4 groups, unequal, 3-D": (dict(n_samples=[2000, 500, 250, 100], n_features=3, random_state=7), 4),
}


@pytest.mark.parametrize("name", list(BLOBS))
def test_recovers_the_number_of_groups(name: str) -> None:
    kwargs, k = BLOBS[name]
    X, y = make_blobs(**kwargs)
    # the truth is recoverable at all: k-means with the true k finds it
    assert adjusted_rand_score(y, KMeans(k, n_init=4, random_state=0).fit_predict(X)) > 0.95
    chosen = choose_k(X, (2, 10), seed=0)
    assert chosen.k == k, chosen.reason
    assert chosen.rule == "gap among stable" and chosen.warning is None
    assert [s.k for s in chosen.scores] == list(range(1, 11))
    assert f"k = {k}" in chosen.reason


@pytest.mark.parametrize("shape", ["gaussian", "uniform"])
def test_no_structure_is_said_and_the_smallest_k_used(shape: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 10)) if shape == "gaussian" else rng.uniform(size=(3000, 5))
    chosen = choose_k(X, (2, 10), seed=0)
    assert chosen.rule == "no structure" and chosen.k == 2
    assert chosen.warning and "no clear group structure" in chosen.warning
    assert "no clear groups" in chosen.reason


def test_evidence_has_no_nan_and_says_why_in_words() -> None:
    X, _ = make_blobs(n_samples=800, centers=3, n_features=3, random_state=0)
    chosen = choose_k(X, (2, 6), seed=0).as_dict()
    text = json.dumps(chosen, allow_nan=False)  # raises on NaN/inf
    one = chosen["scores"][0]
    assert one["k"] == 1 and one["silhouette"] is None and one["stability"] is None
    assert "undefined for one cluster" in one["note"]
    assert all(s["silhouette"] is not None and 0 <= s["stability"] <= 1 for s in chosen["scores"][1:])
    assert "Infinity" not in text and chosen["reason"].endswith(".")


def test_deterministic_for_a_seed_and_subsampled() -> None:
    X, _ = make_blobs(n_samples=5000, centers=4, n_features=4, random_state=9)
    a, b = choose_k(X, (2, 8), seed=3), choose_k(X, (2, 8), seed=3)
    assert a == b
    assert a.scored_on == 3000  # scores on a subsample, and the result says so


def test_largest_gap_among_stable_k_with_one_standard_error() -> None:
    """Unstable k are left out; the smallest k within one SE of the largest gap wins."""
    rows = [KScore(1, 0.5, 0.01, None, None, "undefined")]
    rows += [
        KScore(2, 0.6, 0.01, 0.40, 0.95),
        KScore(3, 0.89, 0.01, 0.45, 0.90),  # within one SE of k = 4's gap
        KScore(4, 0.9, 0.01, 0.42, 0.90),
        KScore(5, 1.2, 0.01, 0.30, 0.50),  # largest gap, but unstable
    ]
    chosen = _decide(rows, 2, 1000)
    assert chosen.rule == "gap among stable" and chosen.k == 3
    assert f"≥ {STABLE}: 2, 3, 4" in chosen.reason and chosen.warning is None
    # nothing stable: the rule runs on every k and warns that the partition is not stable
    shaky = [rows[0], *(KScore(s.k, s.gap, s.gap_se, s.silhouette, 0.3) for s in rows[1:])]
    chosen = _decide(shaky, 2, 1000)
    assert chosen.k == 5 and "none is stable" in chosen.reason
    assert chosen.warning and "not stable" in chosen.warning


def test_model_keeps_the_selection_and_reads_old_ones() -> None:
    X, y = make_blobs(n_samples=900, centers=3, n_features=4, random_state=5)
    model = ClusterModel(seed=1, k_range=(2, 6)).fit(X)
    assert model.k_ == 3 and model.selection_["k"] == 3
    assert adjusted_rand_score(y, model.predict(X)) == pytest.approx(1.0)
    again = ClusterModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.selection_ == model.selection_
    old = [{"k": 2, "silhouette": 0.3, "se": 0.01}]
    assert selection_dict(old) == {"rule": "silhouette (1-SE)", "scores": old}
    assert selection_dict(None) == {} and not math.isnan(model.selection_["scores"][1]["gap"])
