"""Recommendations on MovieLens-small: every model's figures, fit time and latency per customer.

The `recommend evaluate` protocol on real ratings (../shared/datasets/movielens-small/ratings.csv,
read directly so the figures measure the models, not the database): each person's latest 20% of
ratings held out by time; what they rated in training is neither a candidate nor counted;
relevant = rated 4 of 5 or more, NDCG's gain = the stars. The baselines are the standard ones
(popularity of unseen items, implicit's ALS with its defaults, shrunk-cosine item-kNN, EASE on
all items); ``personae`` is the default: the model and parameters chosen on a validation split
carved from the training part, learning from the stars (``star_weights``), its lists ranked by
the function that serves recommendations (``ranking.rank``, from the same input), so
*ms/customer* of the default is a served list's latency. Each figure has its
95% bootstrap interval; ratios are against popularity and ALS measured in the same run.
Usage: python benchmarks/bench_recommend.py [path/to/ratings.csv]

``--scale [customers]`` measures training and batch ranking (export) at scale instead: synthetic
interactions (~12 per customer over 2,000 items, skewed popularity), pure domain code.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from personae.app.recommend import _choose, _measure, _prepare
from personae.config.personalize import RecommendSettings
from personae.devtools.movielens import ratings_interactions
from personae.personalize.models import EASE, ItemKNN
from personae.personalize.ranking import Catalogue, Customers, group_popularity, item_features, rank

DEFAULT = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "movielens-small" / "ratings.csv"
)


def scale(n: int = 200_000, items: int = 2_000, per: int = 12, chunk: int = 5_000) -> None:
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


def main(path: Path = DEFAULT) -> None:
    if not path.is_file():
        print(f"MovieLens-small not found at {path}: skipped (pass the path to ratings.csv)")
        return
    inter, stars = ratings_interactions(path)
    ratings = len(inter.customer)
    settings = RecommendSettings()
    data = _prepare(inter, stars, settings)
    print(
        f"MovieLens-small: {inter.n_customers:,} people, {inter.n_items:,} films, {ratings:,} ratings; "
        f"{len(data.held.customers):,} evaluated; left out {data.held.left_out}; "
        f"protocol {data.held.protocol}"
    )
    rows = []
    for name, params in [
        ("popularity", {}),
        ("als", {}),
        ("item_knn", {"knn_neighbours": settings.knn_neighbours}),
        ("ease", {"ease_regularization": settings.ease_regularization}),
    ]:
        rows.append(_measure(data, name, params, settings, 10))
    t = time.perf_counter()
    chosen, _tried, _ = _choose(data.train_inter, stars, settings, 10, lambda step, fraction: None)
    choose_s = time.perf_counter() - t
    name = str(chosen.pop("model"))
    rows.append(_measure(data, name, chosen, settings, 10, default=True))
    pop = rows[0]["ndcg"]
    als = rows[1]["ndcg"]
    head = f"{'model':12s} {'NDCG@10 [95%]':24s} {'recall@10':10s} {'precision@10':12s}"
    print(head + " ÷pop  ÷ALS  fit s  ms/customer")
    for r in rows:
        lo, hi = r["ndcg_interval"]
        label = r["model"] + (f" ({r['chosen']})" if "chosen" in r else "")
        print(
            f"{r['model']:12s} {r['ndcg']:.4f} [{lo:.4f}, {hi:.4f}]  {r['recall']:.4f}     "
            f"{r['precision']:.4f}       {r['ndcg'] / pop:.2f}  {r['ndcg'] / als:.2f}  "
            f"{r['fit_seconds']:6.1f}  {r['ms_per_customer']:.3f}"
            + (
                ""
                if label == r["model"]
                else f"\n             chosen on validation: {label} in {choose_s:.0f}s"
            )
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--scale":
        scale(int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
