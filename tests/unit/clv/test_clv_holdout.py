"""Holdout evaluation, calibration table and plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from personae.clv import BetaGeoModel, calibration_plot, calibration_table, evaluate_holdout
from personae.errors import InputError


def test_calibration_table_groups_and_labels() -> None:
    table = calibration_table(
        frequency=[0, 0, 1, 3, 9, 12],
        actual=[0, 1, 2, 3, 4, 8],
        predicted=[0.5, 0.5, 1.0, 2.0, 5.0, 7.0],
        max_frequency=3,
    )
    assert table["frequency"].tolist() == ["0", "1", "2", "3+"]
    assert table["n_customers"].tolist() == [2, 1, 0, 3]
    assert table["actual"].tolist()[:2] == [0.5, 2.0]
    assert np.isnan(table["actual"].iloc[2])
    assert table["actual"].iloc[3] == pytest.approx(5.0)
    assert table["predicted"].iloc[3] == pytest.approx(14 / 3)


def test_evaluate_holdout_metrics() -> None:
    model = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
    x = np.array([0, 1, 2, 8])
    tx = np.array([0.0, 10.0, 30.0, 38.0])
    T = np.full(4, 38.86)
    actual = np.array([0, 1, 3, 6])
    result = evaluate_holdout(model, x, tx, T, actual, 39.0)
    predicted = model.predict_transactions(39.0, x, tx, T)
    assert result.n_customers == 4
    assert result.actual_total == 10
    assert result.predicted_total == pytest.approx(predicted.sum())
    assert result.mae == pytest.approx(np.mean(np.abs(predicted - actual)))
    assert result.rmse == pytest.approx(np.sqrt(np.mean((predicted - actual) ** 2)))
    assert result.correlation == pytest.approx(np.corrcoef(actual, predicted)[0, 1])
    assert result.total_error_pct == pytest.approx(100 * (predicted.sum() - 10) / 10)
    assert result.table["n_customers"].sum() == 4
    with pytest.raises(InputError):
        evaluate_holdout(model, [], [], [], [], 39.0)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_calibration_plot_writes_file(tmp_path: Path, suffix: str) -> None:
    table = pd.DataFrame(
        {
            "frequency": ["0", "1", "2+"],
            "n_customers": [10, 5, 2],
            "actual": [0.2, 0.7, 2.0],
            "predicted": [0.25, 0.6, 1.8],
        }
    )
    out = calibration_plot(table, tmp_path / "plots" / f"calibration{suffix}")
    data = out.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    else:
        assert b"<svg" in data[:200]
    with pytest.raises(InputError):
        calibration_plot(table, tmp_path / "calibration.pdf")
