"""A section's warnings (e.g. an RFM segment contradicting its name) reach the HTML as words."""

from __future__ import annotations

from personae.app.report import Gathered
from personae.report.render import _section_view, _template


def test_rfm_warnings_are_rendered_and_not_marked_absent() -> None:
    cells = [{"r_score": 5, "fm_score": 5, "customers": 3, "segment": "Champions"}]
    said = '"Champions": median recency 300 days, past the lapse threshold of 240 days'
    view = _section_view(Gathered("rfm", {"cells": cells, "warnings": [said]}))
    assert view["warnings"] == [said]
    head = {
        "as_of": "2026-06-30",
        "customers": 3,
        "customers_total": 3,
        "buyers": 3,
        "revenue": 1.0,
        "clv_12m": None,
    }
    html = _template().render(overview=head, sections=[view], version="x", generated="now")
    assert 'data-warning="true">&#34;Champions&#34;: median recency 300 days' in html
    assert 'data-absent="true"' not in html  # a flagged section is still a filled one
