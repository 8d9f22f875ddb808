"""Explicit feedback: stars on one scale, the stars' weights, what is never recommended nor cited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from personae.personalize.feedback import Feedback, five_stars
from personae.personalize.models import Recommender, star_weights
from personae.personalize.ranking import Catalogue, Customers, Groups, group_popularity, item_features, rank


class Fixed(Recommender):
    """An item-item model with given weights (what EASE or item-kNN would have learned)."""

    name = "fixed"

    def __init__(self, weights: np.ndarray) -> None:
        self._w = np.asarray(weights, dtype=np.float32)
        self.n_items_ = self._w.shape[0]

    @property
    def weights_(self) -> Any:
        return self._w


#: items: 0 "Pet Detective", 1 "When Nature Calls" (its sequel), 2 "Alien", 3 "Aliens",
#: 4 "Toy Story"; the sequel hangs on its original, Aliens on Alien
NAMES = np.array(["Pet Detective", "When Nature Calls", "Alien", "Aliens", "Toy Story"], dtype=object)
W = np.zeros((5, 5), dtype=np.float32)
W[0, 1] = 0.9  # the original → its sequel
W[2, 3] = 0.6  # Alien → Aliens
W[0, 4] = 0.1
W[2, 4] = 0.1


def catalogue() -> Catalogue:
    category = np.array(["Comedy", "Comedy", "Horror", "Action", "Animation"])
    features, feature_names = item_features(category, np.array([""] * 5), [[] for _ in range(5)])
    return Catalogue(np.array(["344", "19", "1214", "1200", "1"]), NAMES, category, features, feature_names)


def groups(purchased: sp.csr_matrix) -> Groups:
    return group_popularity(purchased, [], [], 1)[0]


@dataclass(frozen=True)
class Rated(Feedback):
    """Verdicts with the stars they come from (what the history is weighed with)."""

    stars: sp.csr_matrix | None = None


def customers(history: np.ndarray, feedback: Rated | None, personal: bool = True) -> Customers:
    """The customers as serving scores them: the history with the stars' weights
    (``star_weights``, what ``scoring_input`` gives the item models) and their verdicts."""
    h = sp.csr_matrix(np.asarray(history, dtype=np.float32))
    bought = sp.csr_matrix((h > 0).astype(np.float32))
    n = h.shape[0]
    return Customers(
        history=h if feedback is None else star_weights(h, feedback.stars),
        purchased=bought,
        personal=np.full(n, personal),
        preferences=sp.csr_matrix((n, catalogue().features.shape[1]), dtype=np.float32),
        group=np.zeros(n, dtype=np.int64),
        feedback=feedback,
    )


def verdicts(stars: dict[int, float], n_items: int = 5, people: int = 1) -> Rated:
    """Person 0's stars (item → stars of 5) and their verdicts; the other people rated nothing."""
    s = np.zeros((people, n_items))
    for item, v in stars.items():
        s[0, item] = v
    m = sp.csr_matrix(s)
    f = Feedback.of_stars(m)
    return Rated(f.liked, f.disliked, f.rated, m)


def test_scales_are_read_as_a_share_of_their_top():
    got = five_stars(np.array([0.5, 5.0, 3.0, 10.0, 2.0, np.nan, 4.0]), np.array([5, 5, 10, 10, 5, 5, 0]))
    assert got[:5].tolist() == [0.5, 5.0, 1.5, 5.0, 2.0]
    assert np.isnan(got[5:]).all()  # unknown score, or a scale without a top


@pytest.mark.parametrize(
    ("stars", "liked", "disliked"),
    [(2.0, False, True), (2.5, False, False), (3.0, False, False), (4.0, True, False), (0.5, False, True)],
)
def test_verdict_thresholds_on_five_stars(stars, liked, disliked):
    f = verdicts({0: stars})
    assert (f.liked[0, 0], f.disliked[0, 0], f.rated[0, 0]) == (liked, disliked, True)


def test_the_latest_rating_is_the_verdict_and_a_tie_keeps_the_dislike():
    f = Feedback.of(
        np.array([0, 0, 0, 0]),
        np.array([0, 0, 1, 1]),
        np.array([5.0, 1.0, 5.0, 1.0]),
        np.array([1, 2, 3, 3]),
        (1, 2),
    )
    assert f.disliked.toarray().tolist() == [[True, True]]
    assert not f.liked.toarray().any()


