"""Lifetime-value use cases behind ``personae clv``: the BTYD summary and calibration fits.

Application layer: reads resolved transactions from the store, runs the pure models in
:mod:`personae.clv`, returns plain data (the JSON keys are a contract, see docs/clv.md).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from personae.app.traits import clv_transactions, last_data_date
from personae.config import ClvSettings
from personae.errors import InputError
from personae.store import Store


def clv_summary(
    store: Store, *, as_of: date | None, time_unit: str, settings: ClvSettings | None = None
) -> pd.DataFrame:
    """``customer_id, frequency, recency, T, monetary_value`` per customer, as of a date."""
    from personae.clv import btyd_summary

    s = settings or ClvSettings()
    as_of = as_of or last_data_date(store)
    expr = btyd_summary(
        clv_transactions(store, s.exclude_returned), observation_end=as_of, time_unit=_unit(time_unit)
    )
    return store.execute(expr.order_by("customer_id"))


def clv_fit(
    store: Store,
    *,
    calibration_end: date,
    holdout_end: date | None,
    time_unit: str,
    plot: Path | None = None,
    settings: ClvSettings | None = None,
) -> dict[str, Any]:
    """Fit BG/NBD + Gamma-Gamma on data up to ``calibration_end``; evaluate on the holdout."""
    from personae.clv import BetaGeoModel, GammaGammaModel, btyd_summary, holdout_summary
    from personae.clv.holdout import calibration_plot, evaluate_holdout

    s = settings or ClvSettings()
    unit = _unit(time_unit)
    tx = clv_transactions(store, s.exclude_returned)
    cal = store.execute(
        btyd_summary(tx, observation_end=calibration_end, time_unit=unit).order_by("customer_id")
    )
    if cal.empty:
        raise InputError(f"no transactions on or before the calibration end {calibration_end}")
    f, r, T, m = (cal[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    bg = BetaGeoModel().fit(f, r, T)
    repeat = (f > 0) & (m > 0)
    gg = GammaGammaModel().fit(f[repeat], m[repeat])
    result: dict[str, Any] = {
        "calibration_end": calibration_end.isoformat(),
        "time_unit": unit,
        "customers": len(cal),
        "repeat_customers": int(repeat.sum()),
        "bgnbd": {**{k: float(v) for k, v in bg.params_.items()}, "loglik": float(bg.loglik_)},
        "gamma_gamma": {**{k: float(v) for k, v in gg.params_.items()}, "loglik": float(gg.loglik_)},
    }
    if holdout_end is not None:
        hold = store.execute(
            holdout_summary(tx, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=unit)
        )
        merged = cal.merge(hold, on="customer_id", how="left")
        duration = float(hold["duration_holdout"].iloc[0]) if len(hold) else 0.0
        actual = merged["frequency_holdout"].fillna(0).to_numpy(dtype=float)
        ev = evaluate_holdout(bg, f, r, T, actual, duration)
        table = ev.table
        result["holdout"] = {
            "holdout_end": holdout_end.isoformat(),
            "duration": duration,
            "customers": ev.n_customers,
            "actual_transactions": ev.actual_total,
            "predicted_transactions": ev.predicted_total,
            "error_pct": ev.total_error_pct,
            "mae": ev.mae,
            "rmse": ev.rmse,
            "correlation": ev.correlation,
            "by_calibration_frequency": table.to_dict("records"),
        }
        if plot is not None:
            calibration_plot(table, plot)
            result["holdout"]["plot"] = str(plot)
    return result


def _unit(time_unit: str) -> Literal["D", "W"]:
    unit = time_unit.upper()
    if unit == "D":
        return "D"
    if unit == "W":
        return "W"
    raise InputError(f"--time-unit {time_unit!r}: use D (days) or W (weeks)")


__all__ = ["clv_fit", "clv_summary", "last_data_date"]
