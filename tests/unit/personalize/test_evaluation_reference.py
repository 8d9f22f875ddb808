"""The evaluation's baselines and metrics pinned against plain reference implementations.

Each reference is the textbook definition written as pure Python loops over lists — nothing
shared with the vectorised code under test: popularity of the items not yet seen, shrunk
cosine item-kNN keeping each item's top neighbours, EASE as one constrained ridge regression
per item solved by Gaussian elimination (Steck 2019, eq. 1, not the closed form), and NDCG,
recall and precision with graded gains.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import scipy.sparse as sp

from personae.personalize.evaluation import held_out, per_customer, top_k
from personae.personalize.models import EASE, ItemKNN, Popularity

N_CUSTOMERS, N_ITEMS, K = 25, 12, 5


def _data(seed: int = 3) -> tuple[list[list[float]], list[list[float]], list[list[float]]]:
    """Train confidences, held-out flags and stars (0 = unrated) as lists of lists."""
    rng = random.Random(seed)
    train = [[0.0] * N_ITEMS for _ in range(N_CUSTOMERS)]
    test = [[0.0] * N_ITEMS for _ in range(N_CUSTOMERS)]
    stars = [[0.0] * N_ITEMS for _ in range(N_CUSTOMERS)]
    for u in range(N_CUSTOMERS):
        for i in range(N_ITEMS):
            r = rng.random()
            # skewed popularity: low codes are bought more
            if r < 0.45 * (1 - i / (N_ITEMS + 4)):
                train[u][i] = round(rng.uniform(0.5, 2.0), 3)
            elif r < 0.6:
                test[u][i] = 1.0
            if train[u][i] or test[u][i]:
                stars[u][i] = rng.choice([1.0, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0])
        # one re-bought item in the held-out part (seen in training: not counted under "unseen")
        if u % 4 == 0:
            seen = [i for i in range(N_ITEMS) if train[u][i]]
            if seen:
                test[u][seen[0]] = 1.0
    return train, test, stars


def _ref_top(scores: list[float], seen: list[bool], k: int) -> list[int]:
    cand = [i for i in range(len(scores)) if not seen[i]]
    cand.sort(key=lambda i: (-scores[i], i))
    return cand[:k]


def _ref_popularity(train: list[list[float]]) -> list[float]:
    return [float(sum(1 for row in train if row[i] > 0)) for i in range(N_ITEMS)]


def _ref_knn(train: list[list[float]], neighbours: int, shrink: float) -> list[list[float]]:
    """W[j][i]: how much having j supports i (top ``neighbours`` j per i)."""
    norm = [math.sqrt(sum(row[i] ** 2 for row in train)) for i in range(N_ITEMS)]
    W = [[0.0] * N_ITEMS for _ in range(N_ITEMS)]
    for i in range(N_ITEMS):
        sims = []
        for j in range(N_ITEMS):
            if j == i:
                continue
            co = sum(row[i] * row[j] for row in train)
            if co:
                sims.append((co / (norm[i] * norm[j] + shrink), j))
        sims.sort(reverse=True)
        for s, j in sims[:neighbours]:
            W[j][i] = s
    return W


def _solve(A: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    M = [[*row, b[r]] for r, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                for cc in range(c, n + 1):
                    M[r][cc] -= f * M[c][cc]
    return [M[r][n] / M[r][r] for r in range(n)]


def _ref_ease(train: list[list[float]], lam: float) -> list[list[float]]:
    """For each item i, ridge-regress its column on every other column (B[i][i] = 0)."""
    B = [[0.0] * N_ITEMS for _ in range(N_ITEMS)]
    for i in range(N_ITEMS):
        others = [j for j in range(N_ITEMS) if j != i]
        A = [
            [sum(row[a] * row[b] for row in train) + (lam if a == b else 0.0) for b in others] for a in others
        ]
        rhs = [sum(row[a] * row[i] for row in train) for a in others]
        for j, w in zip(others, _solve(A, rhs), strict=True):
            B[j][i] = w
    return B


def _ref_scores(train: list[list[float]], W: list[list[float]]) -> list[list[float]]:
    return [[sum(row[j] * W[j][i] for j in range(N_ITEMS)) for i in range(N_ITEMS)] for row in train]


def _ref_metrics(recs: list[int], gains: dict[int, float], k: int) -> tuple[float, float, float]:
    dcg = sum(gains.get(item, 0.0) / math.log2(r + 2) for r, item in enumerate(recs))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    hits = sum(1 for item in recs if item in gains)
    return dcg / idcg, hits / len(gains), hits / k


def _ref_gains(
    test: list[list[float]], train: list[list[float]], stars: list[list[float]]
) -> list[dict[int, float]]:
    """Relevant held-out items not seen in training: rated 4+ (gain = stars); unrated count as 4."""
    out = []
    for u in range(N_CUSTOMERS):
        g = {}
        for i in range(N_ITEMS):
            if test[u][i] and not train[u][i]:
                s = stars[u][i]
                if s == 0:
                    g[i] = 4.0
                elif s >= 4:
                    g[i] = s
        out.append(g)
    return out


@pytest.mark.parametrize("model", ["popularity", "item_knn", "ease"])
def test_baselines_and_metrics_match_the_plain_reference(model: str) -> None:
    train, test, stars = _data()
    X = sp.csr_matrix(np.array(train, dtype=np.float32))
    held = held_out(X, sp.csr_matrix(np.array(test)), sp.csr_matrix(np.array(stars)))
    ref_gains = _ref_gains(test, train, stars)
    evaluated = [u for u in range(N_CUSTOMERS) if ref_gains[u]]
    assert held.customers.tolist() == evaluated
    assert len(evaluated) > 10

    if model == "popularity":
        pop = _ref_popularity(train)
        ref_scores = [pop[:] for _ in range(N_CUSTOMERS)]
        scores = Popularity().fit(X).score(X[held.customers])
    elif model == "item_knn":
        ref_scores = _ref_scores(train, _ref_knn(train, neighbours=4, shrink=2.0))
        scores = ItemKNN(neighbours=4, shrink=2.0).fit(X).score(X[held.customers])
    else:
        ref_scores = _ref_scores(train, _ref_ease(train, lam=3.0))
        scores = EASE(3.0).fit(X).score(X[held.customers])

    np.testing.assert_allclose(
        scores,
        np.array(ref_scores)[evaluated] / (max(ref_scores[0]) if model == "popularity" else 1.0),
        rtol=2e-4,
        atol=2e-5,
    )
    recs = top_k(scores, K, held.exclude)
    per = per_customer(recs, held.gains)
    for row, u in enumerate(evaluated):
        ref_recs = _ref_top(ref_scores[u], [x > 0 for x in train[u]], K)
        assert recs[row].tolist() == ref_recs, (model, u)
        ndcg, recall, precision = _ref_metrics(ref_recs, ref_gains[u], K)
        assert per["ndcg"][row] == pytest.approx(ndcg)
        assert per["recall"][row] == pytest.approx(recall)
        assert per["precision"][row] == pytest.approx(precision)


def test_the_repurchase_protocol_keeps_seen_items_as_candidates_and_answers() -> None:
    train, test, _ = _data()
    X = sp.csr_matrix(np.array(train, dtype=np.float32))
    held = held_out(X, sp.csr_matrix(np.array(test)), None, protocol="repurchase")
    assert held.exclude.nnz == 0
    rebought = [u for u in range(N_CUSTOMERS) if any(test[u][i] and train[u][i] for i in range(N_ITEMS))]
    assert rebought
    for u in rebought:
        row = held.customers.tolist().index(u)
        assert all(held.gains[row, i] == 1.0 for i in range(N_ITEMS) if test[u][i])
    unseen = held_out(X, sp.csr_matrix(np.array(test)), None)
    assert unseen.exclude.nnz > 0
    assert unseen.gains.nnz < held.gains.nnz


def test_a_tie_goes_to_the_lower_code_and_short_lists_pad() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.5]])
    assert top_k(scores, 2).tolist() == [[1, 2]]
    everything_seen = sp.csr_matrix(np.array([[1, 1, 1, 0, 1]]))
    assert top_k(scores, 3, everything_seen).tolist() == [[3, -1, -1]]


def test_ease_with_no_item_above_min_support_scores_zero_and_keeps_history() -> None:
    """Bug: a shop whose every item had fewer than min_support buyers (one customer who viewed
    one product) crashed scoring with self_weight (max of an empty block), a 500 in the API."""
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32))
    model = EASE(regularization=10.0, self_weight=3.0, min_support=3).fit(X)
    scores = model.score(X)
    assert scores.shape == (2, 2)
    assert scores[0, 0] == 3.0 and scores[0, 1] == 0.0 and not scores[1].any()
