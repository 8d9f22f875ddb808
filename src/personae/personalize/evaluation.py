"""Offline metrics of top-k recommendations against held-out interactions, with intervals.

The protocol (:func:`held_out` on a time split, see
:func:`personae.personalize.interactions.time_split`): each customer's latest share of
purchases is held out; models learn from the rest. Two candidate rules, chosen by the shop's
data:

* :data:`UNSEEN` (the standard one): what a customer interacted with in training is never a
  candidate, and held-out items they had already interacted with are not counted;
* :data:`REPURCHASE` (shops where people buy the same product again): every item is a
  candidate and every held-out purchase counts, re-buys included.

Relevance is graded. Without ratings every held-out item is relevant with gain 1. With
ratings (on five stars) a held-out item is relevant when rated at least :data:`RELEVANT_FROM`
(4 of 5), and its gain is its rating, so a 5★ film found first counts more than a 4★ one;
an unrated held-out purchase in a rated shop counts as a 4★ like.

For each evaluated customer, with ``hits`` the recommended items that are relevant:

* precision@k = hits / k;
* recall@k = hits / relevant held-out items;
* NDCG@k = Σ gain(r) / log2(r + 2) over ranks r = 0…k−1, divided by the same sum for the
  relevant items in the best order (largest gains first);
* catalogue coverage = distinct items recommended to anyone / items in the catalogue.

Each is a mean over customers (every customer counts once, however much they bought), with a
bootstrap interval over customers (:func:`bootstrap_interval`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

UNSEEN = "unseen"
REPURCHASE = "repurchase"
#: on five stars: a held-out item rated this or more is relevant
RELEVANT_FROM = 4.0
METRICS = ("ndcg", "recall", "precision")


@dataclass(frozen=True)
class HeldOut:
    """What the models are judged against.

    Attributes:
        customers: codes of the evaluated customers (rows of ``gains``, in order).
        gains: ``(customers, items)`` gain of each relevant held-out item (0 elsewhere).
        exclude: ``(customers, items)`` items that may not be recommended (training
            interactions under :data:`UNSEEN`; empty under :data:`REPURCHASE`).
        left_out: customers of the split not evaluated, by reason.
        protocol: :data:`UNSEEN` or :data:`REPURCHASE`.
    """

    customers: np.ndarray
    gains: sp.csr_matrix
    exclude: sp.csr_matrix
    left_out: dict[str, int]
    protocol: str


def held_out(
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    stars: sp.csr_matrix | None = None,
    protocol: str = UNSEEN,
) -> HeldOut:
    """The relevant held-out items of each customer, and what they may not be recommended.

    Args:
        train: ``(customers, items)`` training interactions (any positive weight = seen).
        test: ``(customers, items)`` held-out purchases (positive = held out).
        stars: ``(customers, items)`` the customer's rating on five stars (0 = none), or None
            for a shop without ratings.
        protocol: :data:`UNSEEN` or :data:`REPURCHASE`.

    >>> train = sp.csr_matrix(np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]))
    >>> test = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]))
    >>> stars = sp.csr_matrix(np.array([[5.0, 4.5, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]]))
    >>> h = held_out(train, test, stars)
    >>> h.customers.tolist(), h.gains.toarray()[0].tolist(), h.left_out
    ([0], [0.0, 4.5, 0.0, 0.0], {'no held-out item rated 4 of 5 or more': 1, 'nothing held out': 1})
    """
    if protocol not in (UNSEEN, REPURCHASE):
        raise ValueError(f"protocol must be {UNSEEN!r} or {REPURCHASE!r}")
    n, m = test.shape
    held = (sp.csr_matrix(test) > 0).astype(np.float64).tocsr()
    seen = (abs(sp.csr_matrix(train)) > 0).astype(np.float64).tocsr()
    has_held = np.diff(held.indptr) > 0
    if protocol == UNSEEN:
        held = (held - held.multiply(seen)).tocsr()
        held.eliminate_zeros()
    only_seen = has_held & ~(np.diff(held.indptr) > 0)
    if stars is None or sp.csr_matrix(stars).nnz == 0:
        gains = held
        liked = np.diff(gains.indptr) > 0
        low = np.zeros(n, dtype=bool)
    else:
        s = sp.csr_matrix(stars, dtype=np.float64)
        rated = (s > 0).astype(np.float64)
        graded = held.multiply(s).tocsr()
        graded.data = np.where(graded.data >= RELEVANT_FROM, graded.data, 0.0)
        unrated = (held - held.multiply(rated)) * RELEVANT_FROM
        gains = (graded + unrated).tocsr()
        gains.eliminate_zeros()
        liked = np.diff(gains.indptr) > 0
        low = (np.diff(held.indptr) > 0) & ~liked
    customers = np.flatnonzero(liked).astype(np.int32)
    left_out = {}
    if protocol == UNSEEN and only_seen.any():
        left_out["held-out items all seen in training"] = int(only_seen.sum())
    if low.any():
        left_out[f"no held-out item rated {RELEVANT_FROM:g} of 5 or more"] = int(low.sum())
    left_out["nothing held out"] = int((~has_held).sum())
    exclude = seen[customers] if protocol == UNSEEN else sp.csr_matrix((len(customers), m))
    return HeldOut(customers, gains[customers].tocsr(), exclude.tocsr(), left_out, protocol)


def sample(held: HeldOut, n: int, seed: int = 0) -> HeldOut:
    """At most ``n`` of the evaluated customers, drawn at random (``seed``), in code order.

    Why: every model scores each evaluated customer against every item (a dense row per
    customer), so a shop of millions cannot be judged on all of them in bounded memory; a
    random sample of thousands gives the same means within their bootstrap intervals, which
    are computed on the sample and say how sure it is. Those left out are counted in
    ``left_out``, never dropped silently.

    >>> h = HeldOut(np.arange(5), sp.csr_matrix(np.eye(5)), sp.csr_matrix((5, 5)), {}, UNSEEN)
    >>> s = sample(h, 3)
    >>> len(s.customers), s.gains.shape, s.left_out
    (3, (3, 5), {'not in the random sample of 3 evaluated': 2})
    >>> sample(h, 10) is h
    True
    """
    total = len(held.customers)
    if total <= n:
        return held
    keep = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
    left = {**held.left_out, f"not in the random sample of {n:,} evaluated": total - n}
    return HeldOut(held.customers[keep], held.gains[keep], held.exclude[keep], left, held.protocol)


def top_k(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """The ``k`` best items per row, best first; ties go to the lower item code; ``-1`` pads.

    >>> top_k(np.array([[0.1, 0.5, 0.5, 0.2]]), 3, sp.csr_matrix(np.array([[0, 0, 1, 0]]))).tolist()
    [[1, 3, 0]]
    """
    s = np.array(scores, dtype=np.float64)
    if exclude is not None and exclude.nnz:
        r, c = sp.csr_matrix(exclude).nonzero()
        s[r, c] = -np.inf
    n, m = s.shape
    kk = min(k, m)
    if kk == 0:
        return np.full((n, k), -1, dtype=np.int64)
    # argpartition keeps ties at the k-th score only by chance: rows with such a tie are
    # ordered in full by (score desc, code asc)
    part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
    vals = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    out = np.take_along_axis(part, order, axis=1)
    kth = np.take_along_axis(vals, order, axis=1)[:, -1:]
    tied = np.flatnonzero(((s >= kth).sum(axis=1) > kk) | ~np.isfinite(kth.ravel()))
    for row in tied:
        cand = np.flatnonzero(np.isfinite(s[row]))
        best = cand[np.lexsort((cand, -s[row, cand]))[:kk]]
        out[row] = -1
        out[row, : len(best)] = best
    out = np.where(np.isfinite(np.take_along_axis(s, np.maximum(out, 0), axis=1)), out, -1)
    if kk < k:
        out = np.hstack([out, np.full((n, k - kk), -1, dtype=np.int64)])
    return out.astype(np.int64)


def per_customer(recommended: np.ndarray, gains: sp.csr_matrix) -> dict[str, np.ndarray]:
    """NDCG, recall and precision at k (k = columns of ``recommended``) for each customer.

    Args:
        recommended: ``(customers, k)`` item codes, best first; ``-1`` pads short lists.
        gains: ``(customers, items)`` gain of each relevant held-out item (see :func:`held_out`).
    """
    n, k = recommended.shape
    g = sp.csr_matrix(gains, dtype=np.float64)
    rows = np.repeat(np.arange(n), k)
    cols = recommended.ravel()
    valid = cols >= 0
    got = np.zeros(n * k)
    got[valid] = np.asarray(g[rows[valid], cols[valid]]).ravel()
    got = got.reshape(n, k)
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    dcg = (got * discount).sum(axis=1)
    idcg = np.zeros(n)
    for r in range(n):
        best = np.sort(g.data[g.indptr[r] : g.indptr[r + 1]])[::-1][:k]
        idcg[r] = float((best * discount[: len(best)]).sum())
    hits = (got > 0).sum(axis=1).astype(np.float64)
    relevant = np.diff(g.indptr).astype(np.float64)
    return {
        "ndcg": np.divide(dcg, idcg, out=np.zeros(n), where=idcg > 0),
        "recall": np.divide(hits, relevant, out=np.zeros(n), where=relevant > 0),
        "precision": hits / k if k else np.zeros(n),
    }


def bootstrap_interval(
    values: np.ndarray, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling customers).

    >>> bootstrap_interval(np.array([1.0, 1.0, 1.0]))
    (1.0, 1.0)
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for b in range(0, n_boot, 100):
        size = min(100, n_boot - b)
        means[b : b + size] = v[rng.integers(0, len(v), (size, len(v)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def summary(
    recommended: np.ndarray, gains: sp.csr_matrix, n_items: int, n_boot: int = 1000, seed: int = 0
) -> dict[str, float | int | list[float]]:
    """Mean NDCG, recall and precision with their bootstrap intervals, and coverage.

    The intervals of every model use the same resampled customers (same ``seed``), so models
    compared on one data set are compared on the same draws.
    """
    per = per_customer(recommended, gains)
    out: dict[str, float | int | list[float]] = {"customers": len(recommended)}
    for name in METRICS:
        out[name] = float(per[name].mean()) if len(recommended) else 0.0
        out[f"{name}_interval"] = list(bootstrap_interval(per[name], n_boot, seed=seed))
    rec = recommended[recommended >= 0]
    out["coverage"] = float(len(np.unique(rec)) / n_items) if n_items else 0.0
    return out


def hits_matrix(recommended: np.ndarray, test: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(customers, k)``: was the recommended item (``-1`` = none) bought?"""
    n, k = recommended.shape
    rows = np.repeat(np.arange(n), k)
    cols = recommended.ravel()
    valid = cols >= 0
    out = np.zeros(n * k, dtype=bool)
    out[valid] = np.asarray(test[rows[valid], cols[valid]]).ravel() > 0
    return out.reshape(n, k)


def metrics(recommended: np.ndarray, test: sp.csr_matrix, n_items: int) -> dict[str, float]:
    """precision, recall and NDCG at k (binary relevance) and coverage, as plain means.

    Args:
        recommended: ``(customers, k)`` item codes, best first; ``-1`` pads short lists.
        test: ``(customers, items)`` held-out purchases of the same customers, in order.
        n_items: catalogue size for coverage.
    """
    n, _k = recommended.shape
    if n == 0:
        return {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "coverage": 0.0, "customers": 0}
    gains = (sp.csr_matrix(test) > 0).astype(np.float64).tocsr()
    per = per_customer(recommended, gains)
    rec = recommended[recommended >= 0]
    return {
        "precision": float(per["precision"].mean()),
        "recall": float(per["recall"].mean()),
        "ndcg": float(per["ndcg"].mean()),
        "coverage": float(len(np.unique(rec)) / n_items) if n_items else 0.0,
        "customers": int(n),
    }
