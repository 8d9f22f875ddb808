"""Pure parts: duration parsing, the Sankey layout, chart specifications."""

from __future__ import annotations

from datetime import timedelta

import pytest

from personae.errors import InputError
from personae.journeys.charts import flow_chart, funnel_chart, sankey_layout
from personae.journeys.touchpoints import parse_duration


@pytest.mark.parametrize(("text", "hours"), [("7d", 168), ("48h", 48), ("2w", 336), (" 1.5D ", 36)])
def test_durations(text: str, hours: float) -> None:
    assert parse_duration(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "3y", "d7"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(InputError, match="48h, 7d or 2w"):
        parse_duration(text)


def test_sankey_layout_conserves_flow() -> None:
    flows = [(["view", "cart", "✓"], 30), (["view", "✗"], 50), (["email", "✗"], 20)]
    layout = sankey_layout(flows, gap=0.0)
    nodes = {(n["col"], n["label"]): n for n in layout["nodes"]}
    assert nodes[(0, "view")]["size"] == pytest.approx(0.8)
    assert nodes[(1, "✗")]["size"] == pytest.approx(0.7)  # view → ✗ (50) and email → ✗ (20)
    # each node's outgoing links add up to its size (except the last column)
    out = {}
    for link in layout["links"]:
        out[(link["col"], link["source"])] = out.get((link["col"], link["source"]), 0) + link["size"]
    assert out[(0, "view")] == pytest.approx(0.8) and out[(1, "cart")] == pytest.approx(0.3)
    # bands leave a node from its top down without overlapping
    view_links = sorted((lk for lk in layout["links"] if lk["source"] == "view"), key=lambda lk: lk["y0"])
    assert view_links[0]["y0"] == pytest.approx(nodes[(0, "view")]["y"])
    assert view_links[1]["y0"] == pytest.approx(view_links[0]["y0"] + view_links[0]["size"])


def test_charts_are_valid_vega_lite() -> None:
    steps = [
        {"step": "view", "customers": 10, "conversion_from_start": 1.0},
        {"step": "order", "customers": 4, "conversion_from_start": 0.4},
    ]
    spec = funnel_chart({"groups": [{"group": "all", "steps": steps}]}).to_dict()
    assert spec["title"] == "funnel"
    report = {
        "outcome": "order",
        "common_paths": [
            {"path": "view → cart", "customers": 10, "reached": 6},
            {"path": "(no touches)", "customers": 5, "reached": 0},
        ],
    }
    flow = flow_chart(report).to_dict()
    assert len(flow["layer"]) == 3 and flow["title"].startswith("paths to order")


def test_a_flow_chart_without_paths_says_so() -> None:
    """Regression: no paths at all raised KeyError('y2')."""
    from personae.journeys.charts import flow_chart

    chart = flow_chart({"outcome": "order", "common_paths": []})
    assert "No paths to order" in str(chart.to_dict())
