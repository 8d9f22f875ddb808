"""Lifecycle stage and RFM scores that agree with each other and with the customer's rhythm."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from personae.config.traits import DEFAULT_RFM_RULES, LifecycleSettings, RfmSettings
from personae.traits.lifecycle import lifecycle_stage
from personae.traits.rfm import contradictions, rfm_scores, rfm_segment

COLUMNS = ["customer_id", "frequency", "recency_days", "monetary", "days_since_first_order",
           "avg_days_between_orders", "p_alive"]  # fmt: skip


def _run(rows: list[tuple[object, ...]], rfm: RfmSettings | None = None) -> pd.DataFrame:
    t = ibis.memtable(pd.DataFrame(rows, columns=COLUMNS))
    t = t.mutate(**rfm_scores(t, rfm))
    t = t.mutate(**rfm_segment(t, list(DEFAULT_RFM_RULES)))
    t = t.mutate(lifecycle_stage=lifecycle_stage(t, LifecycleSettings()))
    return ibis.duckdb.connect().execute(t).set_index("customer_id")


# a shop whose repeat buyers come back every 200 days: 500 days is 2.5 gaps, within the
# rhythm's lapse limit (3 gaps) — only the one-order rule lapses the one-time buyer
SLOW_SHOP = [
    ("repeat1", 4, 30, 400.0, 900, 200.0, 0.9),
    ("repeat2", 3, 100, 300.0, 700, 200.0, 0.8),
    ("repeat3", 5, 60, 500.0, 1000, 200.0, 0.95),
]


def test_a_one_time_buyer_seen_500_days_ago_is_lapsed_even_with_p_alive_one() -> None:
    # BG/NBD gives every one-time buyer P(alive) = 1: it must not keep them alive
    out = _run([*SLOW_SHOP, ("once", 1, 500, 50.0, 500, None, 1.0)])
    assert out.loc["once", "lifecycle_stage"] == "lapsed"


def test_a_repeat_buyer_with_the_same_silence_follows_their_rhythm() -> None:
    # 500 days for someone who buys every 200 days is 2.5 gaps: at risk, not lapsed
    out = _run([*SLOW_SHOP, ("steady", 4, 500, 400.0, 1200, 200.0, 0.6)])
    assert out.loc["steady", "lifecycle_stage"] == "at_risk"


def test_a_recent_one_time_buyer_is_judged_by_the_shops_rhythm() -> None:
    out = _run([*SLOW_SHOP, ("once", 1, 350, 50.0, 350, None, 1.0), ("fresh", 1, 120, 50.0, 120, None, 1.0)])
    assert out.loc["once", "lifecycle_stage"] == "at_risk"  # 1.75 typical gaps
    assert out.loc["fresh", "lifecycle_stage"] == "active"  # 0.6 typical gaps


def test_a_low_p_alive_lapses_a_one_time_buyer() -> None:
    # a model that can tell (Pareto/NBD, MBG/NBD) lapses them sooner
    out = _run([*SLOW_SHOP, ("once", 1, 200, 50.0, 200, None, 0.1)])
    assert out.loc["once", "lifecycle_stage"] == "lapsed"


def _base(n_stale: int) -> list[tuple[object, ...]]:
    """Repeat buyers every 50 days; most of the base stale (≈ 400 days), a few recent."""
    rows: list[tuple[object, ...]] = [(f"r{i}", 6, 20 + i, 1000.0 + i, 600, 50.0, 0.9) for i in range(5)]
    rows += [(f"s{i}", 3, 400 + i, 100.0 + i, 900, 50.0, 0.3) for i in range(n_stale)]
    return rows


def test_quantile_recency_calls_the_freshest_fifth_recent_however_stale() -> None:
    out = _run(_base(20))
    # 25 buyers: the top fifth by recency is the 5 recent ones; the next stale ones get R = 4
    assert (out.loc[[f"r{i}" for i in range(5)], "r_score"] == 5).all()
    assert out.loc["s0", "r_score"] == 4  # 400 days silent, 8 of their 50-day gaps: still "R = 4"


def test_absolute_recency_windows_follow_the_shops_typical_gap() -> None:
    out = _run(_base(20), RfmSettings(scoring="absolute"))
    # typical gap 50 days: R = 5 up to 50, 4 up to 75, 3 up to 100, 2 up to 150, then 1
    assert (out.loc[[f"r{i}" for i in range(5)], "r_score"] == 5).all()
    assert (out.loc[[f"s{i}" for i in range(20)], "r_score"] == 1).all()
    recency = {"a": 50, "b": 51, "c": 75, "d": 100, "e": 150, "f": 151}
    rows = [(k, 3, v, 1.0, 600, 50.0, 0.9) for k, v in recency.items()]
    windows = _run(rows, RfmSettings(scoring="absolute"))
    assert windows["r_score"].to_dict() == {"a": 5, "b": 4, "c": 4, "d": 3, "e": 2, "f": 1}
    prospect = _run([("p", 0, None, None, None, None, None), *SLOW_SHOP], RfmSettings(scoring="absolute"))
    assert pd.isna(prospect.loc["p", "r_score"])


def test_absolute_champions_are_never_past_the_lapse_threshold() -> None:
    out = _run(_base(20), RfmSettings(scoring="absolute"))
    champions = out[out.rfm_segment == "Champions"]
    assert len(champions) and (champions.lifecycle_stage != "lapsed").all()


def test_recency_windows_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        RfmSettings(recency_windows=(1.0, 3.0, 2.0, 4.0))


def test_contradictions_name_the_segment_in_words() -> None:
    rows = [
        {"segment": "Loyal Customers", "customers": 2792, "median_recency": 340.0, "lapsed": 1528},
        {"segment": "Champions", "customers": 5889, "median_recency": 82.0, "lapsed": 1122},
        {"segment": "Lost", "customers": 100, "median_recency": 60.0, "lapsed": 0},
        {"segment": "My own", "customers": 10, "median_recency": 999.0, "lapsed": 10},
    ]
    said = contradictions(rows, typical_gap_days=82.5, lapse_days=247.5, active_days=123.75)
    assert len(said) == 2
    assert said[0].startswith('"Loyal Customers": median recency 340 days, past the lapse threshold of 248')
    assert "1,528 of 2,792 (55%) are lapsed" in said[0] and "scoring: absolute" in said[0]
    assert said[1].startswith('"Lost": median recency 60 days, within the active window of 124 days')
