"""Detractor model on data with a planted driver: it must find it and say so honestly.

And the leak test: every feature the model may use is declared with the columns it reads, and
none of them is the label or derived from it (a survey column, ``journey_stage`` …).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.errors import ModelError, NotFittedError
from personae.experience.detractors import (
    DetractorModel,
    calibration_table,
    feature_columns,
    segment_baseline,
    time_split,
)
from personae.experience.features import (
    CATEGORICAL_FEATURES,
    FEATURE_INPUTS,
    LABEL_COLUMNS,
    NUMERIC_FEATURES,
    reads_label,
)
from personae.traits.journey import JOURNEY_STAGES
from personae.traits.registry import ALL


def _answers(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    failed = rng.poisson(0.5, n)
    frequency = rng.poisson(4, n)
    noise = rng.normal(size=n)
    # more failed deliveries → detractor; frequency → promoter; returns_ratio does nothing
    logit = -1.0 + 1.5 * failed - 0.4 * (frequency - 4)
    u = rng.random(n)
    p_det = 1 / (1 + np.exp(-logit))
    cat = np.where(u < p_det, "detractor", np.where(u < p_det + (1 - p_det) / 2, "passive", "promoter"))
    answered = rng.random(n) < 0.5
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "failed_deliveries": failed,
            "frequency": frequency,
            "returns_ratio": noise,
            "preferred_channel": rng.choice(["web", "store", None], n),
            "latest_nps": np.where(answered, 5.0, np.nan),  # an answer: never a feature
            "journey_stage": np.where(cat == "promoter", "advocacy", "retention"),  # the label in disguise
            "rfm_segment": rng.choice(["Champions", "Lost"], n),
            "nps_category": np.where(answered, cat, None),
            "answered_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )


# -- the leak test ----------------------------------------------------------------------------
def test_no_feature_reads_the_label() -> None:
    """Each feature's declared inputs: none is a survey column or a trait made from the answers."""
    leaks = {f: reads_label(inputs) for f, inputs in FEATURE_INPUTS.items() if reads_label(inputs)}
    assert leaks == {}
    for f, inputs in FEATURE_INPUTS.items():
        assert inputs, f"{f} declares no input"
        assert all(i.split(".", 1)[0] in {"orders", "events", "customers"} for i in inputs), (f, inputs)
    # the features are only the declared ones, and none is a label-derived trait by name
    assert set(NUMERIC_FEATURES) | set(CATEGORICAL_FEATURES) == set(FEATURE_INPUTS)
    assert not {f"traits.{f}" for f in FEATURE_INPUTS} & LABEL_COLUMNS
    assert all(f in ALL for f in FEATURE_INPUTS), "each feature keeps its trait's name and meaning"


def test_the_leak_check_would_catch_a_leak() -> None:
    """The check itself: an advocacy-like feature (journey_stage) or a survey column fails it."""
    assert reads_label(("traits.journey_stage",)) == ["traits.journey_stage"]
    assert reads_label(("orders.amount", "surveys.score")) == ["surveys.score"]
    assert "advocacy" in JOURNEY_STAGES  # the stage that is defined by latest_nps >= 9


def test_label_columns_are_never_features() -> None:
    numeric, categorical = feature_columns(
        ["failed_deliveries", "latest_nps", "consent_email", "email", "frequency", "journey_stage"]
    )
    assert numeric == ["frequency", "failed_deliveries"] and categorical == []
    df = _answers(800)
    model = DetractorModel().fit(df, df["nps_category"], df["answered_at"])
    used = set(model.numeric_) | set(model.categorical_)
    assert used == {"failed_deliveries", "frequency", "returns_ratio", "preferred_channel"}
    assert not any("journey_stage" in d.feature or "nps" in d.feature for d in model.drivers_)


# -- the time split ---------------------------------------------------------------------------
def test_time_split_holds_out_the_later_days_whole() -> None:
    days = ["2025-01-01 10:00", "2025-01-02 10:00", "2025-01-03 09:00", "2025-01-03 18:00"]
    when = pd.Series(pd.to_datetime(days))
    # 4 answers, 25% held out: the boundary is the 4th answer's day, which has two answers
    assert time_split(when, 0.25).tolist() == [False, False, True, True]
    shuffled = when.iloc[[3, 0, 2, 1]].reset_index(drop=True)
    assert time_split(shuffled, 0.25).tolist() == [True, False, True, False]
    assert time_split(pd.Series(pd.to_datetime(["2025-01-01"] * 3)), 0.25).all()


