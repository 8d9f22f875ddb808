"""RFM: recency, frequency and monetary quintile scores (1–5) and the named RFM segments.

Scores use percent ranks among customers with at least one order, so ties always get the same
score (a plain ``ntile`` would split equal customers arbitrarily):

* R = 5 − ⌊5 × percent_rank(recency_days)⌋ (the most recent get 5),
* F = 1 + ⌊5 × percent_rank(frequency)⌋, M = 1 + ⌊5 × percent_rank(monetary)⌋ (capped at 5),
* FM = round((F + M) / 2).

The segment is the first rule in ``TraitSettings.rfm_rules`` whose R and FM ranges contain the
customer's scores (see docs/traits.md for the grid). Customers without orders get none.
"""

from __future__ import annotations

import ibis

from personae.config.traits import RfmRule


def _score(rank: ibis.Value, *, descending: bool) -> ibis.Value:
    raw = (rank * 5).floor().cast("int64")
    score = 5 - raw if descending else 1 + raw
    return ibis.least(ibis.greatest(score, 1), 5)


def rfm_scores(t: ibis.Table) -> dict[str, ibis.Value]:
    """R, F, M and FM scores as window expressions over the buyers in ``t``."""
    buyer = t.frequency > 0
    w_r = ibis.window(group_by=buyer, order_by=t.recency_days)
    w_f = ibis.window(group_by=buyer, order_by=t.frequency)
    w_m = ibis.window(group_by=buyer, order_by=t.monetary)
    r = _score(ibis.percent_rank().over(w_r), descending=True)
    f = _score(ibis.percent_rank().over(w_f), descending=False)
    m = _score(ibis.percent_rank().over(w_m), descending=False)
    return {
        "r_score": ibis.ifelse(buyer, r, None),
        "f_score": ibis.ifelse(buyer, f, None),
        "m_score": ibis.ifelse(buyer, m, None),
    }


def rfm_segment(t: ibis.Table, rules: list[RfmRule]) -> dict[str, ibis.Value]:
    """``fm_score``, ``rfm_score`` (e.g. ``"545"``) and ``rfm_segment`` from the scores."""
    fm = ((t.f_score + t.m_score).cast("float64") / 2).round().cast("int64")
    cases = [
        (
            (t.r_score >= rule.r[0]) & (t.r_score <= rule.r[1]) & (fm >= rule.fm[0]) & (fm <= rule.fm[1]),
            rule.name,
        )
        for rule in rules
    ]
    return {
        "fm_score": fm,
        "rfm_score": t.r_score.cast("string") + t.f_score.cast("string") + t.m_score.cast("string"),
        "rfm_segment": ibis.cases(*cases, else_=ibis.null("string")),
    }
