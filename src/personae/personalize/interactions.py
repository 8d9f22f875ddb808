"""Who did what with which product, as arrays: the input of every recommender.

One row per interaction — an order line (a *purchase*) or a product event (a view or an add to
cart) — with integer codes for the customer and the product, so the models work on a sparse
customer × item matrix. Browsing counts less than buying (weights in
:class:`~personae.config.personalize.RecommendSettings`), and repeated interactions add up,
damped by a logarithm so one obsessive product does not drown the rest of a history.

:func:`time_split` makes the honest offline test: each customer's most recent 20% of purchases
(by time, whole orders together) are held out, and nothing they did from that moment on is
seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

#: interaction kinds, by code
PURCHASE, CART, VIEW = 0, 1, 2
KIND_NAMES = ("purchase", "add_to_cart", "product_view")


@dataclass(frozen=True)
class Interactions:
    """Interactions with integer-coded customers and items.

    Attributes:
        customer: index into ``customer_ids`` per interaction.
        item: index into ``item_ids`` per interaction.
        at: time per interaction, seconds since the epoch (int64).
        kind: :data:`PURCHASE`, :data:`CART` or :data:`VIEW` per interaction.
        customer_ids: the customer id of each code.
        item_ids: the product id of each code.
    """

    customer: np.ndarray
    item: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    customer_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def take(self, mask: np.ndarray) -> Interactions:
        """The interactions where ``mask`` is true (same codes)."""
        return Interactions(
            self.customer[mask],
            self.item[mask],
            self.at[mask],
            self.kind[mask],
            self.customer_ids,
            self.item_ids,
        )

    def matrix(self, weights: tuple[float, float, float] = (1.0, 0.5, 0.2)) -> sp.csr_matrix:
        """Customer × item confidence: ``log1p`` of the weighted interaction counts."""
        w = np.asarray(weights, dtype=np.float32)[self.kind]
        m = sp.csr_matrix(
            (w, (self.customer, self.item)), shape=(self.n_customers, self.n_items), dtype=np.float32
        )
        m.sum_duplicates()
        m.data = np.log1p(m.data)
        return m

    def purchases(self) -> sp.csr_matrix:
        """Customer × item count of purchase lines (≈ distinct orders containing the item)."""
        p = self.kind == PURCHASE
        m = sp.csr_matrix(
            (np.ones(int(p.sum()), dtype=np.float32), (self.customer[p], self.item[p])),
            shape=(self.n_customers, self.n_items),
        )
        m.sum_duplicates()
        return m


def encode(
    customer_ids: np.ndarray | pa.Array | pa.ChunkedArray,
    item_ids: np.ndarray | pa.Array | pa.ChunkedArray,
    at: np.ndarray,
    kind: np.ndarray,
) -> Interactions:
    """Code string ids as integers (codes in sorted id order, so results are reproducible).

    Arrow columns are coded by Arrow (the distinct ids sorted, then each row looked up among
    them) without a Python string per row: 100M order lines would otherwise be 200M Python
    objects. The codes are the same either way (a missing id is the string ``"None"``).

    >>> ids = np.array(["x", "y", "x", "x"], dtype=object)
    >>> i = encode(pa.array(["b", "a", None, "b"]), ids, np.zeros(4), np.zeros(4))
    >>> i.customer.tolist(), i.customer_ids.tolist(), i.item.tolist()
    ([2, 1, 0, 2], ['None', 'a', 'b'], [0, 1, 0, 0])
    """
    cust, cust_vocab = _codes(customer_ids)
    item, item_vocab = _codes(item_ids)
    return Interactions(
        cust,
        item,
        np.asarray(at, dtype=np.int64),
        np.asarray(kind, dtype=np.int8),
        cust_vocab,
        item_vocab,
    )


def _codes(values: np.ndarray | pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position among the distinct values in sorted order, and those values."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        vocab, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
        return codes.astype(np.int32), vocab
    text = pc.fill_null(values.cast(pa.string()), "None")
    vocab = pc.unique(text)
    vocab = vocab.take(pc.sort_indices(vocab))
    codes = pc.index_in(text, value_set=vocab).to_numpy(zero_copy_only=False)
    return codes.astype(np.int32), vocab.to_numpy(zero_copy_only=False).astype(str)


def sample_customers(inter: Interactions, n: int, seed: int = 0) -> tuple[Interactions, int]:
    """The interactions of at most ``n`` customers drawn at random (``seed``), re-coded in the
    same order, and how many customers were left out.

    Why: an offline evaluation fits every candidate model; on millions of customers that is
    hours. The candidates are compared on the same sample.

    >>> i = encode(np.array(["a", "b", "c", "c"]), np.array(["x", "y", "x", "y"]), np.zeros(4), np.zeros(4))
    >>> s, left = sample_customers(i, 2, seed=1)
    >>> kept = set(s.customer_ids)
    >>> s.n_customers, left, len(s.customer) == sum(i.customer_ids[c] in kept for c in i.customer)
    (2, 1, True)
    """
    if inter.n_customers <= n:
        return inter, 0
    keep = np.sort(np.random.default_rng(seed).choice(inter.n_customers, size=n, replace=False))
    code = np.full(inter.n_customers, -1, dtype=np.int32)
    code[keep] = np.arange(n, dtype=np.int32)
    new = code[inter.customer]
    mask = new >= 0
    sampled = Interactions(
        new[mask],
        inter.item[mask],
        inter.at[mask],
        inter.kind[mask],
        inter.customer_ids[keep],
        inter.item_ids,
    )
    return sampled, inter.n_customers - n


@dataclass(frozen=True)
class Split:
    """A time-based split.

    Attributes:
        train: every interaction before each evaluated customer's cut-off (all of the others).
        test: customer × item matrix (binary) of the held-out purchases.
        customers: codes of the evaluated customers (those with a held-out purchase and at
            least one earlier purchase).
    """

    train: Interactions
    test: sp.csr_matrix
    customers: np.ndarray


def time_split(inter: Interactions, holdout: float = 0.2) -> Split:
    """Hold out each customer's most recent ``holdout`` share of purchase lines.

    The cut-off of a customer is the time of their first held-out line (at least one line,
    ``ceil(holdout × lines)``); every interaction at or after it — the purchases to predict and
    the browsing that led to them — leaves the training data. Lines of one order share a time,
    so an order is never split. Customers whose purchases all happened at one moment have
    nothing to learn from and keep all their data in training, unevaluated.
    """
    if not 0 < holdout < 1:
        raise ValueError("holdout must be between 0 and 1")
    is_p = inter.kind == PURCHASE
    pc_, pat = inter.customer[is_p], inter.at[is_p]
    order = np.lexsort((pat, pc_))
    pc_, pat = pc_[order], pat[order]
    n = inter.n_customers
    counts = np.bincount(pc_, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k = np.ceil(counts * holdout).astype(np.int64)
    cut = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    has = counts >= 2
    cut_pos = starts[has] + counts[has] - k[has]
    first = pat[starts[has]]
    cut_at = pat[cut_pos]
    # the cut-off must leave at least one earlier purchase in training
    ok = cut_at > first
    idx = np.flatnonzero(has)[ok]
    cut[idx] = cut_at[ok]
    after = inter.at >= cut[inter.customer]
    train = inter.take(~after)
    held = after & is_p
    test = sp.csr_matrix(
        (np.ones(int(held.sum()), dtype=np.float32), (inter.customer[held], inter.item[held])),
        shape=(n, inter.n_items),
    )
    test.sum_duplicates()
    test.data[:] = 1.0
    return Split(train, test, np.flatnonzero(np.diff(test.indptr) > 0).astype(np.int32))
