"""Cluster profiles: effect sizes, NPS, revenue share and generated names."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from personae.clusters import naming
from personae.clusters.features import select_features
from personae.clusters.naming import name_clusters, name_from
from personae.clusters.profiles import effect_sizes, nps_score, profile_clusters


def shop() -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.DataFrame(
        {
            "recency_days": [400, 500, 450, 10, 20, 15],
            "frequency": [1, 1, 1, 10, 12, 8],
            "monetary": [50.0, 30.0, 20.0, 300.0, 400.0, 200.0],
            "clv_12m": [1.0, 2.0, np.nan, 100.0, 200.0, 300.0],
            "latest_nps": [2, np.nan, 6, 10, 9, 7],
            "region": ["North", "North", "South", "South", "South", "South"],
        }
    )
    return df, np.array([0, 0, 0, 1, 1, 1])


def test_effect_size_is_cohens_d_on_the_clustering_scale() -> None:
    df, labels = shop()
    effects = effect_sizes(select_features("recency"), df, labels)
    a, b = np.log1p([400, 500, 450]), np.log1p([10, 20, 15])
    pooled = np.sqrt((2 * a.var(ddof=1) + 2 * b.var(ddof=1)) / 4)
    (e,) = effects[0]
    assert e.effect == pytest.approx((a.mean() - b.mean()) / pooled, abs=1e-3)
    assert e.mean_in == pytest.approx(450.0) and e.mean_out == pytest.approx(15.0)
    assert effects[1][0].effect == pytest.approx(-e.effect, abs=1e-3)


def test_levels_use_cohens_h() -> None:
    df, labels = shop()
    effects = {e.column: e for e in effect_sizes(select_features("region"), df, labels)[0]}
    h = 2 * np.arcsin(np.sqrt(2 / 3)) - 2 * np.arcsin(0.0)
    assert effects["region=North"].effect == pytest.approx(h, abs=1e-3)


def test_nps() -> None:
    assert nps_score(pd.Series([10, 9, 8, 3, np.nan])) == pytest.approx(25.0)
    assert nps_score(pd.Series([np.nan])) is None


def test_profiles() -> None:
    df, labels = shop()
    profiles = profile_clusters(select_features("recency,frequency,monetary"), df, labels, names={1: "Best"})
    p0, p1 = profiles
    assert (p0.size, p1.size) == (3, 3)
    assert p0.revenue_share == pytest.approx(100 / 1000)
    assert p0.avg_clv == pytest.approx(1.5)  # unknown CLV left out
    assert p0.nps == pytest.approx(-100 * 2 / 2)  # two answers, both detractors
    assert p1.nps == 66.7  # 2 promoters of 3 answers, rounded to 0.1
    assert p1.name == "Best" and p1.generated_name != "Best"
    assert p0.generated_name.startswith("Lapsed") or "one-time" in p0.generated_name.lower()
    assert p0.generated_name != p1.generated_name


def test_names() -> None:
    assert doctest.testmod(naming).failed == 0
    effects = [("frequency", "frequency", 2.0), ("region=North", "region", 0.9), ("gender=f", "gender", 0.3)]
    assert name_from(effects) == "Frequent North customers"
    assert name_from([("recency", "recency", 0.1)]) == "Typical customers"
    assert name_from([("recency", "recency", 0.3)]) == "Lapsed customers (slight)"
    taken = ["Lapsed frequent high-spending customers"]
    four = [
        ("recency", "recency", 3.0),
        ("frequency", "frequency", 2.0),
        ("monetary", "monetary", 1.0),
        ("aov", "aov", 0.7),
    ]
    assert name_from(four, taken) == "Lapsed frequent high-spending big-basket customers"


def test_demographics_and_taste_name_clusters() -> None:
    women = [
        ("gender=female", "gender", 1.57),
        ("age_band=25-34", "age_band", 0.8),
        ("taste:Drama", "taste", 0.9),
    ]
    assert name_from(women) == "Women aged 25-34 who love Drama"
    # names keep to segment-name characters: no commas (``--segments A,B`` splits on them)
    assert name_from([("taste:Rock, Pop", "taste", 1.0)]) == "Rock Pop lovers"
    tastes = [
        ("taste:Drama", "taste", 2.3),
        ("taste:Comedy|Romance", "taste", 1.1),
        ("taste:War", "taste", 0.9),
    ]
    assert name_from(tastes) == "Drama and Comedy/Romance lovers"  # two tastes at most, no "Customers,"
    assert (
        name_from([("taste:Drama", "taste", -2.0), ("engagement", "engagement", 0.8)]) == "Engaged customers"
    )


def test_the_issue_case_women_and_men_are_not_typical_customers_2() -> None:
    """Real data: two clusters, 100% women and 100% men, were "Typical customers" and "… #2"."""
    names = name_clusters(
        {
            0: [
                ("gender=female", "gender", 1.57),
                ("gender=male", "gender", -1.57),
                ("recency", "recency", 0.1),
            ],
            1: [
                ("gender=male", "gender", 1.57),
                ("gender=female", "gender", -1.57),
                ("recency", "recency", -0.1),
            ],
        },
        {0: 600, 1: 400},
    )
    assert names == {0: "Women", 1: "Men"}


def test_clusters_that_read_the_same_say_what_differs() -> None:
    same = [("recency", "recency", 1.0)]
    names = name_clusters(
        {0: [*same, ("frequency", "frequency", 0.1)], 1: [*same, ("frequency", "frequency", -0.1)]},
        {0: 9, 1: 5},
    )
    assert names == {0: "Lapsed customers", 1: "Lapsed customers (less frequent)"}
    identical = name_clusters({0: same, 1: same}, {0: 9, 1: 5})
    assert identical == {0: "Lapsed customers", 1: "Lapsed customers #2"}


def test_described_but_not_clustered() -> None:
    df, labels = shop()
    df["gender"] = ["female"] * 3 + ["male"] * 3
    profiles = profile_clusters(select_features("recency"), df, labels, describing=select_features("gender"))
    gender = {e.column: e for e in profiles[0].distinguishing if e.feature == "gender"}
    assert not gender["gender=female"].clustered and profiles[0].distinguishing[0].clustered
    assert [p.generated_name for p in profiles] == ["Lapsed women", "Recent men"]


def test_names_that_differ_only_in_word_order_clash() -> None:
    """CDNOW: "Recent high-value frequent" and "High-value recent frequent" said the same."""
    names = name_clusters(
        {
            3: [("recency", "recency", -1.7), ("clv", "clv", 1.0), ("frequency", "frequency", 0.9)],
            7: [
                ("clv", "clv", 3.5),
                ("recency", "recency", -3.2),
                ("frequency", "frequency", 3.1),
                ("monetary", "monetary", 2.5),
            ],
        },
        {3: 2713, 7: 2013},
    )
    assert names[3] == "Recent high-value frequent customers"
    assert names[7] == "High-value recent frequent high-spending customers"
