"""The generator's buy-till-you-die story: a BG/NBD fit recovers the parameters it was drawn with."""

from __future__ import annotations

import numpy as np
import pytest

from personae.clv import BetaGeoModel
from personae.devtools.generate.btyd import BtydStory, repeat_purchases


def _summary(story: BtydStory, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam, p = story.draw(rng, n)
    T = rng.uniform(180.0, 1000.0, n)  # days each customer is watched after their first purchase
    owner, t = repeat_purchases(rng, lam, p, T)
    frequency = np.bincount(owner, minlength=n).astype(float)
    recency = np.zeros(n)
    np.maximum.at(recency, owner, t)
    return frequency, recency, T


@pytest.mark.parametrize(
    "story",
    [BtydStory(r=0.8, alpha=40.0, a=0.8, b=2.5), BtydStory(r=2.0, alpha=120.0, a=1.5, b=6.0)],
)
def test_a_bgnbd_fit_recovers_the_story_it_was_drawn_with(story: BtydStory) -> None:
    f, r, T = _summary(story, 20_000, seed=1)
    fitted = BetaGeoModel().fit(f, r, T).params_
    for name in ("r", "alpha", "a", "b"):
        assert fitted[name] == pytest.approx(getattr(story, name), rel=0.15), name


def test_the_fit_tells_two_stories_apart() -> None:
    """The recovery is not a tautology: a different story gives different estimates."""
    loyal = BetaGeoModel().fit(*_summary(BtydStory(r=0.8, alpha=40.0, a=0.8, b=8.0), 20_000, 2)).params_
    fickle = BetaGeoModel().fit(*_summary(BtydStory(r=0.8, alpha=40.0, a=0.8, b=1.0), 20_000, 2)).params_
    assert loyal["a"] / (loyal["a"] + loyal["b"]) < 0.5 * fickle["a"] / (fickle["a"] + fickle["b"])


def test_nobody_buys_after_the_window_or_after_dropping_out() -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    owner, t = repeat_purchases(rng, np.full(n, 0.1), np.ones(n), np.full(n, 50.0))
    assert (t <= 50.0).all()
    assert np.bincount(owner).max() == 1  # p = 1: gone after the first repeat purchase
    owner, _ = repeat_purchases(rng, np.full(n, 1.0), np.zeros(n), np.full(n, 50.0), max_repeats=7)
    assert np.bincount(owner).max() == 7


def test_regulars_make_their_first_repeat_purchases_before_they_can_leave() -> None:
    rng = np.random.default_rng(0)
    n = 200
    # a purchase a day for 1,000 days and a certain dropout: the story stops right after
    # the first repeat purchase that carries the dropout
    owner, _ = repeat_purchases(rng, np.ones(n), np.ones(n), np.full(n, 1000.0), loyal_for=3)
    assert (np.bincount(owner, minlength=n) == 4).all()
    owner, _ = repeat_purchases(rng, np.ones(n), np.ones(n), np.full(n, 1000.0))
    assert (np.bincount(owner, minlength=n) == 1).all()