def test_finds_the_planted_driver_and_is_evaluated_on_later_answers() -> None:
    df = _answers(3000)
    model = DetractorModel().fit(df, df["nps_category"], df["answered_at"], df["rfm_segment"])
    ev = model.evaluation_
    answered = df[df["nps_category"].notna()]
    assert ev.n_train + ev.n_test == len(answered)
    assert ev.n_test == pytest.approx(len(answered) * 0.25, rel=0.05)
    # every held-out answer is later than every training answer
    assert ev.split["kind"] == "time" and ev.split["train_to"] < ev.split["test_from"]
    last_train = answered["answered_at"].sort_values().iloc[ev.n_train - 1]
    assert ev.split["train_to"] == last_train.date().isoformat()
    assert ev.auc is not None and ev.auc > 0.7
    assert ev.brier < ev.brier_baseline  # better than forecasting the base rate
    base = ev.segment_baseline
    assert base is not None and base["by"] == "rfm_segment"
    assert ev.brier < base["brier"] and ev.auc > (base["auc"] or 0)  # a segment with no signal
    assert ev.ece < 0.1
    top = model.drivers_[0]
    assert top.feature == "failed_deliveries" and top.direction == "raises risk" and top.odds_ratio > 1
    freq = next(d for d in model.drivers_ if d.feature == "frequency")
    assert freq.direction == "lowers risk"
    pred = model.predict(df)
    assert pred["detractor_risk"].between(0, 1).all()
    assert set(pred["predicted_nps_category"]) <= {"detractor", "passive", "promoter"}
    proba = model.predict_proba(df)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_refuses_too_little_data_a_single_day_and_unfitted_use() -> None:
    df = _answers(400)
    with pytest.raises(ModelError, match="at least 60 NPS answers"):
        DetractorModel().fit(df.iloc[:50], df["nps_category"].iloc[:50], df["answered_at"].iloc[:50])
    one_day = pd.Series(pd.Timestamp("2025-03-01"), index=df.index)
    with pytest.raises(ModelError, match="earlier answers to learn from and later ones"):
        DetractorModel().fit(df, df["nps_category"], one_day)
    with pytest.raises(NotFittedError):
        DetractorModel().predict(df)


# -- known answers ----------------------------------------------------------------------------
def test_segment_baseline_by_hand() -> None:
    """Train: A has 1 detractor in 4, B 3 in 4; test answers get 0.25 / 0.75, C (unseen) 0.5."""
    train_seg = np.array(["A"] * 4 + ["B"] * 4, dtype=object)
    train_y = np.array(
        ["detractor", "promoter", "promoter", "passive", "detractor", "detractor", "detractor", "promoter"]
    )
    test_seg = np.array(["A", "B", "C", None], dtype=object)
    test_y = np.array(["promoter", "detractor", "detractor", "promoter"])
    out = segment_baseline(train_seg, train_y, test_seg, test_y)
    p = np.array([0.25, 0.75, 0.5, 0.5])
    assert out["brier"] == pytest.approx(np.mean((p - np.array([0, 1, 1, 0])) ** 2))
    # detractors' scores 0.75, 0.5 vs others' 0.25, 0.5: pairs won 1 + 1 + 0.5 (tie) + 1 of 4
    assert out["auc"] == pytest.approx(3.5 / 4)
    assert [(r["segment"], r["train_answers"], r["detractor_rate"]) for r in out["rates"]] == [
        ("B", 4, 0.75),
        ("A", 4, 0.25),
    ]


def test_calibration_table_by_hand() -> None:
    outcome = np.array([0, 0, 1, 1])
    predicted = np.array([0.1, 0.1, 0.9, 0.9])
    table, ece = calibration_table(outcome, predicted, bins=2)
    assert [(r["n"], r["predicted"], r["observed"]) for r in table] == [(2, 0.1, 0.0), (2, 0.9, 1.0)]
    assert ece == pytest.approx(0.1)
