"""What ``personae voice themes`` shows: per theme its size, sentiment, trend, sources and examples,
overall and per segment. Plain pandas on the analysed texts (the scored ones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from personae.voice.themes import OTHER


def _month(at: pd.Series) -> pd.Series:
    return pd.to_datetime(at).dt.strftime("%Y-%m")


def _counts(values: pd.Series) -> dict[str, int]:
    vc = values.fillna("(unknown)").astype(str).value_counts()
    return {str(k): int(v) for k, v in sorted(vc.items(), key=lambda kv: (-kv[1], kv[0]))}


def _examples(group: pd.DataFrame, n: int) -> list[dict[str, Any]]:
    """The most typical texts (strongest theme loading), one per distinct text, with sentiment."""
    if n == 0 or group.empty:
        return []
    g = group.sort_values(
        ["theme_weight", "at", "text_id"], ascending=[False, False, True], na_position="last"
    )
    g = g.drop_duplicates("text").head(n)
    return [
        {
            "text": str(r.text),
            "sentiment": str(r.sentiment),
            "score": round(float(cast(float, r.sentiment_score)), 3),
        }
        for r in g.itertuples()
    ]


def _one(group: pd.DataFrame, total: int, examples: int) -> dict[str, Any]:
    s = group["sentiment"]
    return {
        "n": len(group),
        "share": round(len(group) / total, 4) if total else 0.0,
        "sentiment": round(float(group["sentiment_score"].mean()), 4) if len(group) else None,
        "negative": round(float((s == "negative").mean()), 4) if len(group) else None,
        "neutral": round(float((s == "neutral").mean()), 4) if len(group) else None,
        "positive": round(float((s == "positive").mean()), 4) if len(group) else None,
        "trend": [
            {"month": m, "n": len(g), "sentiment": round(float(g["sentiment_score"].mean()), 4)}
            for m, g in group.groupby(_month(group["at"]), sort=True)
        ],
        "touchpoints": _counts(group["touchpoint"]),
        "channels": _counts(group["source"] + ":" + group["channel"].fillna("(unknown)").astype(str)),
        "examples": _examples(group, examples),
    }


def theme_summary(
    texts: pd.DataFrame,
    keywords: Mapping[str, Sequence[str]],
    *,
    examples: int = 3,
    text_themes: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One entry per theme (``other`` last): ``theme, keywords, n, share, sentiment`` (mean score),
    sentiment shares, ``trend`` by month, ``touchpoints``, ``channels`` and ``examples``.

    With ``text_themes`` (every theme of every text, with its own sentiment) each entry also has
    ``mentions`` (texts that touch the theme, as main theme or not), ``aspect_sentiment`` (the
    mean sentiment of what those texts say *about this theme*) and ``aspect_negative`` (the
    share of them negative about it).

    Args:
        texts: analysed texts; only the scored ones are used.
        keywords: theme name → its keywords (themes with no text still get a row).
        examples: example texts per theme.
        text_themes: the ``voice_text_themes`` rows.
    """
    t = texts[texts["scored"].astype(bool)]
    total = len(t)
    rows = []
    for theme in [*keywords, OTHER]:
        group = t[t["theme"] == theme]
        if theme == OTHER and group.empty:
            continue
        rows.append(
            {"theme": theme, "keywords": list(keywords.get(theme, [])), **_one(group, total, examples)}
        )
    if text_themes is not None:
        _add_aspects(rows, t, text_themes)
    rows.sort(key=lambda r: (r["theme"] == OTHER, -r["n"], r["theme"]))
    return rows


def _add_aspects(rows: list[dict[str, Any]], texts: pd.DataFrame, text_themes: pd.DataFrame) -> None:
    keys = ["source", "text_id"]
    ids = texts[keys].astype(str)
    long = text_themes.astype({"source": str, "text_id": str}).merge(ids, on=keys, how="inner")
    for r in rows:
        g = long[long["theme"] == r["theme"]]
        r["mentions"] = len(g)
        r["aspect_sentiment"] = round(float(g["sentiment_score"].mean()), 4) if len(g) else None
        r["aspect_negative"] = round(float((g["sentiment"] == "negative").mean()), 4) if len(g) else None


def themes_by_segment(
    texts: pd.DataFrame,
    members: pd.DataFrame,
    segments: Sequence[str],
    keywords: Mapping[str, Sequence[str]],
    *,
    examples: int = 1,
) -> list[dict[str, Any]]:
    """Per segment (in the order given) and theme: ``n``, ``share`` of the segment's texts,
    ``sentiment`` and the other figures of :func:`theme_summary` (customers in several segments
    count in each)."""
    t = texts[texts["scored"].astype(bool)]
    joined = t.merge(members[["segment", "customer_id"]], on="customer_id", how="inner")
    out = []
    for seg in segments:
        part = joined[joined["segment"] == seg]
        out.append(
            {
                "segment": seg,
                "texts": len(part),
                "customers": int(part["customer_id"].nunique()),
                "sentiment": round(float(part["sentiment_score"].mean()), 4) if len(part) else None,
                "themes": theme_summary(part, keywords, examples=examples),
            }
        )
    return out


def sentiment_overview(texts: pd.DataFrame) -> dict[str, Any]:
    """Totals: texts by source and language, how many were scored, sentiment shares."""
    scored = texts["scored"].astype(bool)
    s = texts.loc[scored, "sentiment"]
    return {
        "texts": len(texts),
        "scored": int(scored.sum()),
        "flagged_other_language": int((~scored).sum()),
        "languages": _counts(texts["language"]),
        "sources": _counts(texts["source"]),
        "sentiment": round(float(texts.loc[scored, "sentiment_score"].mean()), 4) if scored.any() else None,
        "shares": {
            k: round(float((s == k).mean()), 4) if len(s) else 0.0
            for k in ("negative", "neutral", "positive")
        },
        "competitor_mentions": _counts(texts["competitor"].dropna())
        if texts["competitor"].notna().any()
        else {},
    }


def monthly_sentiment(texts: pd.DataFrame) -> pd.DataFrame:
    """``month, theme, n, sentiment`` (mean score): the trend chart's data."""
    t = texts[texts["scored"].astype(bool)]
    if t.empty:
        return pd.DataFrame(columns=["month", "theme", "n", "sentiment"])
    g = t.assign(month=_month(t["at"])).groupby(["month", "theme"], sort=True)
    return g["sentiment_score"].agg(n="size", sentiment="mean").reset_index()


def nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
