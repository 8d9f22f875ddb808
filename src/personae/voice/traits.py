"""The voice traits of each customer, from the analysed texts (an Ibis expression).

=====================  ===================================================================
trait                  meaning
=====================  ===================================================================
voice_texts            texts written up to the as-of date (comments, reviews, contacts, posts)
latest_sentiment       sentiment score (−1…1) of the latest scored text
avg_sentiment          mean sentiment score of all scored texts
sentiment_90d          mean score over the last ``window_days`` days (empty without texts)
negative_texts_90d     negative texts over the same window
top_complaint_theme    theme of most negative texts in the last ``complaint_window_days``
                       (ties: the most recent)
mentions_competitor    some text names a competitor of ``voice.competitors``
social_reach           largest audience (followers) given with a social post
=====================  ===================================================================

Texts in another language count in ``voice_texts`` but not in the sentiment figures.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis

from personae.config.voice import VoiceSettings
from personae.tables import join_on_customer
from personae.voice.themes import OTHER

#: The trait columns (besides ``customer_id``), in order.
TRAIT_COLUMNS = (
    "voice_texts",
    "latest_sentiment",
    "avg_sentiment",
    "sentiment_90d",
    "negative_texts_90d",
    "top_complaint_theme",
    "mentions_competitor",
    "social_reach",
)


def _since(as_of: date, days: int) -> ibis.Value:
    start = datetime.combine(as_of, datetime.min.time()) - timedelta(days=days - 1)
    return ibis.timestamp(start.isoformat(sep=" "))


def voice_traits(texts: ibis.Table, as_of: date, settings: VoiceSettings) -> ibis.Table:
    """One row per customer with texts: ``customer_id`` and :data:`TRAIT_COLUMNS`."""
    t = texts.filter(texts.customer_id.notnull())
    recent = t.at >= _since(as_of, settings.window_days)
    scored = t.scored.fill_null(False)
    score = ibis.cases((scored, t.sentiment_score), else_=ibis.null("float64"))
    negative = scored & (t.sentiment == "negative")
    base = t.group_by("customer_id").aggregate(
        voice_texts=t.count(),
        latest_sentiment=score.argmax(ibis.cases((scored, t.at), else_=ibis.null("timestamp"))),
        avg_sentiment=score.mean(),
        sentiment_90d=ibis.cases((recent, score), else_=ibis.null("float64")).mean(),
        negative_texts_90d=(negative & recent).cast("int64").sum().cast("int64"),  # not HUGEINT
        mentions_competitor=t.competitor.notnull().any(),
        social_reach=ibis.cases((t.source == "social", t.reach), else_=ibis.null("int64")).max(),
    )
    c = t.filter(negative & (t.at >= _since(as_of, settings.complaint_window_days)) & (t.theme != OTHER))
    per_theme = c.group_by(["customer_id", "theme"]).aggregate(n=c.count(), last_at=c.at.max())
    w = ibis.window(
        group_by=per_theme.customer_id,
        order_by=[per_theme.n.desc(), per_theme.last_at.desc(), per_theme.theme],
    )
    ranked = per_theme.mutate(_rank=ibis.row_number().over(w))
    top = ranked.filter(ranked._rank == 0).select("customer_id", top_complaint_theme="theme")
    return join_on_customer(base, top).select("customer_id", *TRAIT_COLUMNS)


#: Clustering features the voice traits offer, as (name, family, kind, columns, doc) in the
#: shape of ``personae.clusters.features.Feature``: the clusters registry can splice them in
#: (``*(Feature(*f) for f in CLUSTER_FEATURES)``) so attitudes shape clusters too.
CLUSTER_FEATURES: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    (
        "sentiment",
        "attitude",
        "numeric",
        ("avg_sentiment",),
        "Mean sentiment of the customer's texts (−1…1).",
    ),
    ("sentiment_90d", "attitude", "numeric", ("sentiment_90d",), "Mean sentiment over the last 90 days."),
    (
        "complaints_90d",
        "attitude",
        "log",
        ("negative_texts_90d",),
        "Negative texts in the last 90 days (log).",
    ),
)
