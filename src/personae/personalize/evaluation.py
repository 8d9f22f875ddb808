"""Offline metrics of top-k recommendations against held-out purchases.

For each evaluated customer, ``hits`` are recommended items they went on to buy:

* precision@k = hits / k;
* recall@k = hits / items bought in the held-out period;
* NDCG@k = Σ hit_r / log2(r + 2) over ranks r = 0…k−1, divided by the best possible value
  (all of the first min(k, bought) ranks hits);
* catalogue coverage = distinct items recommended to anyone / items in the catalogue.

Each is a mean over customers (every customer counts once, however much they bought).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
    """precision, recall and NDCG at k (k = columns of ``recommended``) and coverage.

    Args:
        recommended: ``(customers, k)`` item codes, best first; ``-1`` pads short lists.
        test: ``(customers, items)`` held-out purchases of the same customers, in order.
        n_items: catalogue size for coverage.
    """
    n, k = recommended.shape
    if n == 0:
        return {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "coverage": 0.0, "customers": 0}
    hits = hits_matrix(recommended, test)
    relevant = np.diff(test.indptr).astype(np.float64)
    n_hits = hits.sum(axis=1)
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    dcg = (hits * discount).sum(axis=1)
    ideal_cum = np.cumsum(discount)
    idcg = ideal_cum[np.clip(np.minimum(relevant, k).astype(int) - 1, 0, k - 1)]
    rec = recommended[recommended >= 0]
    return {
        "precision": float(np.mean(n_hits / k)),
        "recall": float(np.mean(np.where(relevant > 0, n_hits / np.maximum(relevant, 1), 0.0))),
        "ndcg": float(np.mean(np.where(relevant > 0, dcg / idcg, 0.0))),
        "coverage": float(len(np.unique(rec)) / n_items) if n_items else 0.0,
        "customers": int(n),
    }
