"""Experience traits: each customer's latest NPS, CES, CSAT and trust answers.

Scores are put on the standard scales whatever scale the question used: NPS and trust 0–10,
CES 1–7 (CES 2.0), CSAT 1–5. ``nps_category``: promoter 9–10, passive 7–8, detractor 0–6.
"""

from __future__ import annotations

import ibis

from personae.traits.inputs import TraitInputs

STANDARD_SCALES = {"nps": (0.0, 10.0), "trust": (0.0, 10.0), "ces": (1.0, 7.0), "csat": (1.0, 5.0)}


def normalised_score(s: ibis.Table) -> ibis.Value:
    """The answer on the standard scale of its kind (linear rescale from its own scale)."""
    out: ibis.Value = s.score
    for kind, (lo, hi) in STANDARD_SCALES.items():
        # answers on 0..max (NPS-like) or 1..max (CES/CSAT-like) scales
        own_lo = lo
        rescaled = own_lo + (s.score - own_lo) * (hi - lo) / (s.scale_max - own_lo)
        out = ibis.ifelse((s.kind == kind) & (s.scale_max != hi), rescaled, out)
    return out


def survey_aggregates(inputs: TraitInputs) -> ibis.Table:
    s = inputs.surveys
    s = s.mutate(std_score=normalised_score(s))
    aggs = {f"latest_{k}": s.std_score.argmax(s.answered_at, where=s.kind == k) for k in STANDARD_SCALES}
    aggs["survey_answers"] = s.count()
    aggs["last_survey_at"] = s.answered_at.max()
    return s.group_by("customer_id").aggregate(**aggs)


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    nps = t.latest_nps
    return {
        "nps_category": ibis.cases(
            (nps >= 9, "promoter"),
            (nps >= 7, "passive"),
            (nps.notnull(), "detractor"),
            else_=ibis.null("string"),
        ),
        "survey_answers": t.survey_answers.fill_null(0),
    }
