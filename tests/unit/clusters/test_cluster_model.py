"""K-means with k chosen automatically (see test_cluster_selection.py), ordered labels, stored state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from personae.clusters.model import ClusterModel
from personae.errors import InputError, ModelError, NotFittedError


def blobs(k: int, n: int = 150, seed: int = 0, spread: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (k, 4))
    sizes = [n * (i + 1) for i in range(k)]  # distinct sizes: the order is known
    X = np.vstack([c + rng.normal(0, spread, (s, 4)) for c, s in zip(centres, sizes, strict=True)])
    y = np.repeat(np.arange(k), sizes)
    return X, y


@pytest.mark.parametrize("k", [3, 5])
def test_auto_k_finds_separated_groups(k: int) -> None:
    X, y = blobs(k)
    model = ClusterModel(seed=1, k_range=(2, 7)).fit(X)
    assert model.k_ == k
    assert adjusted_rand_score(y, model.predict(X)) == pytest.approx(1.0)
    assert [r["k"] for r in model.selection_["scores"]] == list(range(1, 8))


def test_labels_ordered_by_size_and_reproducible() -> None:
    X, _ = blobs(3)
    a = ClusterModel(k=3, seed=4).fit(X)
    b = ClusterModel(k=3, seed=4).fit(X)
    np.testing.assert_array_equal(a.centers_, b.centers_)
    sizes = np.bincount(a.predict(X))
    assert list(sizes) == sorted(sizes, reverse=True)


def test_predict_is_nearest_centre_in_chunks() -> None:
    X, _ = blobs(4)
    model = ClusterModel(k=4).fit(X)
    assert model.centers_ is not None
    d = ((X[:, None, :] - model.centers_[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(model.predict(X, chunk=7), d.argmin(axis=1))


def test_state_round_trip() -> None:
    X, _ = blobs(3)
    model = ClusterModel(k=3).fit(X)
    again = ClusterModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(model.predict(X), again.predict(X))


def test_errors() -> None:
    with pytest.raises(InputError):
        ClusterModel(k=1).fit(np.zeros((10, 2)))
    with pytest.raises(ModelError):
        ClusterModel(k=5).fit(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        ClusterModel().predict(np.zeros((3, 2)))
