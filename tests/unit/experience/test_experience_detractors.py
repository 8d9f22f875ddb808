"""Detractor model on data with a planted driver: it must find it and say so honestly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.errors import ModelError, NotFittedError
from personae.experience.detractors import DetractorModel, calibration_table, feature_columns


def _customers(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    failed = rng.poisson(0.5, n)
    frequency = rng.poisson(4, n)
    noise = rng.normal(size=n)
    # more failed deliveries → detractor; frequency → promoter; noise_feature does nothing
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
            "nps_category": np.where(answered, cat, None),
        }
    )


def test_answers_and_profile_are_not_features() -> None:
    numeric, categorical = feature_columns(
        ["failed_deliveries", "latest_nps", "consent_email", "email", "frequency"]
    )
    assert numeric == ["frequency", "failed_deliveries"] and categorical == []


def test_finds_the_planted_driver_and_is_evaluated_on_held_out_data() -> None:
    df = _customers(3000)
    model = DetractorModel(seed=1).fit(df, df["nps_category"])
    ev = model.evaluation_
    answered = int(df["nps_category"].notna().sum())
    assert ev.n_test == pytest.approx(answered * 0.25, abs=1) and ev.n_train + ev.n_test == answered
    assert ev.auc is not None and ev.auc > 0.75
    assert ev.brier < ev.brier_baseline  # better than forecasting the base rate
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


def test_refuses_too_little_data_and_unfitted_use() -> None:
    df = _customers(100)
    with pytest.raises(ModelError, match="at least 60 NPS answerers"):
        DetractorModel().fit(df.iloc[:50], df["nps_category"].iloc[:50])
    with pytest.raises(NotFittedError):
        DetractorModel().predict(df)


def test_calibration_table_by_hand() -> None:
    outcome = np.array([0, 0, 1, 1])
    predicted = np.array([0.1, 0.1, 0.9, 0.9])
    table, ece = calibration_table(outcome, predicted, bins=2)
    assert [(r["n"], r["predicted"], r["observed"]) for r in table] == [(2, 0.1, 0.0), (2, 0.9, 1.0)]
    assert ece == pytest.approx(0.1)
