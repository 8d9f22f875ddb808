"""Per-group metrics: one (latest) answer per customer and question, empty and small groups."""

from __future__ import annotations

import pandas as pd
import pytest

from personae.config.experience import ExperienceSettings
from personae.experience.groups import latest_per_customer, metrics_by, month_of


def _answers() -> pd.DataFrame:
    rows = [
        # customer, kind, score, when, segment
        ("a", "nps", 2, "2025-01-01", "S1"),
        ("a", "nps", 10, "2025-03-01", "S1"),  # a's latest NPS: promoter
        ("b", "nps", 6, "2025-02-01", "S1"),
        ("c", "nps", 8, "2025-02-01", "S1"),
        ("a", "csat", 5, "2025-02-01", "S1"),
        ("b", "csat", 2, "2025-02-01", "S1"),
        ("c", "ces", 6, "2025-02-01", "S1"),
        ("d", "trust", 9, "2025-02-01", "S2"),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "kind", "std_score", "answered_at", "segment"])
    df["answered_at"] = pd.to_datetime(df["answered_at"])
    return df


def test_latest_answer_per_customer_and_kind() -> None:
    latest = latest_per_customer(_answers(), "segment")
    a_nps = latest[(latest.customer_id == "a") & (latest.kind == "nps")]
    assert a_nps.std_score.tolist() == [10]


def test_metrics_per_group_by_hand() -> None:
    s = ExperienceSettings(min_group_size=3)
    rows = {r["segment"]: r for r in metrics_by(_answers(), "segment", s, groups=["S1", "S2", "S3"])}
    s1 = rows["S1"]
    # NPS: a promoter (latest 10), b detractor, c passive → (1 − 1) / 3 = 0
    assert (s1["promoters"], s1["passives"], s1["detractors"]) == (1, 1, 1)
    assert s1["nps"] == 0.0 and s1["n"] == 3
    assert s1["csat"] == 50.0 and s1["ces"] == 6.0 and s1["trust"] is None
    # net trust: NPS 0 (w .4) and net ease 100 (w .3), trust missing → 30 / 0.7
    assert s1["net_trust"] == pytest.approx(0.3 * 100 / 0.7)
    assert not s1["small"] and s1["thin"] == ["csat", "ces"]
    assert rows["S2"]["small"] and rows["S2"]["trust"] == 100.0 and rows["S2"]["nps"] is None
    # a group nobody answered is listed with empty figures, not zeros
    s3 = rows["S3"]
    assert s3["n"] == 0 and s3["nps"] is None and s3["csat"] is None and s3["net_trust"] is None
    assert s3["small"]


def test_no_answers_at_all() -> None:
    empty = _answers().iloc[0:0]
    (row,) = metrics_by(empty, "segment", groups=["S1"])
    assert row["n"] == 0 and row["nps"] is None and row["nps_ci"] is None


def test_month_key() -> None:
    ts = pd.Series(pd.to_datetime(["2025-01-31 23:59", "2025-02-01 00:00"]))
    assert month_of(ts).tolist() == ["2025-01", "2025-02"]