def test_a_disliked_original_pulls_its_sequel_down_and_is_never_the_reason():
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])  # saw the original and Alien
    cat, model = catalogue(), Fixed(W)
    plain = rank(model, customers(history, None), cat, groups(sp.csr_matrix(history)), np.zeros(5, bool), k=3)
    assert plain.items[0, 0] == 1 and plain.reasons[0, 0] == "because you bought Pet Detective"
    disliked = verdicts({0: 1.0})
    ranked = rank(
        model, customers(history, disliked), cat, groups(sp.csr_matrix(history)), np.zeros(5, bool), k=3
    )
    assert ranked.items[0, 0] == 3  # Aliens now leads
    assert ranked.reasons[0, 0] == "because you bought Alien" and ranked.because is not None
    assert ranked.because[0, 0] == 2
    assert 0 not in ranked.because[0]
    assert not any("Pet Detective" in r for r in ranked.reasons[0])


def test_liked_items_weigh_more_than_plain_purchases():
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])
    cat, model = catalogue(), Fixed(W)
    ranked = rank(
        model,
        customers(history, verdicts({2: 5.0})),
        cat,
        groups(sp.csr_matrix(history)),
        np.zeros(5, bool),
        k=2,
    )
    # 2 × 0.6 for Aliens beats 0.9 for the sequel
    assert ranked.items[0].tolist() == [3, 1]
    assert ranked.reasons[0, 0] == "because you liked Alien"
    assert ranked.reasons[0, 1] == "because you bought Pet Detective"


def test_a_negative_weight_never_makes_a_disliked_item_the_reason():
    # EASE learns negative weights: minus × minus would make the disliked item the top contributor
    w = W.copy()
    w[0, 4] = -0.8
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])
    ranked = rank(
        Fixed(w),
        customers(history, verdicts({0: 1.0})),
        catalogue(),
        groups(sp.csr_matrix(history)),
        np.zeros(5, bool),
        k=5,
    )
    assert ranked.because is not None
    toy = list(ranked.items[0]).index(4)
    assert ranked.because[0, toy] == 2 and ranked.reasons[0, toy] == "because you bought Alien"
    assert 0 not in ranked.because[0]


def test_a_disliked_item_is_never_recommended_even_where_bought_items_come_back():
    # re-bought categories (groceries) bring bought items back; a viewed one comes back by itself
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.5]])
    rebuy = np.ones(5, dtype=bool)
    model = Fixed(W)
    model.self_weight = 3.0
    plain = rank(model, customers(history, None), catalogue(), groups(sp.csr_matrix(history)), rebuy, k=5)
    assert {0, 4} <= set(plain.items[0].tolist())
    ranked = rank(
        model,
        customers(history, verdicts({0: 2.0, 4: 1.0})),
        catalogue(),
        groups(sp.csr_matrix(history)),
        rebuy,
        k=5,
    )
    assert not {0, 4} & set(ranked.items[0].tolist())
    assert (ranked.items[0] >= 0).sum() == 3  # the rest is padding, not a disliked item


def test_because_names_the_cited_product_and_is_empty_for_popularity():
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.0], [0.0] * 5])
    f = verdicts({2: 5.0}, people=2)
    ranked = rank(
        Fixed(W),
        customers(history, f),
        catalogue(),
        groups(sp.csr_matrix(history[:1])),
        np.zeros(5, bool),
        k=3,
    )
    assert ranked.because is not None
    for r, c in zip(*np.nonzero(ranked.items >= 0), strict=True):
        reason, cited = ranked.reasons[r, c], ranked.because[r, c]
        if reason.startswith("because you"):
            assert reason.endswith(str(NAMES[cited]))
        else:
            assert cited == -1 and reason == "popular right now"
    assert (ranked.because[1] == -1).all()  # no history: popularity, nothing cited


def test_without_consent_nothing_of_the_person_is_used_not_even_their_stars():
    history = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])
    ranked = rank(
        Fixed(W),
        customers(history, verdicts({0: 1.0}), personal=False),
        catalogue(),
        groups(sp.csr_matrix(np.ones((1, 5)))),
        np.zeros(5, bool),
        k=5,
    )
    assert ranked.because is not None and (ranked.because == -1).all()
    assert set(ranked.reasons[0]) == {"popular right now"}


