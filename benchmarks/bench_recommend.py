"""Recommendations: training and batch ranking (export) time at scale, pure domain code.

Synthetic interactions (each customer ~12 interactions over a 2,000-item catalogue, skewed
popularity) so the numbers measure the ranking code, not the generator or the database.
Usage: python benchmarks/bench_recommend.py [customers]  (default 200,000; 1M runs in minutes).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import scipy.sparse as sp

from personae.personalize.models import EASE, ItemKNN
from personae.personalize.ranking import Catalogue, Customers, group_popularity, item_features, rank


def main(n: int = 200_000, items: int = 2_000, per: int = 12, chunk: int = 5_000) -> None:
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(n), per)
    cols = np.minimum(rng.zipf(1.3, n * per) - 1, items - 1)
    X = sp.csr_matrix((np.ones(n * per, np.float32), (rows, cols)), shape=(n, items))
    X.sum_duplicates()
    cats = np.array([f"c{i % 10}" for i in range(items)], dtype=object)
    feats, names = item_features(cats, np.array([""] * items, dtype=object), [[] for _ in range(items)])
    cat = Catalogue(np.arange(items).astype(str), np.arange(items).astype(str), cats, feats, names)
    groups, group = group_popularity(X, [], [], 20)
    rebuy = np.zeros(items, dtype=bool)
    prefs = sp.csr_matrix((n, len(names)), dtype=np.float32)
    for model in (EASE(200.0, 3.0), ItemKNN(100, self_weight=3.0)):
        t = time.perf_counter()
        model.fit(X)
        fit = time.perf_counter() - t
        t = time.perf_counter()
        for lo in range(0, n, chunk):
            s = slice(lo, min(lo + chunk, n))
            who = Customers(X[s], X[s], np.ones(s.stop - s.start, bool), prefs[s], group[s])
            rank(model, who, cat, groups, rebuy, k=10)
        ranked = time.perf_counter() - t
        print(
            f"{model.name:9s} customers {n:,} items {items:,}: fit {fit:.1f}s, rank top-10 with reasons "
            f"{ranked:.1f}s ({n / ranked:,.0f} customers/s; 1M ≈ {1e6 / (n / ranked) / 60:.1f} min)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
