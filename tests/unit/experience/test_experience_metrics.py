"""Experience metrics pinned on hand-made answer sets (values worked out by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from personae.config.experience import NetTrustWeights
from personae.experience.metrics import ces, csat, net_score, net_trust_score, nps, wilson
from personae.experience.scales import normalise

Z95 = 1.959963984540054


def test_nps_balanced_set() -> None:
    # promoters 10, 9, 10, 9; passives 8, 7; detractors 6, 0, 5, 3
    r = nps([10, 9, 8, 7, 6, 0, 10, 9, 5, 3])
    assert (r.n, r.top, r.middle, r.bottom) == (10, 4, 2, 4)
    assert r.score == 0.0
    # SE = 100 * sqrt((0.4 + 0.4 - 0²) / 10) = 100 * sqrt(0.08)
    assert r.se == pytest.approx(28.284271, abs=1e-6)
    # adjusted Wald: n' = 13, p' = d' = 4.75 / 13; var' = (9.5 / 13) / 13
    half = 100 * Z95 * math.sqrt(9.5 / 13 / 13)
    assert half == pytest.approx(46.4694, abs=1e-4)
    assert r.ci == pytest.approx((-half, half))


def test_nps_all_promoters_has_a_real_interval() -> None:
    r = nps([9, 10, 10, 9, 10])
    assert r.score == 100.0 and r.se == 0.0
    # n' = 8, p' = 5.75/8 = 0.71875, d' = 0.75/8 = 0.09375, centre 0.625
    var = (0.71875 + 0.09375 - 0.625**2) / 8
    assert r.ci is not None
    assert r.ci[0] == pytest.approx(100 * (0.625 - Z95 * math.sqrt(var)))
    assert r.ci[0] == pytest.approx(17.4915, abs=1e-4)
    assert r.ci[1] == 100.0  # clipped


def test_nps_all_detractors_and_no_answers() -> None:
    assert nps([0, 3, 6]).score == -100.0
    empty = nps([])
    assert empty.n == 0 and empty.score is None and empty.se is None and empty.ci is None
    assert nps([np.nan, np.nan]).score is None


def test_nps_boundaries_of_categories() -> None:
    r = nps([6.99, 7, 8.99, 9])
    assert (r.top, r.middle, r.bottom) == (1, 2, 1)


def test_nps_standard_error_is_the_trinomial_one() -> None:
    # independent route: the SE of the mean of +1/0/−1 codes
    x = np.array([10, 10, 10, 9, 8, 7, 7, 2, 4, 6, 9, 10])
    codes = np.select([x >= 9, x >= 7], [1.0, 0.0], -1.0)
    r = nps(x)
    assert r.score == pytest.approx(100 * codes.mean())
    assert r.se == pytest.approx(100 * codes.std(ddof=0) / math.sqrt(len(x)))


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_net_score_within_bounds(top: int, middle: int, bottom: int) -> None:
    r = net_score(top, middle, bottom)
    if top + middle + bottom == 0:
        assert r.score is None
        return
    assert r.score is not None and r.ci is not None
    assert -100 <= r.score <= 100
    assert -100 <= r.ci[0] <= r.ci[1] <= 100
    assert r.se is not None and r.se >= 0


def test_csat_top_two_box_and_wilson_matches_scipy() -> None:
    r = csat([5, 4, 3, 2, 1, 5, 4, 4])
    assert (r.n, r.hits, r.percent) == (8, 5, 62.5)
    ref = stats.binomtest(5, 8).proportion_ci(0.95, method="wilson")
    assert r.ci == pytest.approx((100 * ref.low, 100 * ref.high))
    assert csat([]).percent is None
    assert wilson(0, 10).ci is not None and wilson(0, 10).ci[0] == 0.0  # type: ignore[index]


def test_ces_mean_share_and_net_ease() -> None:
    x = [7, 6, 5, 4, 3, 1, 7, 2]
    r = ces(x)
    assert r.mean == pytest.approx(35 / 8)
    ref = stats.t.interval(0.95, 7, loc=np.mean(x), scale=stats.sem(x))
    assert r.mean_ci == pytest.approx(ref)
    assert r.agree_percent == pytest.approx(50.0)  # 7, 6, 5, 7
    assert r.net_ease.score == pytest.approx(100 * (4 - 3) / 8)  # disagree: 3, 1, 2
    assert ces([4]).mean_ci is None
    assert ces([]).mean is None and ces([]).net_ease.score is None


def test_net_trust_score_weights_and_missing_parts() -> None:
    w = NetTrustWeights(nps=0.4, ces=0.3, trust=0.3)
    assert net_trust_score(50, 20, -10, w) == pytest.approx(0.4 * 50 + 0.3 * 20 + 0.3 * -10)
    # trust missing: weights 0.4 and 0.3 rescaled to 4/7 and 3/7
    assert net_trust_score(50, 20, None, w) == pytest.approx((0.4 * 50 + 0.3 * 20) / 0.7)
    assert net_trust_score(None, None, None, w) is None
    assert net_trust_score(None, 10, None, NetTrustWeights(nps=1, ces=0, trust=0)) is None
    with pytest.raises(ValueError):
        NetTrustWeights(nps=0, ces=0, trust=0)


@given(
    st.one_of(st.none(), st.floats(-100, 100)),
    st.one_of(st.none(), st.floats(-100, 100)),
    st.one_of(st.none(), st.floats(-100, 100)),
)
def test_net_trust_score_stays_in_range(a: float | None, b: float | None, c: float | None) -> None:
    v = net_trust_score(a, b, c)
    assert v is None or -100 - 1e-9 <= v <= 100 + 1e-9


def test_normalise_other_scales() -> None:
    # CSAT asked 1–10: 10 → 5, 1 → 1; CES asked 1–5: 5 → 7; NPS asked 0–5: 5 → 10
    assert normalise("csat", [10, 1], 10).tolist() == [5.0, 1.0]
    assert normalise("ces", [5, 3], 5).tolist() == [7.0, 4.0]
    assert normalise("nps", [5, 0], 5).tolist() == [10.0, 0.0]
    assert normalise("nps", [7], np.nan).tolist() == [7.0]  # unknown scale: the default
    with pytest.raises(ValueError):
        normalise("custom", [1], 10)


def test_tiny_samples_keep_the_score_inside_the_interval() -> None:
    # one promoter: adjusted Wald alone gives [−48.5, 98.5]; widened to include 100
    r = nps([10])
    assert r.ci is not None
    assert r.ci[0] == pytest.approx(100 * (0.25 - Z95 * 0.375))
    assert r.ci[1] == 100.0
