"""The report's chart functions: every takeaway pinned on hand-made data, every chart a valid
Vega-Lite specification (``to_dict`` validates against the schema)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.app import charts
from personae.app.charts import Figure
from personae.journeys.funnel import step_rows
from personae.journeys.paths import NO_TOUCHES, top_paths


def valid(fig: Figure) -> str:
    spec = fig.chart.to_dict()  # raises on an invalid specification
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert fig.takeaway and fig.takeaway.endswith(".")
    return fig.takeaway


def test_pct_words() -> None:
    assert charts.pct(0.083) == "8%"
    assert charts.pct(0.0004) == "<1%"
    assert charts.pct(0.0) == "0%"
    assert charts.pct(None) == "n/a"
    assert charts.signed(12.4) == "+12" and charts.signed(-3.0) == "-3"
    assert charts.amount(1234.5) == "1,234" and charts.amount(12.5) == "12.50"


def test_segment_share_names_the_top_revenue_segment() -> None:
    rows = [
        {"segment": "Champions", "customers": 8, "revenue": 410.0},
        {"segment": "Loyal Customers", "customers": 42, "revenue": 390.0},
        {"segment": "Lost", "customers": 50, "revenue": 200.0},
    ]
    assert valid(charts.segment_share(rows)) == "Champions are 8% of customers and 41% of revenue."
    no_money = [{**r, "revenue": 0.0} for r in rows]
    assert valid(charts.segment_share(no_money)) == "Lost is the largest segment (50%); no revenue yet."


def test_clv_distribution_top_tiers_and_best_median() -> None:
    segs = [
        {"segment": "A", "customers": 10, "p10": 1, "p25": 2, "p50": 30, "p75": 40, "p90": 50},
        {"segment": "B", "customers": 90, "p10": 1, "p25": 2, "p50": 3, "p75": 4, "p90": 5},
    ]
    tiers = [
        {"tier": "top1", "customers": 1, "clv": 100.0},
        {"tier": "top10", "customers": 9, "clv": 300.0},
        {"tier": "top25", "customers": 15, "clv": 100.0},
        {"tier": "rest", "customers": 75, "clv": 500.0},
    ]
    assert valid(charts.clv_distribution(segs, tiers)) == (
        "The top 10% of customers by CLV hold 40% of predicted 12-month value; "
        "the median CLV is highest among A (30.00)."
    )


def test_rfm_grid_recent_and_quiet_shares() -> None:
    cells = [
        {"r_score": 5, "fm_score": 5, "customers": 30, "segment": "Champions"},
        {"r_score": 4, "fm_score": 2, "customers": 10, "segment": "Potential Loyalist"},
        {"r_score": 3, "fm_score": 3, "customers": 20, "segment": "Need Attention"},
        {"r_score": 1, "fm_score": 1, "customers": 40, "segment": "Lost"},
    ]
    assert valid(charts.rfm_grid(cells)) == (
        "40% of customers bought recently (R 4–5) and 40% have gone quiet (R 1–2); "
        "the biggest cell is R1/FM1 (Lost, 40%)."
    )


def test_funnel_finds_the_biggest_relative_drop() -> None:
    steps = [
        {"step": "view", "customers": 1000},
        {"step": "cart", "customers": 800},  # 20% leave
        {"step": "checkout", "customers": 200},  # 75% leave: the biggest
        {"step": "order", "customers": 150},  # 25% leave
    ]
    assert valid(charts.funnel_dropoffs(steps, "f")) == (
        "The biggest drop-off is cart → checkout: 75% of customers do not go on (600); 15% reach order."
    )
    assert valid(charts.funnel_dropoffs([{"step": "view", "customers": 0}], "f")) == (
        "No customer entered this funnel."
    )


def _funnel_report(
    counts: list[int], median_hours: float | None, within_hours: float | None
) -> dict[str, Any]:
    names = ["product_view", "add_to_cart", "checkout_started", "order"][: len(counts)]
    row = {f"reached{k + 1}": n for k, n in enumerate(counts)}
    return {
        "funnel": names,
        "within_hours": within_hours,
        "steps": step_rows(row, names),
        "time_to_convert": {
            "p25_hours": None,
            "p50_hours": median_hours,
            "p75_hours": None,
            "p90_hours": None,
        },
        "groups": [],
    }


def test_journey_funnel_says_the_drop_and_the_time_to_convert() -> None:
    fig = charts.journey_funnel(_funnel_report([400, 300, 120, 100], 26.0, 168.0))
    assert valid(fig) == (
        "The biggest drop-off is add_to_cart → checkout_started: 60% of customers do not go on (180); "
        "25% reach order, half of them within 26 h of their product_view."
    )
    assert (
        fig.chart.to_dict()["title"]
        == "product_view → add_to_cart → checkout_started → order (within 7 days)"
    )
    # nobody finished: no time to quote; no window: said so in the title
    fig = charts.journey_funnel(_funnel_report([50, 10, 0, 0], None, None))
    assert valid(fig).endswith("0% reach order.")
    assert "(no time limit)" in fig.chart.to_dict()["title"]
    assert valid(charts.journey_funnel(_funnel_report([0, 0, 0, 0], None, 24.0))) == (
        "No customer entered this funnel."
    )
    assert [charts.duration(h) for h in (0.05, 3.25, 30.0, 100.0)] == ["3 min", "3.2 h", "30 h", "4.2 days"]


def _paths_report(common: list[tuple[str, int, int]], outcome: str = "order") -> dict[str, Any]:
    rows = [
        {"path": p, "reached": hit, "customers": n}
        for p, total, reached in common
        for hit, n in ((True, reached), (False, total - reached))
        if n
    ]
    return {"outcome": outcome, "lookback_days": 30.0, "length": 5, **top_paths(rows, 20)}


def test_journey_paths_quotes_the_top_path_and_the_best_and_worst_converting() -> None:
    report = _paths_report(
        [
            ("page_view → product_view", 100, 30),
            ("store_visit", 60, 45),
            (NO_TOUCHES, 40, 2),
            ("email_open → page_view", 5, 5),  # converts best, but too few to quote
        ]
    )
    fig = charts.journey_paths(report)
    assert valid(fig) == (
        "82 of 205 customers (40%) made a first order; the most common path there is store_visit (55% of "
        "them). Of the common paths, store_visit converts best (75%) and no tracked touch in the 30 days "
        "before worst (5%)."
    )
    spec = fig.chart.to_dict()
    assert spec["title"] == "Paths to order: the 4 most common (last 30 days before)"
    # everyone converted: no best/worst; another outcome reads in its own words
    fig = charts.journey_paths(_paths_report([("app_open", 20, 20), ("search", 10, 10)], "repeat"))
    assert valid(fig) == (
        "All 30 customers (100%) made a second order; the most common path there is app_open (67% of them)."
    )
    assert valid(charts.journey_paths(_paths_report([], "checkout_started"))) == (
        "No paths to checkout_started: nobody in the data has a path that could lead there "
        "(checkout_started events are needed)."
    )
    # the reason names what the outcome needs (no NPS answers on an orders-only shop)
    assert "(NPS answers are needed)" in charts.journey_paths(_paths_report([], "detractor")).takeaway


def _group(seg: str, nps: float | None, small: bool = False) -> dict[str, Any]:
    ci = None if nps is None else [nps - 10, nps + 10]
    return {
        "segment": seg,
        "n": 10 if small else 200,
        "small": small,
        "nps": nps,
        "nps_ci": ci,
        "nps_n": 200,
        "csat": 80.0,
        "csat_ci": [75.0, 85.0],
        "ces": 5.5,
        "ces_ci": [5.3, 5.7],
        "trust": None,
        "trust_ci": None,
    }


def test_experience_takeaway_ignores_small_groups() -> None:
    overall = {"nps": 12.0, "nps_ci": [7.0, 17.0], "nps_n": 640}
    groups = [_group("Champions", 45.0), _group("Lost", -20.0), _group("Tiny", 99.0, small=True)]
    assert valid(charts.experience_by_segment(groups, overall)) == (
        "NPS runs from -20 (Lost) to +45 (Champions) among segments with enough answers; "
        "overall NPS +12 ± 5 from 640 respondents."
    )
    one = valid(charts.experience_by_segment([_group("Champions", 45.0), _group("T", 5.0, True)], overall))
    assert one.startswith("Only Champions has enough answers to judge (NPS +45)")
    none = valid(charts.experience_by_segment([_group("T", 5.0, True)], overall))
    assert none.startswith("Every segment has too few answers to compare")


def test_migration_flow_stayed_share_and_largest_move() -> None:
    report = {
        "from": "2026-03-31",
        "to": "2026-06-30",
        "flows": [
            {"from": "Champions", "to": "Champions", "customers": 50},
            {"from": "Champions", "to": "At Risk", "customers": 10},
            {"from": "At Risk", "to": "Lost", "customers": 25},
            {"from": "At Risk", "to": "At Risk", "customers": 15},
            {"from": "(none)", "to": "Champions", "customers": 0},
        ],
    }
    assert valid(charts.migration_flow(report)) == (
        "65% of customers stayed in their segment from 2026-03-31 to 2026-06-30; "
        "the largest move was At Risk → Lost (25 customers)."
    )


def test_cluster_map_largest_and_richest() -> None:
    points = [{"pc1": float(i), "pc2": float(-i), "cluster": f"{i % 2}: c{i % 2}"} for i in range(10)]
    clusters = [
        {"cluster": 0, "name": "Bargain hunters", "share": 0.7, "revenue_share": 0.3},
        {"cluster": 1, "name": "Big spenders", "share": 0.3, "revenue_share": 0.7},
    ]
    assert valid(charts.cluster_map(points, clusters, (0.5, 0.2))) == (
        "2 clusters; the largest, Bargain hunters, holds 70% of customers, "
        "while Big spenders brings the most revenue (70%)."
    )


def test_segments_by_region_focus() -> None:
    rows = [
        {"region": "North", "segment": "Champions", "customers": 30},
        {"region": "North", "segment": "Lost", "customers": 70},
        {"region": "South", "segment": "Champions", "customers": 10},
        {"region": "South", "segment": "Can't Lose Them", "customers": 90},
    ]
    takeaway = valid(charts.segments_by_region(rows, ["Champions", "Can't Lose Them", "Lost"]))
    assert (
        takeaway
        == "Champions are most common in North (30% of its customers, against 20% overall) across 2 regions."
    )


def test_store_performance_correlation_words() -> None:
    rows = [
        {
            "store_id": f"S{i}",
            "name": f"Store {i}",
            "region": "R",
            "floor_area_sqm": 100.0,
            "sales": 100.0 * i,
            "sales_per_sqm": float(i),
            "customers": 5,
            "mean_clv": 10.0 * i,
        }
        for i in range(1, 5)
    ]
    assert valid(charts.store_performance(rows)) == (
        "Store 4 sells the most per m² (4.00, 4 stores); stores whose customers are worth more sell more "
        "per m² (r = 1.00)."
    )
    none = [{**r, "sales_per_sqm": None} for r in rows]
    assert valid(charts.store_performance(none)) == "No store has both sales and a floor area."


def test_recommendation_evaluation_quotes_the_default_model() -> None:
    report = {
        "k": 10,
        "customers_evaluated": 306,
        "default_model": "ease",
        "models": [
            {
                "model": "popularity",
                "precision": 0.01,
                "recall": 0.04,
                "ndcg": 0.025,
                "ndcg_vs_popularity": 1.0,
            },
            {"model": "ease", "precision": 0.08, "recall": 0.31, "ndcg": 0.27, "ndcg_vs_popularity": 10.6},
        ],
    }
    assert valid(charts.recommendation_evaluation(report)) == (
        "ease (the default) finds 31% of held-out purchases in its top 10 for 306 customers, "
        "10.6× the popularity baseline's NDCG."
    )


def _effect(metric: str, d: float, lo: float, hi: float) -> dict[str, Any]:
    direction = "up" if lo > 0 else "down" if hi < 0 else "unclear"
    return {"metric": metric, "difference": d, "low": lo, "high": hi, "direction": direction}


def test_playbook_impact_names_earners() -> None:
    reports = [
        {
            "playbook": "abandoned_cart",
            "verdict": "It earns money with no measured harm to trust.",
            "effects": [_effect("conversion", 0.05, 0.01, 0.09), _effect("revenue_per_customer", 8, 2, 14)],
        },
        {
            "playbook": "winback",
            "verdict": "No effect.",
            "effects": [_effect("conversion", 0.0, -0.02, 0.02), _effect("revenue_per_customer", 1, -3, 5)],
        },
    ]
    assert valid(charts.playbook_impact(reports)) == (
        "2 playbooks measured; abandoned_cart measurably raises revenue. "
        "abandoned_cart: It earns money with no measured harm to trust."
    )
    assert valid(charts.playbook_impact([])) == "No playbook has been activated yet."


def _theme(
    name: str, n: int, share: float, neg: float, trend: list[tuple[str, int, float]]
) -> dict[str, Any]:
    return {
        "theme": name,
        "n": n,
        "share": share,
        "negative": neg,
        "neutral": 0.0,
        "positive": 1 - neg,
        "sentiment": 0.0,
        "trend": [{"month": m, "n": k, "sentiment": s} for m, k, s in trend],
    }


def test_voice_takeaways() -> None:
    themes = [
        _theme("delivery", 60, 0.6, 0.5, [("2026-01", 10, -0.5), ("2026-02", 10, 0.0), ("2026-03", 40, 0.5)]),
        _theme("price", 40, 0.4, 0.8, [("2026-01", 10, -0.5), ("2026-03", 10, 0.5)]),
    ]
    assert valid(charts.voice_themes(themes)) == (
        "The most discussed theme is delivery (60% of texts, 50% negative); price is the most negative (80%)."
    )
    # first month: (-5 - 5) / 20 = -0.5; last month: (20 + 5) / 50 = +0.5
    assert valid(charts.voice_trend(themes)) == (
        "Mean sentiment rose from -0.50 (2026-01) to +0.50 (2026-03), on a −1…+1 scale."
    )
    segs = [
        {
            "segment": "Lost",
            "texts": 5,
            "sentiment": -0.4,
            "themes": [{"theme": "price", "n": 3, "sentiment": -0.5}],
        },
        {
            "segment": "Champions",
            "texts": 9,
            "sentiment": 0.6,
            "themes": [{"theme": "delivery", "n": 9, "sentiment": 0.6}],
        },
    ]
    assert valid(charts.voice_by_segment(segs)) == (
        "Lost write the most negatively (mean -0.40, most often about price); "
        "Champions the most positively (+0.60)."
    )


@settings(deadline=None, max_examples=40)  # altair's schema validation is slow on a busy machine
@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=12)
)
def test_segment_share_shares_sum_to_one(sizes: list[tuple[int, float]]) -> None:
    """Whatever the sizes, each measure's shares add up to 1 (or 0 when nothing is there)."""
    rows = [{"segment": f"s{i}", "customers": c, "revenue": r} for i, (c, r) in enumerate(sizes)]
    data = charts.segment_share(rows).chart.to_dict()["datasets"]
    (values,) = data.values()
    for measure, total in (("customers", sum(c for c, _ in sizes)), ("revenue", sum(r for _, r in sizes))):
        s = sum(v["share"] for v in values if v["measure"] == measure)
        assert s == pytest.approx(1.0 if total else 0.0)
