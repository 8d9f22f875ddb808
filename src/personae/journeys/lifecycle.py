"""The lifecycle funnel: awareness → consideration → purchase → retention → advocacy.

It counts the ``journey_stage`` trait (:mod:`personae.traits.journey` holds the rules; they
are not repeated here) as a ladder: a customer whose stage is *retention* has passed
awareness, consideration and purchase, so they count at those steps too. The stages are
states at the build's as-of date, not timed events, so this funnel has no time to the next
step.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from personae.traits.journey import JOURNEY_STAGES


def stage_index(traits: ibis.Table) -> ibis.Value:
    """0 for awareness … 4 for advocacy (unknown stages count as awareness)."""
    return traits.journey_stage.cases(*((s, i) for i, s in enumerate(JOURNEY_STAGES)), else_=0)


def lifecycle_counts(traits: ibis.Table, group_by: Sequence[str] = ()) -> ibis.Table:
    """``reached1 … reached5`` (customers at or past each stage), per group — the same
    column names as :func:`personae.journeys.funnel.counts`, so the report code is shared."""
    t = traits.mutate(_stage=stage_index(traits))
    aggs = {f"reached{k + 1}": t.count(where=t._stage >= k) for k in range(len(JOURNEY_STAGES))}
    if group_by:
        return t.group_by(list(group_by)).aggregate(**aggs)
    return t.aggregate(**aggs)
