"""Segment validation statistics pinned against hand computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from personae.experience.validation import (
    chi_square,
    conclude,
    dunn,
    effect_label,
    exclusive_groups,
    holm,
    kruskal_wallis,
)


def test_holm_by_hand() -> None:
    # sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.9, 0.8]).tolist() == [1.0, 1.0]
    assert holm([]).tolist() == []


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_never_below_raw_and_at_most_one(p: list[float]) -> None:
    adj = holm(p)
    assert np.all(adj >= np.asarray(p) - 1e-12) and np.all(adj <= 1.0)


def test_chi_square_and_cramers_v_by_hand() -> None:
    # table [[10, 20], [30, 40]]: expected 12, 18, 28, 42 → χ² = 0.79365
    groups = ["a"] * 30 + ["b"] * 70
    values = ["yes"] * 10 + ["no"] * 20 + ["yes"] * 30 + ["no"] * 40
    r = chi_square("x", groups, values)
    chi2 = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42
    assert r.statistic == pytest.approx(chi2)
    assert r.df == 1
    assert r.p == pytest.approx(stats.chi2.sf(chi2, 1))
    assert r.effect == pytest.approx(math.sqrt(chi2 / 100))
    assert r.groups == {"a": 30, "b": 70}
    assert r.summary["a"] == {"no": pytest.approx(66.67), "yes": pytest.approx(33.33)}


def test_chi_square_pairs_are_holm_adjusted() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b", "c"], 200)
    p_yes = np.repeat([0.2, 0.5, 0.52], 200)
    values = np.where(rng.random(600) < p_yes, "yes", "no")
    r = chi_square("x", groups, values)
    raw = [q.p for q in r.pairs]
    assert [q.p_adjusted for q in r.pairs] == pytest.approx(holm(raw).tolist())
    assert {(q.a, q.b) for q in r.pairs} == {("a", "b"), ("a", "c"), ("b", "c")}
    ref = stats.chi2_contingency(pd.crosstab(groups[:400], values[:400]).to_numpy(), correction=False)
    assert r.pairs[0].statistic == pytest.approx(ref[0])


def test_kruskal_and_dunn_by_hand() -> None:
    groups = np.repeat(["A", "B", "C"], 3)
    values = np.arange(1.0, 10.0)
    r = kruskal_wallis("score", groups, values)
    # mean ranks 2, 5, 8: H = 12/90 · 3 · (4 + 25 + 64) − 30 = 7.2; eta² = (7.2 − 2) / 6
    assert r.statistic == pytest.approx(7.2)
    assert r.effect == pytest.approx(5.2 / 6)
    assert r.p == pytest.approx(stats.chi2.sf(7.2, 2))
    pairs = {(q.a, q.b): q for q in r.pairs}
    # σ = √(9·10/12 · (1/3 + 1/3)) = √5
    assert pairs["A", "B"].statistic == pytest.approx(-3 / math.sqrt(5))
    assert pairs["A", "C"].statistic == pytest.approx(-6 / math.sqrt(5))
    p_ab, p_ac = 2 * stats.norm.sf(3 / math.sqrt(5)), 2 * stats.norm.sf(6 / math.sqrt(5))
    assert pairs["A", "B"].p == pytest.approx(p_ab)
    assert pairs["A", "C"].p_adjusted == pytest.approx(3 * p_ac)
    assert pairs["A", "B"].p_adjusted == pytest.approx(2 * p_ab)
    assert pairs["B", "C"].p_adjusted == pytest.approx(2 * p_ab)  # monotone step-down


@given(
    st.lists(st.integers(0, 4), min_size=3, max_size=40), st.lists(st.integers(0, 4), min_size=3, max_size=40)
)
def test_dunn_with_two_groups_equals_kruskal_with_ties(a: list[int], b: list[int]) -> None:
    # with two groups Dunn's z² is the tie-corrected Kruskal-Wallis H (scipy's)
    values = np.array(a + b, dtype=float)
    if np.ptp(values) == 0:
        return
    groups = np.array(["a"] * len(a) + ["b"] * len(b))
    (pair,) = dunn(groups, values, ["a", "b"])
    h = stats.kruskal(a, b).statistic
    assert pair.statistic**2 == pytest.approx(h, rel=1e-9)


def test_degenerate_inputs_are_reported_not_crashed() -> None:
    one = kruskal_wallis("x", ["a", "a"], [1.0, 2.0])
    assert one.p is None and "two segments" in one.notes[0]
    same = kruskal_wallis("x", ["a", "b"], [3.0, 3.0])
    assert same.p == 1.0 and same.effect == 0.0
    flat = chi_square("x", ["a", "b"], ["yes", "yes"])
    assert flat.p is None
    (res,) = conclude([one])
    assert res.verdict.startswith("cannot test x")


def test_verdicts_in_words() -> None:
    groups = np.repeat(["A", "B"], 100)
    strong = kruskal_wallis("nps", groups, np.r_[np.full(100, 2.0), np.full(100, 9.0)] + np.arange(200) % 3)
    none = kruskal_wallis("ces", groups, np.tile(np.arange(1.0, 6.0), 40))
    conclude([strong, none])
    assert strong.verdict.startswith("segments differ strongly on nps (eta² = ")
    assert "p < 0.001" in strong.verdict
    assert none.verdict.startswith("no evidence that segments differ on ces")
    assert none.strength == "none" and strong.strength == "strongly"
    # omnibus p-values are Holm-adjusted across questions
    # (Holm: the smaller p is doubled, the larger kept, as it is already above it)
    assert strong.p_adjusted == pytest.approx(2 * strong.p)
    assert none.p_adjusted == pytest.approx(none.p)


def test_effect_labels_follow_cohen() -> None:
    assert effect_label(0.005, (0.01, 0.06, 0.14)) == "negligibly"
    assert effect_label(0.01, (0.01, 0.06, 0.14)) == "slightly"
    assert effect_label(0.1, (0.01, 0.06, 0.14)) == "moderately"
    assert effect_label(0.2, (0.01, 0.06, 0.14)) == "strongly"


def test_exclusive_groups_leave_out_overlaps() -> None:
    m = pd.DataFrame({"segment": ["A", "B", "A", "B", "C"], "customer_id": ["x", "x", "y", "z", "x"]})
    g, overlap = exclusive_groups(m, ["A", "B"])
    assert sorted(zip(g.segment, g.customer_id, strict=True)) == [("A", "y"), ("B", "z")]
    assert overlap == 1
