"""Survey sample sizes (Cochran with finite population correction), allocation and draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.experience.sampling import (
    allocate,
    assign_strata,
    draw_sample,
    margin_of_error,
    sample_size,
    stratified_margin,
)


def test_textbook_sample_sizes() -> None:
    # n0 = 1.96² · 0.25 / 0.05² = 384.15 → 385 for a huge population
    assert sample_size(10_000_000, 0.05, 0.95) == 385
    # N = 1000: 384.146 / (1 + 383.146 / 1000) = 277.7 → 278 (the usual table value)
    assert sample_size(1000, 0.05, 0.95) == 278
    # N = 100 → 80 (384.146 / 4.83146 = 79.5)
    assert sample_size(100, 0.05, 0.95) == 80
    # 99 % and ±3 %: n0 = 2.5758² · 0.25 / 0.0009 = 1843.03 → 1844 without the correction;
    # the FPC at N = 10M takes it to 1842.69 → 1843
    assert sample_size(10_000_000, 0.03, 0.99) == 1843
    assert sample_size(10**15, 0.03, 0.99) == 1844
    # NPS (variance 1 on −1…1): ±5 points needs four times as many
    assert sample_size(10_000_000, 0.05, 0.95, variance=1.0) == 1537
    assert sample_size(0, 0.05, 0.95) == 0
    assert sample_size(3, 0.05, 0.95) == 3  # never more than everyone
    with pytest.raises(ValueError):
        sample_size(100, 0, 0.95)
    with pytest.raises(ValueError):
        sample_size(100, 0.05, 1.0)


def test_proportional_allocation_adds_up() -> None:
    pops = {"a": 5000, "b": 3000, "c": 2000}
    total = sample_size(10_000, 0.05, 0.95)  # 370
    out = allocate(pops, 0.05, 0.95, allocation="proportional")
    assert sum(out.values()) == total == 370
    assert out == {"a": 185, "b": 111, "c": 74}
    per = allocate(pops, 0.05, 0.95)
    assert per == {h: sample_size(n, 0.05, 0.95) for h, n in pops.items()}


def test_first_listed_segment_wins() -> None:
    m = pd.DataFrame({"segment": ["B", "A", "A", "C"], "customer_id": ["x", "x", "y", "z"]})
    s = assign_strata(m, ["A", "B"])
    assert dict(zip(s.customer_id, s.stratum, strict=True)) == {"x": "A", "y": "A"}


def _frame(sizes: list[int], eligible_share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(f"{h}{i:05d}", f"s{h}") for h, n in enumerate(sizes) for i in range(n)]
    f = pd.DataFrame(rows, columns=["customer_id", "stratum"])
    f["eligible"] = rng.random(len(f)) < eligible_share
    return f


def test_draw_is_reproducible_and_weighted() -> None:
    f = _frame([1000, 200], 1.0, 0)
    a = draw_sample(f, ["s0", "s1"], 0.05, 0.95, response_rate=1.0, seed=7)
    b = draw_sample(f, ["s0", "s1"], 0.05, 0.95, response_rate=1.0, seed=7)
    c = draw_sample(f, ["s0", "s1"], 0.05, 0.95, response_rate=1.0, seed=8)
    pd.testing.assert_frame_equal(a.sample, b.sample)
    assert not a.sample.customer_id.equals(c.sample.customer_id)
    plan = {p.stratum: p for p in a.plan}
    assert plan["s0"].contacts == 278 and plan["s0"].weight == pytest.approx(1000 / 278)
    assert plan["s1"].contacts == sample_size(200, 0.05, 0.95) == 132
    # weights add up to the stratum populations
    assert a.sample.groupby("stratum").weight.sum().to_dict() == pytest.approx({"s0": 1000, "s1": 200})


def test_short_stratum_takes_everyone_eligible() -> None:
    f = _frame([400], 0.2, 1)
    r = draw_sample(f, ["s0"], 0.05, 0.95, response_rate=0.2)
    (p,) = r.plan
    assert p.short and p.contacts == p.eligible == int(f.eligible.sum())
    assert set(r.sample.customer_id) == set(f.customer_id[f.eligible])


def test_response_rate_inflates_contacts() -> None:
    f = _frame([100_000], 1.0, 2)
    (p,) = draw_sample(f, ["s0"], 0.05, 0.95, response_rate=0.25).plan
    assert p.wanted == 383 and p.contacts == math.ceil(383 / 0.25)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 600), min_size=1, max_size=4),
    st.floats(0.0, 1.0),
    st.sampled_from([0.03, 0.05, 0.1]),
    st.sampled_from(["segment", "proportional"]),
    st.integers(0, 10_000),
)
def test_sample_respects_allocation(
    sizes: list[int], share: float, margin: float, allocation: str, seed: int
) -> None:
    f = _frame(sizes, share, seed)
    order = [f"s{h}" for h in range(len(sizes))]
    r = draw_sample(f, order, margin, 0.95, response_rate=1.0, allocation=allocation, seed=seed)  # type: ignore[arg-type]
    frames = {h: int((f.eligible & (f.stratum == h)).sum()) for h in order}  # the FPC's N: who can be drawn
    wanted = allocate(frames, margin, 0.95, allocation=allocation)  # type: ignore[arg-type]
    counts = r.sample.stratum.value_counts().to_dict()
    assert not r.sample.customer_id.duplicated().any()
    eligible = set(f.customer_id[f.eligible])
    assert set(r.sample.customer_id) <= eligible  # only eligible customers are drawn
    for p in r.plan:
        assert counts.get(p.stratum, 0) == p.contacts == wanted[p.stratum] <= p.eligible
        assert not p.short  # everyone answers, and the sizes are over the eligible
        members = set(f.customer_id[f.stratum == p.stratum])
        assert set(r.sample.customer_id[r.sample.stratum == p.stratum]) <= members


def test_margin_of_error_is_cochran_solved_for_the_margin() -> None:
    # 100 answers of 500: 1.96 · √(0.25 · 400 / (100 · 499)) = 0.087740
    assert margin_of_error(100, 500, 0.95) == pytest.approx(1.959964 * math.sqrt(0.25 * 400 / (100 * 499)))
    assert margin_of_error(100, 500, 0.95) == pytest.approx(0.087740, abs=1e-6)
    assert margin_of_error(0, 500, 0.95) is None and margin_of_error(500, 500, 0.95) == 0.0
    for population in (50, 278, 1000, 10_000, 10**7):
        for margin in (0.03, 0.05, 0.1):
            n = sample_size(population, margin, 0.95)
            assert margin_of_error(n, population, 0.95) <= margin + 1e-12  # the size reaches it
            if 1 < n < population:
                assert margin_of_error(n - 1, population, 0.95) > margin  # and is the smallest that does


def test_stratified_margin_by_hand() -> None:
    # strata of 600 and 400 eligible, 100 and 50 answers: W = 0.6, 0.4
    var = 0.6**2 * 0.25 * 500 / (100 * 599) + 0.4**2 * 0.25 * 350 / (50 * 399)
    assert stratified_margin([(600, 100), (400, 50)], 0.95) == pytest.approx(1.959964 * math.sqrt(var))
    assert stratified_margin([(600, 100), (400, 0)], 0.95) is None  # a stratum nobody answers


def test_sizes_correction_and_weights_count_only_who_can_be_drawn() -> None:
    """1,000 members, 500 eligible, 20 % expected to answer (known answers by hand).

    Answers wanted: 384.146 / (1 + 383.146 / 500) = 217.5 → 218 (the FPC over the 500, not the
    1,000 members, which would want 278); invitations 218 / 0.2 = 1,090 > 500: everyone
    eligible is invited, the stratum is short, 100 answers are expected: ±8.77 points, and
    ±12.6 if only 50 answer. Each invited customer stands for 500 / 500 = 1 eligible customer.
    """
    f = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(1000)], "stratum": "s"})
    f["eligible"] = np.arange(1000) < 500
    r = draw_sample(f, ["s"], 0.05, 0.95, response_rate=0.2, seed=1)
    (p,) = r.plan
    assert (p.population, p.eligible, p.wanted, p.contacts) == (1000, 500, 218, 500)
    assert p.short and p.expected_answers == pytest.approx(100)
    assert p.expected_margin == pytest.approx(0.087740, abs=1e-6)
    assert p.margin_if_half_answer == pytest.approx(1.959964 * math.sqrt(0.25 * 450 / (50 * 499)), rel=1e-6)
    assert p.weight == 1.0 and r.sample["weight"].sum() == pytest.approx(500)
    assert r.overall_margin == pytest.approx(p.expected_margin)
    # a 50 % response: 218 / 0.5 = 436 invitations, 218 answers expected: the margin is met
    (q,) = draw_sample(f, ["s"], 0.05, 0.95, response_rate=0.5, seed=1).plan
    assert (q.contacts, q.short, q.weight) == (436, False, pytest.approx(500 / 436))
    assert q.expected_margin is not None and q.expected_margin <= 0.05
