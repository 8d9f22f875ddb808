"""Lifetime-value use cases behind ``personae clv``: the BTYD summary and calibration fits.

Application layer: reads resolved transactions from the store, runs the pure models in
:mod:`personae.clv`, returns plain data (the JSON keys are a contract, see docs/clv.md).
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd

from personae.app.reads import last_data_date
from personae.clock import DEFAULT_ZONE, local_clock
from personae.clv.value import predictive_interval
from personae.config import ClvSettings
from personae.coverage import Coverage
from personae.errors import InputError, ModelError
from personae.store import Store
from personae.tables import is_return_line


def clv_summary(
    store: Store, *, as_of: date | None, time_unit: str, settings: ClvSettings | None = None
) -> pd.DataFrame:
    """``customer_id, frequency, recency, T, monetary_value`` per customer, as of a date."""
    from personae.clv import btyd_summary  # start-up: scipy

    s = settings or ClvSettings()
    as_of = as_of or last_data_date(store)
    expr = btyd_summary(
        clv_transactions(store, s.exclude_returned), observation_end=as_of, time_unit=_unit(time_unit)
    )
    # sums of cents in binary floats end in ...000004; 6 decimals keep every real digit
    return store.execute(expr.order_by("customer_id")).round({"monetary_value": 6})


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
    from personae.clv import BetaGeoModel, GammaGammaModel, btyd_summary, holdout_summary  # start-up: scipy
    from personae.clv.holdout import calibration_plot, evaluate_holdout  # start-up: scipy

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
    buyers = int(store.scalar(tx.customer_id.nunique()))
    result: dict[str, Any] = {
        "calibration_end": calibration_end.isoformat(),
        "time_unit": unit,
        "customers": len(cal),
        "repeat_customers": int(repeat.sum()),
        "bgnbd": {**{k: float(v) for k, v in bg.params_.items()}, "loglik": float(bg.loglik_)},
        "gamma_gamma": {**{k: float(v) for k, v in gg.params_.items()}, "loglik": float(gg.loglik_)},
        "left_out": Coverage.of(
            buyers, {"whose first order is after the calibration end": buyers - len(cal)}
        ).as_json(),
        "spend_left_out": Coverage.of(
            len(cal),
            {
                "without a repeat purchase by the calibration end (the spend model needs one)": len(cal)
                - int(repeat.sum())
            },
        ).as_json(),
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


def clv_transactions(store: Store, exclude_returned: bool = True, timezone: str = DEFAULT_ZONE) -> ibis.Table:
    """Resolved order lines as BTYD transactions (returned lines left out by default; return
    lines — negative quantity or amount — always: a return is no transaction), timed on the
    shop's clock (``timezone``) so that its days, and the as-of date, are the traits' days."""
    o = store.resolved("orders")
    o = o.filter(~is_return_line(o))
    if exclude_returned:
        o = o.filter(~o.returned.fill_null(False))
    return o.select(
        customer_id=o.customer_id, ordered_at=local_clock(o.ordered_at, timezone), amount=o.amount
    )


def build_clv(store: Store, as_of: date, s: ClvSettings, timezone: str = DEFAULT_ZONE) -> dict[str, object]:
    """Fit BG/NBD + Gamma-Gamma on everything up to ``as_of``; write ``clv`` per customer."""
    from personae.clv import (  # start-up: scipy
        GammaGammaModel,
        btyd_summary,
        customer_lifetime_value,
        value_tiers,
    )

    summary = store.execute(
        btyd_summary(
            clv_transactions(store, s.exclude_returned, timezone),
            observation_end=as_of,
            time_unit=s.time_unit,
        ).order_by("customer_id")  # a fixed row order makes the fit reproducible to the last bit
    )
    if summary.empty:
        return _skip(store, as_of, "no orders on or before the as-of date")
    f, r, T, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    try:
        # a weakly identified fit warns; the build says so in words instead (below)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bg, penalizer = fit_bgnbd(f, r, T, s.fallback_penalizer)
            repeat = (f > 0) & (m > 0)
            gg = GammaGammaModel().fit(f[repeat], m[repeat])
    except ModelError as exc:
        return _skip(store, as_of, str(exc))
    reason = bg.degenerate()
    if reason is not None:
        return _skip(store, as_of, reason, {**bg.params_, "penalizer": penalizer})
    unit_days = 7.0 if s.time_unit == "W" else 1.0
    horizon = s.horizon_months * 365.25 / 12 / unit_days
    values = customer_lifetime_value(
        bg,
        gg,
        f,
        r,
        T,
        m,
        horizon_months=s.horizon_months,
        discount_rate_annual=s.discount_rate_annual,
        time_unit=s.time_unit,
        interval=s.interval if s.interval_draws else None,
        n_draws=s.interval_draws,
        seed=s.seed,
    )
    how = values.attrs.get("interval", {"method": "none", "draws": 0, "draws_left_out": 0})
    nan = np.full(len(f), np.nan)
    predictive = (
        predictive_interval(
            bg,
            gg,
            f,
            r,
            T,
            m,
            values["clv"].to_numpy(),
            horizon_months=s.horizon_months,
            time_unit=s.time_unit,
            interval=s.interval,
            n_draws=s.predictive_draws,
            seed=s.seed,
        )
        if s.predictive_draws
        else pd.DataFrame({"clv_predictive_low": nan, "clv_predictive_high": nan})
    )
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].astype(str),
            "clv_frequency": f,
            "clv_recency": r * unit_days,
            "clv_T": T * unit_days,
            "p_alive": bg.p_alive(f, r, T),
            "expected_transactions_12m": bg.predict_transactions(horizon, f, r, T),
            "expected_spend": gg.expected_spend(f, m),
            "clv_12m": values["clv"].to_numpy(),
            # without interval draws (clv.interval_draws = 0) the interval is unknown
            "clv_12m_low": values.get("clv_low", pd.Series(np.nan, index=values.index)).to_numpy(),
            "clv_12m_high": values.get("clv_high", pd.Series(np.nan, index=values.index)).to_numpy(),
            "clv_12m_predictive_low": predictive["clv_predictive_low"].to_numpy(),
            "clv_12m_predictive_high": predictive["clv_predictive_high"].to_numpy(),
        }
    )
    out["value_tier"] = value_tiers(out["clv_12m"].to_numpy())
    store.replace("clv", out)
    params = {**bg.params_, **{f"gg_{k}": v for k, v in gg.params_.items()}, "penalizer": penalizer}
    note = _interval_note(how)
    store.replace(
        "clv_params",
        pd.DataFrame(
            [
                {
                    **params,
                    "as_of": as_of,
                    "loglik": bg.loglik_,
                    "status": "fitted",
                    "reason": None,
                    "interval_method": how["method"],
                    "interval_note": note,
                }
            ]
        ).astype({"reason": "string", "interval_note": "string"}),
    )
    result: dict[str, object] = {"customers": len(out), **{k: round(float(v), 4) for k, v in params.items()}}
    result["interval"] = how["method"]
    if note:
        result["note"] = note
    return result


def _interval_note(how: dict[str, Any]) -> str | None:
    """The parameter interval's caveat in words (``None`` when there is none)."""
    if how.get("note"):
        return str(how["note"])
    parts = []
    if how.get("method") == "bootstrap":
        parts.append(
            f"the fit is weakly identified ({how.get('why', 'its Hessian is not positive definite')}), "
            f"so the CLV interval comes from {how['draws']} refits on resampled customers"
        )
    if how.get("draws_left_out"):
        parts.append(
            f"{how['draws_left_out']} draws (refits that failed, or parameters the model cannot "
            "evaluate) were left out"
        )
    return "; ".join(parts) or None


