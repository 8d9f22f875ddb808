"""Ratings (explicit feedback) on MovieLens-small: the same model with and without the verdicts.

The yardstick is measured in the same run: EASE on each rater's earlier 80% of ratings (the
``evaluate`` time split), fitted and ranked twice — on the plain history, and on what serving
fits and scores on with ratings (``scoring_input``: each rated film weighs stars − centre, a like
at least twice its purchase weight; disliked films excluded and never cited) — scored against the
held-out 20%:
NDCG@10 on any held-out film, NDCG@10 on the held-out films rated ≥ 4★, and the share of top-10
slots the rater went on to rate ≤ 2★. Stars are known only from the training part.

Usage: python benchmarks/bench_feedback.py [DATASETS folder]  (default ../shared/datasets);
several minutes on 2 cores (the EASE fit inverts a 9,742 × 9,742 matrix).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from personae.app import recommend
from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.config.personalize import RecommendSettings
from personae.personalize.evaluation import metrics
from personae.personalize.feedback import Feedback
from personae.personalize.interactions import time_split
from personae.personalize.ranking import Customers, group_popularity, history_preferences, rank
from personae.store import DuckDBStore


def main(datasets: Path) -> None:
    ml = datasets / "movielens-small"
    s = RecommendSettings()
    with tempfile.TemporaryDirectory() as tmp, DuckDBStore.open(Path(tmp) / "ml.duckdb") as store:
        ingest_file(
            store,
            "orders",
            ml / "ratings.csv",
            mapping={"customer_id": "userId", "product_id": "movieId", "ordered_at": "timestamp"},
            constants={"amount": "0"},
        )
        ingest_file(
            store,
            "products",
            ml / "movies.csv",
            mapping={"product_id": "movieId", "name": "title", "category": "genres"},
            list_sep="|",
        )
        as_of = last_data_date(store)
        inter = recommend.load_interactions(store, as_of)
        catalogue = recommend.load_catalogue(store, inter.item_ids)
        stars = recommend.load_ratings(store, as_of)
    split = time_split(inter, s.holdout_share)
    shape = (inter.n_customers, inter.n_items)
    cust = pd.Index(inter.customer_ids).get_indexer(pd.Index(stars["customer_id"].astype(str)))
    item = pd.Index(inter.item_ids).get_indexer(pd.Index(stars["product_id"].astype(str)))
    at = stars["at"].to_numpy(np.int64)
    stars_5 = stars["stars"].to_numpy(float)
    # a rating is an order line: it is known in training when its line is
    tr = split.train
    seen = set(zip(tr.customer.tolist(), tr.item.tolist(), tr.at.tolist(), strict=True))
    known = np.array([(c, i, a) in seen for c, i, a in zip(cust, item, at, strict=True)])
    before = Feedback.of(cust[known], item[known], stars_5[known], at[known], shape)
    after = Feedback.of(cust[~known], item[~known], stars_5[~known], at[~known], shape)
    train, purchased = tr.matrix((s.purchase_weight, s.cart_weight, s.view_weight)), tr.purchases()
    # the stars known at training time, each rater's latest per film
    rated = pd.DataFrame({"c": cust[known], "i": item[known], "at": at[known], "s": stars_5[known]})
    rated = rated.sort_values(["at", "s"], ascending=[True, False]).drop_duplicates(["c", "i"], keep="last")
    train_stars = sp.csr_matrix((rated["s"].to_numpy(), (rated["c"], rated["i"])), shape=shape)
    groups, _ = group_popularity(purchased, [], [], s.group_min_buyers)
    prefs = history_preferences(purchased, catalogue.features, s.preference_min_strength)
    c = split.customers
    test = split.test[c]
    print(f"MovieLens-small: {len(c):,} raters evaluated, {inter.n_items:,} films")
    print(f"{'input':18s} {'NDCG@10':>8s} {'NDCG@10 liked':>14s} {'later panned':>13s} {'fit s':>6s}")
    for name, feedback in (("without verdicts", None), ("with verdicts", before)):
        history = (
            train
            if feedback is None
            else recommend.scoring_input(train, train_stars, s.star_centre, s.liked_weight)
        )
        started = time.perf_counter()
        model = recommend.make(s).fit(history)
        fit = time.perf_counter() - started
        who = Customers(
            history[c],
            purchased[c],
            np.ones(len(c), dtype=bool),
            prefs[c],
            np.zeros(len(c), dtype=np.int64),
            c,
            None if feedback is None else feedback.rows(c),
        )
        items = rank(
            model,
            who,
            catalogue,
            groups,
            np.zeros(inter.n_items, dtype=bool),
            k=10,
            preference_weight=s.preference_weight,
            explain=False,
        ).items
        liked = after.liked[c].astype(np.float32).multiply(test).tocsr()
        panned = after.disliked[c].astype(np.float32).multiply(test).tocsr()
        every = metrics(items, test, inter.n_items)["ndcg"]
        on_liked = metrics(items, liked, inter.n_items)["ndcg"]
        later_panned = metrics(items, panned, inter.n_items)["precision"]
        print(f"{name:18s} {every:8.4f} {on_liked:14.4f} {later_panned:12.2%} {fit:6.1f}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
