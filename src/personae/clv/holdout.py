"""Calibration/holdout evaluation of a repeat-purchase model, and the classic plots.

Fit on the calibration period, predict each customer's repeat transactions in the holdout
with the model's ``predict_transactions`` (BG/NBD, MBG/NBD or Pareto/NBD), and compare with
what they did (:func:`personae.clv.summary.holdout_summary`): totals, per-customer errors,
correlation, and the table of Fader, Hardie & Lee (2005, Figure 4) — mean actual vs
predicted holdout transactions grouped by the number of calibration repeat transactions
(0, 1, …, 7+). :func:`tracking_table` is their Figure 2: cumulative repeat transactions
week by week, actual against the model's expectation, over calibration and holdout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from personae.clv._fitting import as_float_array, same_length
from personae.clv.bgnbd import BetaGeoModel
from personae.clv.mbgnbd import ModifiedBetaGeoModel
from personae.clv.pareto_nbd import ParetoNBDModel
from personae.clv.summary import days_per_unit
from personae.errors import InputError

#: any of the repeat-purchase models (they share predict_transactions/expected_transactions_new)
RepeatModel = BetaGeoModel | ModifiedBetaGeoModel | ParetoNBDModel


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
    model: RepeatModel,
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

    Every column besides ``frequency`` and ``n_customers`` is a line (e.g. ``actual`` and
    one predicted column per model), named in the legend.

    The format follows the suffix: ``.png`` (via ``vl_convert.vegalite_to_png``) or ``.svg``;
    rendering is local (no network).
    """
    import altair as alt

    out = _plot_path(path)
    order = list(table["frequency"])
    long = table.melt(
        id_vars=["frequency", "n_customers"],
        value_vars=[c for c in table.columns if c not in ("frequency", "n_customers")],
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
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top-left")),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=["frequency", "series", "transactions", "n_customers"],
        )
        .properties(width=420, height=280)
    )
    return _write_chart(chart, out, scale)


def _plot_path(path: str | Path) -> Path:
    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"cannot write a plot to {out.name}", hint="use a .png or .svg path")
    return out


def _write_chart(chart: object, out: Path, scale: float) -> Path:
    """Render an Altair chart locally (no network) to ``.png`` or ``.svg`` by the suffix."""
    import vl_convert as vlc

    spec = chart.to_dict()  # type: ignore[attr-defined]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".png":
        out.write_bytes(vlc.vegalite_to_png(spec, scale=scale))
    else:
        out.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    return out


def tracking_table(
    activity: pd.DataFrame,
    models: dict[str, RepeatModel],
    *,
    calibration_end: dt.date,
    holdout_end: dt.date,
    time_unit: str,
    step_days: int = 7,
) -> pd.DataFrame:
    """Cumulative repeat transactions, actual and expected by each model, every ``step_days``.

    ``activity`` is :func:`~personae.clv.summary.daily_cohort_activity` executed (columns
    ``day``, ``first_purchases``, ``repeat_transactions``). The expectation at the end of day
    ``τ`` is ``Σ_d n_first(d) E[X(τ - d)]``: each customer who started on day ``d`` is a new
    customer with ``expected_transactions_new`` repeats by then — no customer's history is
    used, so the holdout part is a genuine forecast (Fader, Hardie & Lee 2005, Figure 2).

    Returns:
        One row per step end (the last one is ``holdout_end``) with ``day`` (date),
        ``period`` (``"calibration"``/``"holdout"``), ``actual`` and one column per model
        (cumulative counts).

    Example:
        >>> from personae.clv.bgnbd import BetaGeoModel
        >>> act = pd.DataFrame({"day": [dt.date(2024, 1, 1), dt.date(2024, 1, 10)],
        ...                     "first_purchases": [10, 0], "repeat_transactions": [0, 3]})
        >>> m = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
        >>> t = tracking_table(act, {"bg_nbd": m}, calibration_end=dt.date(2024, 1, 14),
        ...                    holdout_end=dt.date(2024, 1, 28), time_unit="W")
        >>> t[["day", "period", "actual"]].to_dict("list")["actual"]
        [0, 3, 3, 3]
        >>> bool(t["bg_nbd"].is_monotonic_increasing)
        True
    """
    if step_days < 1:
        raise InputError("step_days must be at least 1")
    scale = days_per_unit(time_unit)
    days = pd.to_datetime(pd.Series(activity["day"])).dt.normalize()
    if days.empty:
        raise InputError("no transactions to track")
    start = days.min()
    end = pd.Timestamp(holdout_end)
    ends = list(pd.date_range(start + pd.Timedelta(days=step_days - 1), end, freq=f"{step_days}D"))
    if not ends or ends[-1] != end:
        ends.append(end)
    grid = np.asarray([(e - start).days for e in ends], dtype=np.float64)
    offset = (days - start).dt.days.to_numpy(dtype=np.float64)
    repeats = activity["repeat_transactions"].to_numpy(dtype=np.float64)
    firsts = activity["first_purchases"].to_numpy(dtype=np.float64)
    actual = np.array([repeats[offset <= g].sum() for g in grid])
    out = pd.DataFrame(
        {
            "day": [e.date() for e in ends],
            "period": np.where(
                np.array([e.date() for e in ends]) <= calibration_end, "calibration", "holdout"
            ),
            "actual": actual.astype(np.int64),
        }
    )
    started = firsts > 0
    age = (grid[None, :] - offset[started, None]) / scale  # (start days x grid)
    for name, model in models.items():
        expected = np.zeros(age.shape)
        positive = age > 0
        expected[positive] = model.expected_transactions_new(age[positive])
        out[name] = firsts[started] @ expected
    return out


def tracking_plot(
    table: pd.DataFrame,
    path: str | Path,
    title: str = "Cumulative repeat transactions: actual vs expected",
    scale: float = 2.0,
) -> Path:
    """Draw :func:`tracking_table` (one line per model and the actual counts) to ``path``.

    A vertical rule marks the end of the calibration period; ``.png`` or ``.svg``.
    """
    import altair as alt

    out = _plot_path(path)
    series = [c for c in table.columns if c not in ("day", "period")]
    long = table.melt(id_vars=["day", "period"], value_vars=series, var_name="series", value_name="repeat")
    long["day"] = pd.to_datetime(long["day"])
    lines = (
        alt.Chart(long, title=title)
        .mark_line()
        .encode(
            x=alt.X("day:T", title="Week ending"),
            y=alt.Y("repeat:Q", title="Cumulative repeat transactions"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top-left")),
            strokeDash=alt.condition(alt.datum.series == "actual", alt.value([1, 0]), alt.value([5, 3])),
        )
        .properties(width=520, height=300)
    )
    calibration = table.loc[table["period"] == "calibration", "day"]
    if len(calibration):
        cut = pd.DataFrame({"day": [pd.Timestamp(calibration.iloc[-1])], "label": ["end of calibration"]})
        rule = alt.Chart(cut).mark_rule(color="gray").encode(x="day:T")
        text = (
            alt.Chart(cut)
            .mark_text(align="left", dx=4, dy=-130, color="gray")
            .encode(x="day:T", text="label")
        )
        chart = alt.layer(lines, rule, text)
    else:
        chart = lines
    return _write_chart(chart, out, scale)
