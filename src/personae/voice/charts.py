"""The voice section of the report: Altair charts of themes by sentiment, trend and segment.

The HTML report and dashboard are not built yet; they (and ``personae voice themes --plot``)
call these functions. Each takes the plain data :mod:`personae.voice.report` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

_SENTIMENT_COLOURS = alt.Scale(
    domain=["negative", "neutral", "positive"], range=["#d62728", "#bbbbbb", "#2ca02c"]
)


def themes_by_sentiment(themes: Sequence[dict[str, Any]], title: str = "Themes by sentiment") -> alt.Chart:
    """Stacked bars: texts per theme, split negative / neutral / positive (largest theme on top)."""
    rows = [
        {"theme": t["theme"], "sentiment": k, "texts": round(t["n"] * (t[k] or 0.0))}
        for t in themes
        for k in ("negative", "neutral", "positive")
    ]
    order = [t["theme"] for t in themes]
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            y=alt.Y("theme:N", sort=order, title=None),
            x=alt.X("texts:Q", stack="zero", title="texts"),
            color=alt.Color("sentiment:N", scale=_SENTIMENT_COLOURS),
            order=alt.Order("sentiment:N"),
            tooltip=["theme", "sentiment", "texts"],
        )
        .properties(width=480, height=alt.Step(22), title=title)
    )


def sentiment_trend(monthly: pd.DataFrame, title: str = "Sentiment by month") -> alt.Chart:
    """Lines: mean sentiment per month and theme (``month, theme, n, sentiment``)."""
    return (
        alt.Chart(monthly)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("sentiment:Q", scale=alt.Scale(domain=[-1, 1]), title="mean sentiment"),
            color=alt.Color("theme:N"),
            tooltip=["month", "theme", "n", alt.Tooltip("sentiment:Q", format=".2f")],
        )
        .properties(width=560, height=260, title=title)
    )


def segment_heatmap(
    by_segment: Sequence[dict[str, Any]], title: str = "Sentiment by theme and segment"
) -> alt.Chart:
    """Heat map: mean sentiment of each theme (rows) in each segment (columns), texts as labels."""
    rows = [
        {"segment": s["segment"], "theme": t["theme"], "sentiment": t["sentiment"], "texts": t["n"]}
        for s in by_segment
        for t in s["themes"]
        if t["n"]
    ]
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("segment:N", title=None), y=alt.Y("theme:N", title=None)
    )
    heat = base.mark_rect().encode(
        color=alt.Color("sentiment:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[-1, 1])),
        tooltip=["segment", "theme", "texts", alt.Tooltip("sentiment:Q", format=".2f")],
    )
    text = base.mark_text(fontSize=10).encode(text="texts:Q")
    return (heat + text).properties(title=title)