def _skip(
    store: Store, as_of: date, reason: str, params: dict[str, float] | None = None
) -> dict[str, object]:
    """No lifetime values: the ``clv`` table goes (the CLV traits stay empty) and ``clv_params``
    keeps the reason, which the build prints and the report shows."""
    store.drop("clv")
    row = {**(params or {}), "as_of": as_of, "status": "skipped", "reason": reason}
    store.replace("clv_params", pd.DataFrame([row]).astype({"reason": "string"}))
    return {"skipped": f"{reason}; the CLV traits stay empty"}


def clv_status(store: Store) -> str | None:
    """Why the last build wrote no lifetime values, if it wrote none for a reason."""
    if not store.has_table("clv_params"):
        return None
    t = store.table("clv_params")
    if "status" not in t.columns:
        return None
    rows = store.rows(t.select("status", "reason"))
    return next((str(r["reason"]) for r in rows if r["status"] == "skipped" and r["reason"]), None)


def fit_bgnbd(f: np.ndarray, r: np.ndarray, T: np.ndarray, fallback_penalizer: float) -> tuple[Any, float]:
    """Plain maximum likelihood; if the data cannot identify the model, a lightly penalised fit.

    Real and synthetic bases sometimes put the optimum on the boundary (e.g. a, b → ∞: every
    customer has the same drop-out probability). The penalised fit keeps the parameters finite
    and barely changes the likelihood; which one was used is recorded in ``clv_params``.
    """
    from personae.clv import BetaGeoModel  # start-up: scipy

    try:
        return BetaGeoModel().fit(f, r, T), 0.0
    except ModelError:
        if not fallback_penalizer:
            raise
        return BetaGeoModel(penalizer_coef=fallback_penalizer).fit(f, r, T), fallback_penalizer
