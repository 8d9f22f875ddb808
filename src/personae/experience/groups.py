"""Experience metrics per group: segment, touchpoint, journey stage, channel or month.

One rule for every grouping, so figures are comparable: **each customer counts once per kind
of question in a group — with their latest answer in that group**. A customer who answered
NPS five times does not weigh five times as much as one who answered once, and the answers in
a group are independent, which the standard errors assume.

Groups with fewer respondents than ``min_group_size`` are flagged ``small``: their figures
are shown (hiding them would hide that the group exists) but the flag says not to compare them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from personae.config.experience import ExperienceSettings
from personae.experience.metrics import ExperienceMetrics, experience_metrics
from personae.experience.scales import KINDS

#: Columns an answers frame must have (``std_score`` on the standard scale of ``kind``).
ANSWER_COLUMNS = ("customer_id", "kind", "std_score", "answered_at")


def latest_per_customer(answers: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each customer's latest answer per kind within each value of ``by``."""
    missing = [c for c in (*ANSWER_COLUMNS, by) if c not in answers.columns]
    if missing:
        raise ValueError(f"answers lack column(s) {', '.join(missing)}")
    a = answers[answers["kind"].isin(KINDS) & answers["std_score"].notna() & answers[by].notna()]
    # response order as tie-break keeps the choice deterministic for answers at the same instant
    a = a.sort_values([by, "kind", "customer_id", "answered_at"], kind="mergesort")
    return a.drop_duplicates([by, "kind", "customer_id"], keep="last")


def metrics_by(
    answers: pd.DataFrame,
    by: str,
    settings: ExperienceSettings | None = None,
    *,
    groups: Iterable[Any] | None = None,
) -> list[dict[str, Any]]:
    """One row of metrics per value of ``by`` (plus every value in ``groups``, even unanswered).

    Rows come in the order of ``groups`` when given, else sorted by the group value.
    """
    s = settings or ExperienceSettings()
    latest = latest_per_customer(answers, by)
    parts = {key: frame for key, frame in latest.groupby(by, sort=True, observed=True)}
    order = list(dict.fromkeys(groups)) if groups is not None else sorted(parts, key=str)
    rows = []
    for key in order:
        frame = parts.get(key, latest.iloc[0:0])
        scores = {k: frame.loc[frame["kind"] == k, "std_score"].to_numpy(dtype=float) for k in KINDS}
        m = experience_metrics(
            scores["nps"],
            scores["csat"],
            scores["ces"],
            scores["trust"],
            confidence=s.confidence,
            weights=s.net_trust,
        )
        rows.append({by: key, **metrics_row(m, int(frame["customer_id"].nunique()), s.min_group_size)})
    return rows


def metrics_row(m: ExperienceMetrics, respondents: int, min_group_size: int) -> dict[str, Any]:
    """The flat, JSON-ready figures of one group (NPS/trust −100…100, CSAT and shares in %)."""
    per_kind = {"nps": m.nps.n, "csat": m.csat.n, "ces": m.ces.n, "trust": m.trust.n}
    return {
        "n": respondents,
        "nps": m.nps.score,
        "nps_ci": list(m.nps.ci) if m.nps.ci else None,
        "nps_se": m.nps.se,
        "nps_n": m.nps.n,
        "promoters": m.nps.top,
        "passives": m.nps.middle,
        "detractors": m.nps.bottom,
        "csat": m.csat.percent,
        "csat_ci": list(m.csat.ci) if m.csat.ci else None,
        "csat_n": m.csat.n,
        "ces": m.ces.mean,
        "ces_ci": list(m.ces.mean_ci) if m.ces.mean_ci else None,
        "ces_agree": m.ces.agree_percent,
        "net_ease": m.ces.net_ease.score,
        "ces_n": m.ces.n,
        "trust": m.trust.score,
        "trust_ci": list(m.trust.ci) if m.trust.ci else None,
        "trust_n": m.trust.n,
        "net_trust": m.net_trust,
        "small": respondents < min_group_size,
        # answered kinds with too few answers to judge (a kind nobody answered is just null)
        "thin": [k for k, n in per_kind.items() if 0 < n < min_group_size],
    }


def month_of(ts: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each timestamp (the per-month grouping key)."""
    return pd.to_datetime(ts).dt.strftime("%Y-%m").where(ts.notna(), np.nan)
