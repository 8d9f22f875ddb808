"""The migration plot is a flow diagram whose bands carry the customers of each move."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from personae.segments import analysis

NAMES = ["Champions", "At risk", "New"]
FLOWS = [
    ("Champions", "Champions", 700),
    ("Champions", "At risk", 37),
    ("(none)", "New", 1234),
    ("At risk", "(none)", 5),
]


def report() -> dict[str, Any]:
    return analysis.migration_report(
        [{"from_segment": a, "to_segment": b, "customers": n} for a, b, n in FLOWS], NAMES
    )


def layer_data(chart: Any) -> list[list[dict[str, Any]]]:
    spec = chart.to_dict()
    return [spec["datasets"][layer["data"]["name"]] for layer in spec["layer"]]


def test_one_band_per_move_with_its_customers_and_a_proportional_width() -> None:
    bands = layer_data(analysis.migration_chart(report(), NAMES, "rfm"))[0]
    by_band: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for point in bands:
        by_band[point["band"]].append(point)
    moves = {}
    total = sum(n for _, _, n in FLOWS)
    for points in by_band.values():
        first, last = points[0], points[-1]
        moves[(first["from"], first["to"])] = first["customers"]
        # the band keeps its thickness along the curve, and the thickness is its share of customers
        for p in points:
            assert p["y2"] - p["y"] == pytest.approx(first["customers"] / total)
        assert first["x"] < last["x"]  # left (earlier) to right (later)
    assert moves == {(a, b): n for a, b, n in FLOWS}


def test_nodes_are_the_segments_of_each_date_with_their_customers() -> None:
    nodes = layer_data(analysis.migration_chart(report(), NAMES, "rfm"))[1]
    before = {n["segment"]: n["customers"] for n in nodes if n["side"] == "before"}
    after = {n["segment"]: n["customers"] for n in nodes if n["side"] == "after"}
    assert before == {"Champions": 737, "(none)": 1234, "At risk": 5}
    assert after == {"Champions": 700, "At risk": 37, "New": 1234, "(none)": 5}
    assert all(n["x"] < 0.5 for n in nodes if n["side"] == "before")
    assert all(n["x"] > 0.5 for n in nodes if n["side"] == "after")


def test_the_saved_svg_states_the_flows(tmp_path: Path) -> None:
    path = tmp_path / "flow.svg"
    analysis.migration_chart(report(), NAMES, "rfm: 2025-03-31 → 2025-06-30").save(str(path))
    texts = set(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text()))
    assert {"Champions (737)", "Champions (700)", "At risk (37)", "New (1,234)", "(none) (1,234)"} <= texts
    assert {"1,234", "700"} <= texts  # wide bands carry their count
    assert "37" not in texts  # a thin band does not (its node says it)
    assert path.read_text().count("<path") >= len(FLOWS)


def test_no_customers_gives_a_message_not_an_empty_plot() -> None:
    empty = analysis.migration_report([], NAMES)
    spec = analysis.migration_chart(empty, NAMES, "rfm").to_dict()
    assert "No customer" in str(spec["datasets"])