def test_a_rating_of_something_never_bought_here_is_a_reason_in_its_own_words():
    # a 3★ review of Alien (bought elsewhere): a known pair weighing almost nothing (3 − 3),
    # still enough to lead to Aliens, and cited as rated
    history = np.array([[0.0, 0.0, 0.0, 0.0, 0.0]])
    ranked = rank(
        Fixed(W),
        customers(history, verdicts({2: 3.0})),
        catalogue(),
        groups(sp.csr_matrix(np.ones((1, 5)))),
        np.zeros(5, bool),
        k=1,
    )
    assert ranked.items[0, 0] == 3 and ranked.reasons[0, 0] == "because you rated Alien"
    assert ranked.because is not None and ranked.because[0, 0] == 2


def test_every_star_centre_tune_may_choose_keeps_a_dislike_negative():
    """`tune` chooses the centre the stars are weighed from (`star_centre`); whatever it
    chooses, a 2★ film must still pull what resembles it down (issue 23.2)."""
    from pydantic import ValidationError

    from personae.app.recommend import TUNING_GRID, scoring_input
    from personae.config.personalize import RecommendSettings

    h = sp.csr_matrix(np.array([[0.7, 0.7, 0.7]], dtype=np.float32))
    st = sp.csr_matrix(np.array([[2.0, 4.0, 0.0]]))
    for name in ("ease", "item_knn"):
        for centre in TUNING_GRID[name]["star_centre"]:
            row = scoring_input(h, st, RecommendSettings(star_centre=centre).star_centre).toarray()[0]
            assert row[0] < 0 < row[1]
            assert row[2] == pytest.approx(0.7)  # unrated: its purchase weight
    with pytest.raises(ValidationError):
        RecommendSettings(star_centre=2.0)


def test_star_weights_keep_the_feedback_rules_whatever_the_centre():
    """The one input serving and evaluation score from: a dislike weighs negatively, a like at
    least ``liked_weight`` × its purchase weight (at centre 3 a 4★ item bought three times
    used to weigh 1, less than the same item unrated, log 4)."""
    from personae.personalize.models import star_weights

    h = sp.csr_matrix(np.array([[np.log(4.0), np.log(2.0), np.log(2.0), np.log(2.0)]], dtype=np.float32))
    s = sp.csr_matrix(np.array([[4.0, 1.0, 3.0, 0.0]]))
    got = star_weights(h, s, centre=3.0, liked_weight=2.0).toarray()[0]
    assert got[0] == pytest.approx(2 * np.log(4.0))
    assert got[1] == pytest.approx(-2.0)
    assert 0 < got[2] < 1e-3  # a 3★ pair stays known
    assert got[3] == pytest.approx(np.log(2.0))
    assert Feedback.of_stars(s).disliked.toarray()[0].tolist() == [False, True, False, False]


def test_rank_blends_repurchase_scores_and_honours_the_protocols_exclusions():
    h = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])
    base = customers(h, None)
    # the model's best is Aliens (3); a strong repurchase score for item 0, which is re-buyable
    repeat = sp.csr_matrix(np.array([[3.0, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32))
    rebuy = np.array([True, False, False, False, False])
    who = Customers(**{**base.__dict__, "repeat": repeat, "repeat_weight": 2.0})
    pop = groups(base.purchased)
    ranked = rank(Fixed(W), who, catalogue(), pop, rebuy, k=2, explain=False)
    assert ranked.items[0].tolist() == [0, 1]
    plain = rank(Fixed(W), base, catalogue(), pop, rebuy, k=2, explain=False)
    assert plain.items[0].tolist() == [1, 3]
    # the offline protocol's "already seen" leaves the item out, as its exclusions say
    ex = sp.csr_matrix(np.array([[0, 1, 0, 0, 0]], dtype=np.float32))
    who = Customers(**{**base.__dict__, "exclude": ex})
    assert 1 not in rank(Fixed(W), who, catalogue(), pop, rebuy, k=3, explain=False).items[0]
