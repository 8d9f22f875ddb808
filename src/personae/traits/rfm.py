"""RFM: recency, frequency and monetary quintile scores (1–5) and the named RFM segments.

Scores use percent ranks among customers with at least one order, so ties always get the same
score (a plain ``ntile`` would split equal customers arbitrarily):

* R = 5 − ⌊5 × percent_rank(recency_days)⌋ (the most recent get 5),
* F = 1 + ⌊5 × percent_rank(frequency)⌋, M = 1 + ⌊5 × percent_rank(monetary)⌋ (capped at 5),
* FM = round((F + M) / 2).

With ``traits.rfm.scoring: absolute`` the R score measures recency against the shop's
typical inter-purchase time *g* instead (the median of repeat buyers' average gap, the gap the
lifecycle stage uses for one-order customers): R = 5 within 1 × g, 4 within 1.5 × g, 3 within
2 × g, 2 within 3 × g, 1 beyond (``traits.rfm.recency_windows``). Quantiles call the most
recent fifth "recent" even when they all left a year ago; absolute windows do not.

The segment is the first rule in ``TraitSettings.rfm_rules`` whose R and FM ranges contain the
customer's scores (see docs/traits.md for the grid). Customers without orders get none.
"""

from __future__ import annotations

import ibis

from personae.config.traits import RfmRule, RfmSettings
from personae.traits.lifecycle import typical_gap


def _score(rank: ibis.Value, *, descending: bool) -> ibis.Value:
    raw = (rank * 5).floor().cast("int64")
    score = 5 - raw if descending else 1 + raw
    return ibis.least(ibis.greatest(score, 1), 5)


def absolute_recency_score(t: ibis.Table, windows: tuple[float, ...], gap: ibis.Value) -> ibis.Value:
    """R = 5, 4, 3, 2 while ``recency_days`` is within ``windows`` × ``gap`` days; 1 beyond."""
    days = t.recency_days.cast("float64")
    cases = [(days <= w * gap, 5 - i) for i, w in enumerate(windows)]
    return ibis.cases(*cases, else_=1).cast("int64")


def rfm_scores(
    t: ibis.Table, settings: RfmSettings | None = None, default_gap_days: float = 60.0
) -> dict[str, ibis.Value]:
    """R, F, M and FM scores as window expressions over the buyers in ``t``.

    ``default_gap_days`` is the typical gap absolute scoring assumes when nobody bought twice.
    """
    s = settings or RfmSettings()
    buyer = t.frequency > 0
    w_r = ibis.window(group_by=buyer, order_by=t.recency_days)
    w_f = ibis.window(group_by=buyer, order_by=t.frequency)
    w_m = ibis.window(group_by=buyer, order_by=t.monetary)
    if s.scoring == "absolute":
        r = absolute_recency_score(t, s.recency_windows, typical_gap(t, default_gap_days))
    else:
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


#: What the built-in segment names promise about recency: "recent" names must not be past the
#: lapse threshold, "gone" names must not be within the active window. Names not listed here
#: (a shop's own) promise nothing we can check.
NAME_PROMISES: dict[str, str] = {
    "Champions": "recent",
    "Loyal Customers": "recent",
    "Potential Loyalist": "recent",
    "New Customers": "recent",
    "Promising": "recent",
    "Hibernating": "gone",
    "Lost": "gone",
}


def contradictions(
    segments: list[dict[str, object]],
    *,
    typical_gap_days: float,
    lapse_days: float,
    active_days: float,
    scoring: str = "quantile",
) -> list[str]:
    """Sentences naming each RFM segment whose members contradict its name.

    ``segments`` rows carry ``segment``, ``customers``, ``median_recency`` (days) and
    ``lapsed`` (members whose lifecycle stage is lapsed). A "recent" name (Champions …) is
    contradicted when its median recency is past the lapse threshold ``lapse_days``; a "gone"
    name (Lost, Hibernating) when its median recency is within the active window ``active_days``.

    >>> rows = [{"segment": "Champions", "customers": 10, "median_recency": 300.0, "lapsed": 6}]
    >>> print(contradictions(rows, typical_gap_days=80, lapse_days=240, active_days=120)[0].split(" (")[0])
    "Champions": median recency 300 days, past the lapse threshold of 240 days
    >>> contradictions(rows, typical_gap_days=200, lapse_days=540, active_days=300)
    []
    """
    out = []
    fix = (
        " Quantile scores rank customers against each other, so the most recent fifth score R = 5 "
        "however long ago they bought; `traits.rfm.scoring: absolute` measures recency against the "
        "shop's rhythm instead."
        if scoring == "quantile"
        else " Check `traits.rfm.recency_windows` against `traits.lifecycle`."
    )
    for row in segments:
        name = str(row["segment"])
        promise = NAME_PROMISES.get(name)
        median = float(row["median_recency"])  # type: ignore[arg-type]
        n = int(row["customers"])  # type: ignore[call-overload]
        lapsed = int(row.get("lapsed") or 0)  # type: ignore[call-overload]
        share = f"{lapsed:,} of {n:,} ({lapsed / n:.0%})" if n else "none"
        if promise == "recent" and median > lapse_days:
            out.append(
                f'"{name}": median recency {median:,.0f} days, past the lapse threshold of '
                f"{lapse_days:,.0f} days (the shop's typical gap between orders is "
                f"{typical_gap_days:,.1f} days); {share} are lapsed by their own rhythm.{fix}"
            )
        elif promise == "gone" and median <= active_days:
            out.append(
                f'"{name}": median recency {median:,.0f} days, within the active window of '
                f"{active_days:,.0f} days (the shop's typical gap between orders is "
                f"{typical_gap_days:,.1f} days), though the name says they are gone.{fix}"
            )
    return out
