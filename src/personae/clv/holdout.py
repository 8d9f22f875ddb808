"""Calibration/holdout evaluation of a BG/NBD model, and the classic calibration plot.

Fit on the calibration period, predict each customer's repeat transactions in the holdout
with :meth:`BetaGeoModel.predict_transactions`, and compare with what they did
(:func:`personae.clv.summary.holdout_summary`): totals, per-customer errors, correlation,
and the table of Fader, Hardie & Lee (2005, Figure 4) — mean actual vs predicted holdout
transactions grouped by the number of calibration repeat transactions (0, 1, …, 7+).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from personae.clv._fitting import as_float_array, same_length
from personae.clv.bgnbd import BetaGeoModel
from personae.errors import InputError


@dataclass(frozen=True)
class HoldoutEvaluation:
    """How well a model predicted the holdout period.

    Attributes:
        n_customers: customers evaluated.
        actual_total, predicted_total: repeat transactions in the holdout, summed.
        mae, rmse: per-customer mean absolute / root mean squared error.
        correlation: Pearson correlation of actual and predicted per customer.
        table: :func:`calibration_table` of the same data.
    """

    n_customers: int
    actual_total: float
    predicted_total: float
    mae: float
    rmse: float
    correlation: float
    table: pd.DataFrame

    @property
    def total_error_pct(self) -> float:
        """(predicted - actual) / actual total, in percent."""
        return 100.0 * (self.predicted_total - self.actual_total) / self.actual_total


def calibration_table(
    frequency: ArrayLike, actual: ArrayLike, predicted: ArrayLike, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean actual and predicted holdout transactions by calibration repeat transactions.

    Returns:
        One row per group ``0, 1, …, max_frequency-1, "max_frequency+"`` with columns
        ``frequency`` (label), ``n_customers``, ``actual``, ``predicted`` (group means).
    """
    x = as_float_array("frequency", frequency)
    act = as_float_array("actual", actual)
    pred = as_float_array("predicted", predicted)
    same_length(frequency=x, actual=act, predicted=pred)
    group = np.minimum(x, max_frequency).astype(np.int64)
    frame = pd.DataFrame({"group": group, "actual": act, "predicted": pred})
    stats = frame.groupby("group").agg(
        n_customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    stats = stats.reindex(range(max_frequency + 1))
    stats["n_customers"] = stats["n_customers"].fillna(0).astype(np.int64)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return pd.DataFrame(
        {
            "frequency": labels,
            "n_customers": stats["n_customers"].to_numpy(),
            "actual": stats["actual"].to_numpy(),
            "predicted": stats["predicted"].to_numpy(),
        }
    )


def evaluate_holdout(
    model: BetaGeoModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    frequency_holdout: ArrayLike,
    duration_holdout: ArrayLike | float,
    max_frequency: int = 7,
) -> HoldoutEvaluation:
    """Compare ``model``'s holdout predictions with the actual holdout transactions."""
    x = as_float_array("frequency", frequency)
    actual = as_float_array("frequency_holdout", frequency_holdout)
    same_length(frequency=x, frequency_holdout=actual)
    if len(x) == 0:
        raise InputError("no customers to evaluate")
    predicted = model.predict_transactions(duration_holdout, x, recency, T)
    error = predicted - actual
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = float(np.corrcoef(actual, predicted)[0, 1]) if len(x) > 1 else float("nan")
    return HoldoutEvaluation(
        n_customers=len(x),
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        correlation=corr,
        table=calibration_table(x, actual, predicted, max_frequency),
    )


def calibration_plot(
    table: pd.DataFrame,
    path: str | Path,
    title: str = "Holdout transactions: actual vs predicted",
    scale: float = 2.0,
) -> Path:
    """Draw :func:`calibration_table` as a line chart and write it to ``path``.

    The format follows the suffix: ``.png`` (via ``vl_convert.vegalite_to_png``) or ``.svg``;
    rendering is local (no network).
    """
    import altair as alt
    import vl_convert as vlc

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError(f"cannot write a plot to {out.name}", hint="use a .png or .svg path")
    order = list(table["frequency"])
    long = table.melt(
        id_vars=["frequency", "n_customers"],
        value_vars=["actual", "predicted"],
        var_name="series",
        value_name="transactions",
    )
    chart = (
        alt.Chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "frequency:N",
                sort=order,
                title="Repeat transactions in calibration",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("transactions:Q", title="Mean repeat transactions in holdout"),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=["frequency", "series", "transactions", "n_customers"],
        )
        .properties(width=420, height=280)
    )
    spec = chart.to_dict()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        out.write_bytes(vlc.vegalite_to_png(spec, scale=scale))
    else:
        out.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    return out
