"""Recommenders over a customer × item confidence matrix, scikit-learn style.

Each model has ``fit(X)`` (fitted state in attributes ending in ``_``) and ``score(X_rows)``
giving a dense score per item for each customer row. The item-based models also expose their
item × item weights (``weights_``), which is what makes a reason like "because you bought …"
exact: the score of item *i* is the sum over the customer's history *j* of ``X[u, j] · W[j, i]``,
so the largest term names the item that earned the recommendation.

* :class:`Popularity` — distinct buyers per item; the baseline every model must beat.
* :class:`ItemKNN` — cosine item-to-item co-occurrence, each item keeping its ``neighbours``
  most similar items.
* :class:`EASE` — Steck's "Embarrassingly Shallow Autoencoder" (WWW 2019): a closed-form
  ridge regression of each item on all others with a zero diagonal. In published comparisons
  these simple item models often beat matrix factorisation; :func:`recommend evaluate` measures
  it on the data at hand.
* :class:`ALS` — ``implicit``'s alternating least squares (Hu, Koren & Volinsky 2008), the
  classic matrix factorisation, run with the library's default settings unless told otherwise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from personae.errors import ModelError, NotFittedError, check_is_fitted
from personae.personalize.feedback import LIKED_FROM


class Recommender:
    """Base class: ``fit`` then ``score``; ``similarity`` explains item-based scores."""

    name: ClassVar[str] = "model"
    #: whether ``weights_`` holds an item × item matrix (reasons "because you bought …")
    item_based: ClassVar[bool] = True

    #: weight of the customer's own history in their scores (items looked at, re-buys); the
    #: item-item models have a zero diagonal, so without it an item a customer keeps viewing
    #: is never suggested back to them
    self_weight: float = 0.0

    def fit(self, X: sp.csr_matrix) -> Recommender:  # pragma: no cover - abstract
        raise NotImplementedError

    def score(self, X: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
        """Dense ``(customers, items)`` scores for the customers whose histories are ``X``.

        ``rows`` are those customers' row numbers in the matrix the model was fitted on (ALS
        uses its learned customer factors for them); item-based models ignore it.
        """
        check_is_fitted(self, "n_items_")
        W = self.weights_
        out = X @ W
        dense = np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float32)
        if self.self_weight:
            dense += self.self_weight * self._self_scale * X.toarray()
        return dense

    def similarity(self, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``W[items, targets]`` element-wise: how much history item ``items[n]`` supports
        ``targets[n]`` (0 where they are unrelated)."""
        check_is_fitted(self, "n_items_")
        W = self.weights_
        if sp.issparse(W):
            out = np.asarray(W[items, targets], dtype=np.float32).ravel()
        else:
            out = np.asarray(W[items, targets], dtype=np.float32)
        if self.self_weight:
            out = out + np.where(items == targets, self.self_weight * self._self_scale, 0.0).astype(
                np.float32
            )
        return out

    @property
    def _self_scale(self) -> float:
        """The typical size of a weight, so ``self_weight`` means the same for every model:
        the mean of each item's largest incoming weight."""
        if not hasattr(self, "_scale"):
            self._scale = typical_weight(self.weights_)
        return self._scale

    @property
    def weights_(self) -> Any:
        raise NotFittedError(type(self).__name__)


def typical_weight(W: np.ndarray | sp.spmatrix) -> float:
    """The mean of each item's largest incoming weight (1.0 when no weight is positive, or
    there are no items: EASE keeps none when every item is below ``min_support``).

    Example:
        >>> typical_weight(np.array([[0.0, 0.5], [0.25, 0.0]]))
        0.375
        >>> typical_weight(np.zeros((0, 0)))
        1.0
    """
    if W.shape[0] == 0 or W.shape[1] == 0:
        return 1.0
    top = np.asarray(W.max(axis=0).todense() if sp.issparse(W) else W.max(axis=0)).ravel()
    return float(top[top > 0].mean()) if (top > 0).any() else 1.0


