"""Survey sample sizes (Cochran with finite population correction), allocation and draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.experience.sampling import allocate, assign_strata, draw_sample, sample_size


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
    a = draw_sample(f, ["s0", "s1"], 0.05, 0.95, seed=7)
    b = draw_sample(f, ["s0", "s1"], 0.05, 0.95, seed=7)
    c = draw_sample(f, ["s0", "s1"], 0.05, 0.95, seed=8)
    pd.testing.assert_frame_equal(a.sample, b.sample)
    assert not a.sample.customer_id.equals(c.sample.customer_id)
    plan = {p.stratum: p for p in a.plan}
    assert plan["s0"].contacts == 278 and plan["s0"].weight == pytest.approx(1000 / 278)
    assert plan["s1"].contacts == sample_size(200, 0.05, 0.95) == 132
    # weights add up to the stratum populations
    assert a.sample.groupby("stratum").weight.sum().to_dict() == pytest.approx({"s0": 1000, "s1": 200})


def test_short_stratum_takes_everyone_eligible() -> None:
    f = _frame([400], 0.2, 1)
    r = draw_sample(f, ["s0"], 0.05, 0.95)
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
    r = draw_sample(f, order, margin, 0.95, allocation=allocation, seed=seed)  # type: ignore[arg-type]
    wanted = allocate(dict(zip(order, sizes, strict=True)), margin, 0.95, allocation=allocation)  # type: ignore[arg-type]
    counts = r.sample.stratum.value_counts().to_dict()
    assert not r.sample.customer_id.duplicated().any()
    eligible = set(f.customer_id[f.eligible])
    assert set(r.sample.customer_id) <= eligible  # only eligible customers are drawn
    for p in r.plan:
        assert counts.get(p.stratum, 0) == p.contacts == min(wanted[p.stratum], p.eligible)
        assert p.short == (p.eligible < wanted[p.stratum])
        members = set(f.customer_id[f.stratum == p.stratum])
        assert set(r.sample.customer_id[r.sample.stratum == p.stratum]) <= members
