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


def encode(customer_ids: np.ndarray, item_ids: np.ndarray, at: np.ndarray, kind: np.ndarray) -> Interactions:
    """Code string ids as integers (codes in sorted id order, so results are reproducible)."""
    cust_vocab, cust = np.unique(np.asarray(customer_ids, dtype=object).astype(str), return_inverse=True)
    item_vocab, item = np.unique(np.asarray(item_ids, dtype=object).astype(str), return_inverse=True)
    return Interactions(
        cust.astype(np.int32),
        item.astype(np.int32),
        np.asarray(at, dtype=np.int64),
        np.asarray(kind, dtype=np.int8),
        cust_vocab,
        item_vocab,
    )


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
