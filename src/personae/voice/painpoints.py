"""Pain points in customers' own words: which theme goes wrong, at which touchpoint, for which
segment, with how much value at stake.

For the Experience pain points (``personae.experience.painpoints``) and the report: every row is
a (theme, touchpoint[, segment]) cell with

* ``texts`` and ``negative`` texts, ``negative_share`` and mean ``sentiment``;
* ``customers_affected`` — customers with at least one negative text in the cell;
* ``value_at_stake`` — the affected customers' 12-month CLV (their net spend where no CLV was
  fitted): what the business risks if the complaint drives them away.

Ranked by value at stake, then affected customers. Plain pandas on the analysed texts.

With ``text_themes`` (the ``voice_text_themes`` table) a text counts under *each* of its themes
with that theme's own sentiment: "love the staff, hate the wait" is a negative text about the
wait and a positive one about the staff, not a lukewarm text about whichever theme is main.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from personae.voice.themes import OTHER

COLUMNS = (
    "theme",
    "touchpoint",
    "segment",
    "texts",
    "negative",
    "negative_share",
    "sentiment",
    "customers_affected",
    "value_at_stake",
)


def customer_value(traits: pd.DataFrame) -> pd.Series:
    """Value per customer id: ``clv_12m``, else ``monetary``, else 0."""
    v = np.zeros(len(traits))
    for col in ("monetary", "clv_12m"):  # later columns win where they have a value
        if col in traits:
            vals = pd.to_numeric(traits[col], errors="coerce").to_numpy(dtype=float)
            v = np.where(np.isnan(vals), v, vals)
    return pd.Series(v, index=traits["customer_id"].astype(str).to_numpy())


def theme_pain_points(
    texts: pd.DataFrame,
    value: pd.Series,
    members: pd.DataFrame | None = None,
    *,
    include_other: bool = False,
    min_negative: int = 1,
    text_themes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Theme × touchpoint (× segment when ``members`` has ``segment, customer_id``) pain points.

    Args:
        texts: analysed texts (only scored ones count).
        value: value per customer id (see :func:`customer_value`).
        members: segment memberships; without it ``segment`` is ``all``.
        include_other: keep texts without a theme.
        min_negative: cells with fewer negative texts are left out.
        text_themes: every theme of every text with its own sentiment (``source, text_id,
            theme, sentiment_score, sentiment``); when given, texts count under each theme.
    """
    t = texts[texts["scored"].astype(bool) & texts["customer_id"].notna()].copy()
    if text_themes is not None and len(text_themes):
        t = by_theme(t, text_themes)
    if not include_other:
        t = t[t["theme"] != OTHER]
    if members is not None:
        t = t.merge(members[["segment", "customer_id"]], on="customer_id", how="inner")
    else:
        t["segment"] = "all"
    t["touchpoint"] = t["touchpoint"].fillna("(unknown)")
    t["is_negative"] = t["sentiment"] == "negative"
    keys = ["theme", "touchpoint", "segment"]
    if t.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    agg = t.groupby(keys, sort=False).agg(
        texts=("text_id", "size"), negative=("is_negative", "sum"), sentiment=("sentiment_score", "mean")
    )
    affected = t[t["is_negative"]].drop_duplicates([*keys, "customer_id"])
    affected = affected.assign(value=affected["customer_id"].map(value).fillna(0.0).to_numpy())
    stake = affected.groupby(keys, sort=False).agg(
        customers_affected=("customer_id", "size"), value_at_stake=("value", "sum")
    )
    out = agg.join(stake, how="left").reset_index()
    out["customers_affected"] = out["customers_affected"].fillna(0).astype("int64")
    out["value_at_stake"] = out["value_at_stake"].fillna(0.0).round(2)
    out["negative"] = out["negative"].astype("int64")
    out["negative_share"] = (out["negative"] / out["texts"]).round(4)
    out["sentiment"] = out["sentiment"].round(4)
    out = out[out["negative"] >= min_negative]
    out = out.sort_values(
        ["value_at_stake", "customers_affected", "theme", "touchpoint", "segment"],
        ascending=[False, False, True, True, True],
    )
    return out[list(COLUMNS)].reset_index(drop=True)


def by_theme(texts: pd.DataFrame, text_themes: pd.DataFrame) -> pd.DataFrame:
    """``texts`` with one row per (text, theme), ``theme`` and sentiment taken from
    ``text_themes``; texts without a row there keep their own (``other``) row."""
    keys = ["source", "text_id"]
    long = text_themes[[*keys, "theme", "sentiment_score", "sentiment"]].astype(
        {"source": str, "text_id": str}
    )
    base = texts.astype({"source": str, "text_id": str})
    joined = base.drop(columns=["theme", "sentiment_score", "sentiment"]).merge(long, on=keys, how="inner")
    rest = base[~base.set_index(keys).index.isin(long.set_index(keys).index)]
    return pd.concat([joined, rest], ignore_index=True)