class Popularity(Recommender):
    """Items ranked by how many customers bought (or interacted with) them."""

    name = "popularity"
    item_based = False

    def fit(self, X: sp.csr_matrix) -> Popularity:
        self.popularity_ = np.asarray((X > 0).sum(axis=0), dtype=np.float32).ravel()
        self.n_items_ = X.shape[1]
        return self

    def score(self, X: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
        check_is_fitted(self, "n_items_")
        top = float(self.popularity_.max()) or 1.0
        return np.broadcast_to(self.popularity_ / top, (X.shape[0], self.n_items_)).copy()


class ItemKNN(Recommender):
    """Cosine similarity between item columns; each item keeps its top ``neighbours``."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0, self_weight: float = 0.0) -> None:
        self.neighbours = neighbours
        self.shrink = shrink
        self.self_weight = self_weight

    def fit(self, X: sp.csr_matrix) -> ItemKNN:
        X = sp.csr_matrix(X, dtype=np.float32)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
        co = (X.T @ X).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        co = co.tocoo()
        # shrunk cosine: co / (|i| |j| + shrink) damps similarities resting on few customers
        sim = co.data / (norms[co.row] * norms[co.col] + self.shrink)
        S = sp.csr_matrix((sim.astype(np.float32), (co.row, co.col)), shape=co.shape)
        self._weights = _keep_top_per_column(S, self.neighbours)
        self.n_items_ = X.shape[1]
        return self

    @property
    def weights_(self) -> sp.csr_matrix:
        check_is_fitted(self, "n_items_")
        return self._weights


class EASE(Recommender):
    """Closed-form item-item regression with a zero diagonal (Steck 2019).

    ``B = I − P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹``; scores are ``X · B``. One
    inversion of an items × items matrix: catalogues of a few thousand items fit in seconds.
    Larger catalogues should prefer :class:`ItemKNN`.

    ``min_support`` leaves out of the regression the items fewer than that many customers
    interacted with (they get no weights, so they are neither recommended by the model nor
    evidence for it): the inversion costs the cube of the items kept, and an item one customer
    rated carries no co-occurrence to learn from. On MovieLens-small, keeping the items of 3+
    customers (4,167 of 9,742) makes the fit 20× faster for the same NDCG (0.1018 vs 0.1024,
    docs/personalization.md).
    """

    name = "ease"
    max_items: ClassVar[int] = 20_000

    def __init__(self, regularization: float = 200.0, self_weight: float = 0.0, min_support: int = 1) -> None:
        self.regularization = regularization
        self.self_weight = self_weight
        self.min_support = min_support

    def fit(self, X: sp.csr_matrix) -> EASE:
        n = X.shape[1]
        X = sp.csr_matrix(X, dtype=np.float64)
        support = np.asarray((abs(X) > 0).sum(axis=0)).ravel()
        keep = np.flatnonzero(support >= self.min_support) if self.min_support > 1 else np.arange(n)
        if len(keep) > self.max_items:
            raise ModelError(
                f"EASE inverts an items × items matrix; {len(keep):,} items is too many",
                hint="use model item_knn for catalogues above 20,000 items",
            )
        Xk = X[:, keep]
        G = np.asarray((Xk.T @ Xk).toarray(), dtype=np.float64)
        G[np.diag_indices(len(keep))] += self.regularization
        P = np.linalg.inv(G)
        B = P / (-np.diag(P))
        B[np.diag_indices(len(keep))] = 0.0
        self.items_ = keep
        self._block = B.astype(np.float32)
        self.n_items_ = n
        return self

    def score(self, X: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
        check_is_fitted(self, "n_items_")
        keep = self.items_
        out = np.zeros((X.shape[0], self.n_items_), dtype=np.float32)
        Xk = sp.csr_matrix(X)[:, keep]
        out[:, keep] = np.asarray(Xk @ self._block, dtype=np.float32)
        if self.self_weight:
            out += self.self_weight * self._self_scale * sp.csr_matrix(X).toarray()
        return out

    def similarity(self, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "n_items_")
        pos = np.full(self.n_items_, -1, dtype=np.int64)
        pos[self.items_] = np.arange(len(self.items_))
        a, b = pos[np.asarray(items)], pos[np.asarray(targets)]
        ok = (a >= 0) & (b >= 0)
        out = np.zeros(len(a), dtype=np.float32)
        out[ok] = self._block[a[ok], b[ok]]
        if self.self_weight:
            out = out + np.where(items == targets, self.self_weight * self._self_scale, 0.0).astype(
                np.float32
            )
        return out

    @property
    def _self_scale(self) -> float:
        if not hasattr(self, "_scale"):
            # the kept items' block: the same largest weights as weights_, without building it
            self._scale = typical_weight(self._block)
        return self._scale

    @property
    def weights_(self) -> np.ndarray:
        """The full items × items weights (zero rows and columns for the items left out)."""
        check_is_fitted(self, "n_items_")
        W = np.zeros((self.n_items_, self.n_items_), dtype=np.float32)
        W[np.ix_(self.items_, self.items_)] = self._block
        return W


class ALS(Recommender):
    """``implicit``'s ALS on the CPU; defaults are the library's own (factors 100, λ 0.01,
    α 1, 15 iterations) so "ALS with default settings" means what it says."""

    name = "als"
    item_based = False

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed

    def fit(self, X: sp.csr_matrix) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit warns (and slows down) when BLAS runs its own threads inside its loops
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=1,
            )
            model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        self.n_items_ = X.shape[1]
        return self

    def score(self, X: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
        check_is_fitted(self, "n_items_")
        if rows is None:
            raise ModelError("ALS scores customers it was fitted on: pass their row numbers")
        return np.asarray(self.user_factors_[rows] @ self.item_factors_.T, dtype=np.float32)

    def similarity(self, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "n_items_")
        f = self.item_factors_
        return np.einsum("ij,ij->i", f[items], f[targets]).astype(np.float32)


#: what a rated item weighs in the default model's input: ``stars − STAR_CENTRE`` (a 5★ film
#: 2, a 4★ one 1, a 3★ one nothing, a 1★ one −2, pulling what resembles it down)
STAR_CENTRE = 3.0
#: a liked item weighs at least this many times its interaction weight (``liked_weight``)
LIKED_WEIGHT = 2.0


def star_weights(
    history: sp.csr_matrix,
    stars: sp.csr_matrix,
    centre: float = STAR_CENTRE,
    liked_weight: float = LIKED_WEIGHT,
) -> sp.csr_matrix:
    """``history`` with each rated pair's weight replaced by ``stars − centre``; a liked pair
    (4 of 5 or more) weighs at least ``liked_weight ×`` its history weight.

    Why: with ratings, "watched" is weak evidence and "loved" strong; a film rated 1★ says
    the person's taste runs away from it. On MovieLens-small EASE fitted and scored on these
    weights reaches NDCG@10 0.135 against 0.102 on plain interactions
    (docs/personalization.md). The floor keeps the feedback rule "liked weighs more than
    merely bought" whatever the centre: without it a 4★ item bought three times would weigh
    less (4 − 3 = 1) than an unrated one bought three times (log 4 ≈ 1.4). Pairs without a
    rating keep their weight.

    >>> h = sp.csr_matrix(np.array([[0.7, 0.7, 0.7, 1.4, 0.0]], dtype=np.float32))
    >>> s = sp.csr_matrix(np.array([[5.0, 1.0, 0.0, 4.0, 2.0]]))
    >>> star_weights(h, s).toarray().astype(float).round(2).tolist()
    [[2.0, -2.0, 0.7, 2.8, -1.0]]
    """
    h = sp.csr_matrix(history, dtype=np.float32)
    st = sp.csr_matrix(stars, dtype=np.float32)
    rated = (st > 0).astype(np.float32)
    centred = st - rated * np.float32(centre)
    out = (h - h.multiply(rated) + centred).tocsr()
    liked = (st >= LIKED_FROM).astype(np.float32)
    floor = (h.multiply(liked) * np.float32(liked_weight)).tocsr()
    # raise the liked pairs to the floor (sparse maximum would also lift the negatives to 0)
    lift = (floor - out.multiply(liked)).tocsr()
    lift.data = np.maximum(lift.data, 0.0)
    value = (out + lift).tocsr()
    # every known pair stays known, a 3★ one (weight 0 at centre 3) as a tiny weight: sparse
    # arithmetic drops zeros, and a sparse zero reads as "never seen"
    known = ((abs(h) > 0).astype(np.float32) + rated).tocsr()
    r, c = known.nonzero()
    data = np.asarray(value[r, c], dtype=np.float32).ravel()
    data[data == 0] = np.float32(1e-6)
    return sp.csr_matrix((data, (r, c)), shape=h.shape, dtype=np.float32)


def repeat_share(purchases: sp.csr_matrix) -> float:
    """Share of customer-item pairs bought in two or more orders (0 without purchases).

    >>> repeat_share(sp.csr_matrix(np.array([[3.0, 1.0], [0.0, 2.0]])))
    0.6666666666666666
    """
    data = sp.csr_matrix(purchases).data
    data = data[data > 0]
    return float((data >= 2).mean()) if len(data) else 0.0


def repeat_scores(
    customer: np.ndarray,
    item: np.ndarray,
    at: np.ndarray,
    now: int,
    shape: tuple[int, int],
    half_life_days: float = 90.0,
) -> sp.csr_matrix:
    """Repurchase score of each bought pair: ``Σ 0.5 ** (age / half_life)`` over its purchases.

    Frequency and recency in one number: three purchases last month outweigh one last
    year. Used where re-buying is common (:func:`repeat_share`), blended with the model's
    scores so the staples come back next to the discoveries.

    >>> r = repeat_scores(np.array([0, 0, 0]), np.array([0, 0, 1]), np.array([0, 90, 90]) * 86400,
    ...                   90 * 86400, (1, 2))
    >>> r.toarray().round(2).tolist()
    [[1.5, 1.0]]
    """
    age = np.maximum(now - np.asarray(at, dtype=np.int64), 0) / 86400.0
    w = np.power(0.5, age / half_life_days)
    out = sp.csr_matrix((w, (customer, item)), shape=shape, dtype=np.float64)
    out.sum_duplicates()
    return out


def _sequences(customer: np.ndarray, item: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's interactions in time order (ties by item code), one per item: its
    latest. Returns ``(index into the inputs, position from the end)`` (0 = the latest)."""
    customer = np.asarray(customer, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    order = np.lexsort((item, np.asarray(at, dtype=np.int64), customer))
    c, i = customer[order], item[order]
    # keep each (customer, item)'s latest interaction: an item bought, then looked at again,
    # sits where it was last touched
    key = c * (int(item.max(initial=0)) + 1) + i
    _, last_rev = np.unique(key[::-1], return_index=True)
    keep = np.zeros(len(c), dtype=bool)
    keep[len(c) - 1 - last_rev] = True
    order, c = order[keep], c[keep]
    ends = np.cumsum(np.bincount(c, minlength=int(c.max(initial=-1)) + 1))
    return order, ends[c] - 1 - np.arange(len(c))


def transitions(
    customer: np.ndarray,
    item: np.ndarray,
    at: np.ndarray,
    n_items: int,
    window: int = 10,
    target_weight: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Item × item: how much people turned to item *b* within ``window`` steps after item *a*.

    Each ordered pair (*a* then *b*, ``d`` positions later in one person's time-ordered
    history, ``d ≤ window``) adds ``target_weight(b) / d`` (``target_weight`` per interaction,
    1 when None: with ratings, a step to something the person did not like counts less); the
    sums are cosine-normalised by each item's number of people (a blockbuster follows
    everything). Why: under a time split what a person does next resembles what they did
    last, which the order-blind item models (EASE, item-kNN) cannot see
    (docs/personalization.md, "What a history's order adds").

    >>> T = transitions(np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 1]),
    ...                 np.array([1, 2, 3, 1, 2]), 3, window=2)
    >>> T.toarray().astype(float).round(2).tolist()
    [[0.0, 1.0, 0.35], [0.0, 0.0, 0.71], [0.0, 0.0, 0.0]]
    """
    idx, _pos = _sequences(customer, item, at)
    c = np.asarray(customer, dtype=np.int64)[idx]
    i = np.asarray(item, dtype=np.int64)[idx]
    tw = np.ones(len(i)) if target_weight is None else np.asarray(target_weight, dtype=np.float64)[idx]
    T = sp.csr_matrix((n_items, n_items), dtype=np.float64)
    for d in range(1, min(window, max(len(c) - 1, 0)) + 1):
        # one distance at a time: memory stays that of the interactions, not window × them
        same = c[d:] == c[:-d]
        step = sp.csr_matrix((tw[d:][same] / d, (i[:-d][same], i[d:][same])), shape=(n_items, n_items))
        T = T + step
    T = sp.csr_matrix(T)
    T.sum_duplicates()
    norm = np.sqrt(np.maximum(np.bincount(i, minlength=n_items), 1.0))
    coo = T.tocoo()
    data = coo.data / (norm[coo.row] * norm[coo.col])
    return sp.csr_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=T.shape)


def recency_mask(
    customer: np.ndarray,
    item: np.ndarray,
    at: np.ndarray,
    shape: tuple[int, int],
    last: int,
    decay: float,
    floor: float = 0.0,
) -> sp.csr_matrix:
    """Customer × item: ``floor + (1 − floor) · decay ** p`` for each customer's ``last``
    latest items (``p`` = 0 for the latest, 1 for the one before …), nothing elsewhere.

    Multiplied element-wise with the scoring input it gives the recent part of a history
    (what the :func:`transitions` are scored from: ``floor`` 0) or a history whose older items
    weigh less (``floor`` > 0 keeps them in: a taste shown long ago still counts).

    >>> recency_mask(np.array([0, 0, 0]), np.array([2, 0, 1]), np.array([1, 2, 3]), (1, 3),
    ...              last=2, decay=0.5).toarray().tolist()
    [[0.5, 1.0, 0.0]]
    >>> recency_mask(np.array([0, 0, 0]), np.array([2, 0, 1]), np.array([1, 2, 3]), (1, 3),
    ...              last=3, decay=0.5, floor=0.5).toarray().tolist()
    [[0.75, 1.0, 0.625]]
    """
    idx, pos = _sequences(customer, item, at)
    keep = pos < last
    w = (floor + (1.0 - floor) * np.power(float(decay), pos[keep])).astype(np.float32)
    c = np.asarray(customer, dtype=np.int64)[idx][keep]
    i = np.asarray(item, dtype=np.int64)[idx][keep]
    return sp.csr_matrix((w, (c, i)), shape=shape, dtype=np.float32)


def recency_weighted(history: sp.csr_matrix, mask: sp.csr_matrix, floor: float) -> sp.csr_matrix:
    """``history`` with each pair's weight times its :func:`recency_mask` value; a pair the
    mask does not know (rated, never bought nor viewed) counts as the oldest (``floor``).

    >>> h = sp.csr_matrix(np.array([[2.0, -1.0, 1.0]]))
    >>> m = sp.csr_matrix(np.array([[1.0, 0.5, 0.0]]))
    >>> recency_weighted(h, m, 0.25).toarray().tolist()
    [[2.0, -0.5, 0.25]]
    """
    h = sp.csr_matrix(history, dtype=np.float32)
    r, c = h.nonzero()
    f = np.asarray(sp.csr_matrix(mask)[r, c], dtype=np.float32).ravel()
    f[f == 0] = np.float32(floor)
    return sp.csr_matrix((np.asarray(h[r, c]).ravel() * f, (r, c)), shape=h.shape, dtype=np.float32)


MODELS: dict[str, type[Recommender]] = {
    "popularity": Popularity,
    "item_knn": ItemKNN,
    "ease": EASE,
    "als": ALS,
}


def make_model(name: str, **params: Any) -> Recommender:
    """A model by name (``popularity``, ``item_knn``, ``ease``, ``als``)."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ModelError(f"unknown recommender {name!r}", hint=f"use one of {', '.join(MODELS)}") from None
    return cls(**params)


def _keep_top_per_column(S: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep, in each column, the ``n`` largest entries (what each target item listens to)."""
    C = S.tocsc()
    keep = np.zeros(C.nnz, dtype=bool)
    for col in range(C.shape[1]):
        lo, hi = C.indptr[col], C.indptr[col + 1]
        if hi - lo <= n:
            keep[lo:hi] = True
        else:
            top = np.argpartition(-C.data[lo:hi], n - 1)[:n]
            keep[lo + top] = True
    C.data[~keep] = 0.0
    C.eliminate_zeros()
    return C.tocsr()
