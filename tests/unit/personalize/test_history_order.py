"""The order of a history: transitions (what people turn to next) and recency weights, and
how ranking blends them without breaking the feedback rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from personae.personalize.feedback import Feedback
from personae.personalize.models import Recommender, recency_mask, recency_weighted, transitions
from personae.personalize.ranking import Catalogue, Customers, group_popularity, item_features, rank


class Fixed(Recommender):
    name = "fixed"

    def __init__(self, weights: np.ndarray) -> None:
        self._w = np.asarray(weights, dtype=np.float32)
        self.n_items_ = self._w.shape[0]

    @property
    def weights_(self) -> Any:
        return self._w


def test_transitions_follow_time_not_item_codes_and_weigh_what_came_next():
    # person 0: 2 then 0 then 1; person 1: 2 then 1
    T = transitions(
        np.array([0, 0, 0, 1, 1]), np.array([1, 0, 2, 1, 2]), np.array([3, 2, 1, 9, 5]), 3, window=1
    )
    got = T.toarray()
    assert got[2, 0] > 0 and got[0, 1] > 0 and got[2, 1] > 0  # forward steps only
    assert got[0, 2] == 0 and got[1, 0] == 0
    # 2 → 1 happened once at distance 1 (person 1): 1 / sqrt(2 people × 2 people)
    assert got[2, 1] == pytest.approx(0.5)


def test_a_step_to_something_not_liked_counts_less():
    c, i, at = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 2]), np.array([1, 2, 1, 2])
    T = transitions(c, i, at, 3, window=1, target_weight=np.array([1.0, 1.0, 1.0, 0.3]))
    assert T[0, 1] == pytest.approx(T[0, 2] / 0.3)


def test_a_repeated_item_sits_where_it_was_last_touched():
    # 0 at t1, 1 at t2, 0 again at t3: the sequence is 1, 0
    m = recency_mask(np.zeros(3, int), np.array([0, 1, 0]), np.array([1, 2, 3]), (1, 2), last=5, decay=0.5)
    assert m.toarray().tolist() == [[1.0, 0.5]]
    T = transitions(np.zeros(3, int), np.array([0, 1, 0]), np.array([1, 2, 3]), 2, window=3)
    assert T[1, 0] > 0 and T[0, 1] == 0


def test_older_items_weigh_less_down_to_the_floor_and_keep_their_sign():
    h = sp.csr_matrix(np.array([[1.0, -1.0, 1.0, 1.0]], dtype=np.float32))  # item 3: rated, never seen
    m = recency_mask(np.zeros(3, int), np.array([0, 1, 2]), np.array([3, 2, 1]), (1, 4), 10, 0.5, floor=0.5)
    got = recency_weighted(h, m, 0.5).toarray()[0]
    assert got.tolist() == [1.0, -0.75, 0.625, 0.5]


def catalogue(n: int) -> Catalogue:
    cat = np.array([""] * n, dtype=object)
    features, names = item_features(cat, cat, [[] for _ in range(n)])
    ids = np.arange(n).astype(str)
    return Catalogue(ids, ids.astype(object), cat, features, names)


def test_rank_blends_what_follows_the_latest_items_and_a_dislike_stays_out():
    # the model prefers item 1; people who did item 0 last went on to item 2, then item 3
    W = np.zeros((4, 4), dtype=np.float32)
    W[0, 1] = 1.0
    W[0, 2] = 0.5
    W[0, 3] = 0.5
    T = sp.csr_matrix(np.array([[0, 0, 1.0, 0.8], [0] * 4, [0] * 4, [0] * 4], dtype=np.float32))
    h = sp.csr_matrix(np.array([[1.0, 0, 0, 0]], dtype=np.float32))
    groups, _ = group_popularity(h, [], [], 1)
    base = Customers(h, h, np.ones(1, bool), sp.csr_matrix((1, 0)), np.zeros(1, np.int64))
    rebuy = np.zeros(4, bool)
    plain = rank(Fixed(W), base, catalogue(4), groups, rebuy, k=3, transitions=T)
    assert plain.items[0, 0] == 1  # no recent part given: the model alone
    who = Customers(**{**base.__dict__, "recent": h, "sequence_weight": 1.0})
    ranked = rank(Fixed(W), who, catalogue(4), groups, rebuy, k=3, transitions=T)
    assert ranked.items[0, 0] == 2
    # the reason still names the history item, never a disliked one
    assert ranked.because is not None and ranked.because[0, 0] == 0
    panned = Feedback.of_stars(sp.csr_matrix(np.array([[0, 0, 1.0, 0]])))
    who = Customers(**{**who.__dict__, "feedback": panned})
    ranked = rank(Fixed(W), who, catalogue(4), groups, rebuy, k=3, transitions=T)
    assert 2 not in ranked.items[0] and ranked.items[0, 0] == 3
