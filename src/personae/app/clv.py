"""Lifetime-value use cases behind ``personae clv``: the BTYD summary and calibration fits.

Application layer: reads resolved transactions from the store, runs the pure models in
:mod:`personae.clv`, returns plain data (the JSON keys are a contract, see docs/clv.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
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


#: the repeat-purchase models by their JSON key (``clv.model`` / ``--model``)
MODEL_KEYS = ("bg_nbd", "mbg_nbd", "pareto_nbd")
#: the discrete-opportunity model (``--model bg_bb``; ``auto`` where ``clv.opportunity`` is set)
BG_BB = "bg_bb"
#: every key ``personae clv fit`` may print, in order
ALL_MODEL_KEYS = (*MODEL_KEYS, BG_BB)
#: above this share of active periods with purchases on two or more days, the data are not
#: discrete opportunities: the purchase/no-purchase summary would drop too many purchases
MAX_BUSY_SHARE = 0.05


def model_class(key: str) -> Any:
    """The model class behind a key of :data:`ALL_MODEL_KEYS`."""
    from personae.clv.bgbb import BetaGeoBetaBinomModel  # start-up: scipy
    from personae.clv.bgnbd import BetaGeoModel  # start-up: scipy
    from personae.clv.mbgnbd import ModifiedBetaGeoModel  # start-up: scipy
    from personae.clv.pareto_nbd import ParetoNBDModel  # start-up: scipy

    classes = {
        "bg_nbd": BetaGeoModel,
        "mbg_nbd": ModifiedBetaGeoModel,
        "pareto_nbd": ParetoNBDModel,
        BG_BB: BetaGeoBetaBinomModel,
    }
    if key not in classes:
        raise InputError(f"unknown model {key!r}", hint="use bg_nbd, mbg_nbd, pareto_nbd, bg_bb or auto")
    return classes[key]


def discrete_applies(opportunity: str, active_periods: float, busy_periods: float) -> tuple[bool, str]:
    """Whether the data are discrete opportunities (BG/BB applies), and why, in words.

    They are when ``clv.opportunity`` names a period and almost every period with a purchase
    has purchases on one day only (at most :data:`MAX_BUSY_SHARE` with more): the BG/BB
    summary keeps one purchase per period, so more than that would throw purchases away.

    Example:
        >>> discrete_applies("week", 1000, 12)[0], discrete_applies("week", 1000, 300)[0]
        (True, False)
        >>> discrete_applies("none", 1000, 0)[1]
        'bg_bb not considered: clv.opportunity is none (purchases can happen any day)'
    """
    if opportunity == "none":
        return False, "bg_bb not considered: clv.opportunity is none (purchases can happen any day)"
    share = busy_periods / active_periods if active_periods else 0.0
    if share > MAX_BUSY_SHARE:
        return False, (
            f"bg_bb not considered: {share:.1%} of the {opportunity}s with a purchase have purchases on "
            f"two or more days (at most {MAX_BUSY_SHARE:.0%} for discrete opportunities), so one "
            f"purchase per {opportunity} would drop real purchases"
        )
    return True, (
        f"bg_bb considered: clv.opportunity is {opportunity} and {share:.1%} of the {opportunity}s "
        "with a purchase have purchases on two or more days"
    )


def _fit_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A BTYD summary's frequency, recency, T and mean spend, as the fits take them.

    Mean spend to a millionth: DuckDB and Spark sum in different orders, and on a flat
    likelihood a last-bit difference can decide whether a parameter reaches its bound.
    """
    f, r, T, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    return f, r, T, np.round(m, 6)


def fit_repeat_model(
    key: str, f: np.ndarray, r: np.ndarray, T: np.ndarray, fallback_penalizer: float
) -> tuple[Any, float]:
    """Plain maximum likelihood; if the data cannot identify the model, a lightly penalised fit.

    Real and synthetic bases sometimes put the optimum on the boundary (e.g. a, b → ∞: every
    customer has the same drop-out probability). The penalised fit keeps the parameters finite
    and barely changes the likelihood; which one was used is recorded in ``clv_params``.
    Hessian warnings are silenced here: :func:`fit_warning` says it in words instead.
    """
    cls = model_class(key)
    return _with_fallback(lambda penalizer: cls(penalizer_coef=penalizer).fit(f, r, T), fallback_penalizer)


def fit_spend_model(f: np.ndarray, m: np.ndarray, fallback_penalizer: float) -> tuple[Any, float]:
    """Gamma-Gamma on the repeat buyers, with the same fallback as :func:`fit_repeat_model`.

    On small or homogeneous shops its ``p`` can run off to infinity (a customer's spend hardly
    varies from one purchase to the next); the lightly penalised fit keeps it finite instead of
    leaving every lifetime value empty.
    """
    from personae.clv import GammaGammaModel  # start-up: scipy

    repeat = (f > 0) & (m > 0)
    return _with_fallback(
        lambda penalizer: GammaGammaModel(penalizer_coef=penalizer).fit(f[repeat], m[repeat]),
        fallback_penalizer,
    )


def _with_fallback(fit: Callable[[float], Any], fallback_penalizer: float) -> tuple[Any, float]:
    """``fit(0)`` (plain maximum likelihood), else ``fit(fallback_penalizer)`` when a parameter
    runs off; returns the model and the penalizer used. Hessian warnings are silenced:
    :func:`fit_warning` says it in words instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return fit(0.0), 0.0
        except ModelError:
            if not fallback_penalizer:
                raise
            return fit(fallback_penalizer), fallback_penalizer


def fit_warning(model: Any, penalizer: float = 0.0, spend_penalizer: float = 0.0) -> str | None:
    """A degenerate or weakly identified fit in words: what it means and what to do
    (``spend_penalizer``: the one :func:`fit_spend_model` used, if it fell back)."""
    label = model.LABEL
    reason = model.degenerate()
    if reason is not None:
        return (
            f"{reason}. Its lifetime values would count every customer as active for ever: do not "
            "use them; lengthen the calibration period, or choose a model whose fit shows drop-out."
        )
    parts = []
    weak = model.weakly_identified()
    if weak is not None:
        parts.append(
            f"{label} is weakly identified ({weak}): the data pin down its predictions but not its "
            "parameters, so the parameters and their standard errors should not be read one by one, "
            "and CLV intervals come from refits on resampled customers. More customers or a longer "
            "history sharpen it"
        )
    if penalizer:
        parts.append(
            f"plain maximum likelihood sent a {label} parameter to 0 or infinity, so a penalised fit "
            f"(penalizer {penalizer:g}) was used: the data cannot tell that parameter apart from its limit"
        )
    if spend_penalizer:
        parts.append(
            "plain maximum likelihood sent a Gamma-Gamma parameter to infinity (a customer's spend "
            f"hardly varies between purchases), so a penalised spend fit (penalizer {spend_penalizer:g}) "
            "was used"
        )
    return "; ".join(parts) + "." if parts else None


def _model_json(model: Any, penalizer: float) -> dict[str, Any]:
    out: dict[str, Any] = {k: float(v) for k, v in model.params_.items()}
    out["loglik"] = float(model.loglik_)
    if penalizer:
        out["penalizer"] = penalizer
    warning = fit_warning(model, penalizer)
    if warning:
        out["warning"] = warning
    return out


def choose_model(fitted: dict[str, Any], holdout_mae: dict[str, float] | None) -> tuple[str, str]:
    """The model to use and why, in words.

    With a holdout: the lowest per-customer mean absolute error of the holdout transactions
    among fits that are not degenerate. Without one: the highest log-likelihood (every model
    has four parameters, so this is also the lowest AIC/BIC).
    """
    usable = {k: m for k, m in fitted.items() if m.degenerate() is None}
    dropped = sorted(set(fitted) - set(usable))
    note = f" ({', '.join(dropped)} left out: its fit says nobody leaves)" if dropped else ""
    if not usable:
        raise ModelError(
            "no repeat-purchase model could tell when customers leave",
            hint="lengthen the history (calibration period) or check the order dates",
        )
    if holdout_mae:
        scores = {k: holdout_mae[k] for k in usable if k in holdout_mae}
        best = min(scores, key=lambda k: scores[k])
        ranking = ", ".join(f"{k} {v:.4f}" for k, v in sorted(scores.items(), key=lambda kv: kv[1]))
        if BG_BB in scores:
            what = (
                "per-customer holdout MAE relative to the mean holdout count, each model in its own "
                "unit (bg_bb: purchase opportunities; the others: repeat transactions)"
            )
            return best, f"lowest {what}: {ranking}{note}"
        return best, f"lowest per-customer holdout MAE (repeat transactions): {ranking}{note}"
    lls = {k: float(m.loglik_) for k, m in usable.items()}
    best = max(lls, key=lambda k: lls[k])
    ranking = ", ".join(f"{k} {v:.1f}" for k, v in sorted(lls.items(), key=lambda kv: -kv[1]))
    return best, f"no holdout period: highest log-likelihood (all have 4 parameters): {ranking}{note}"


def clv_fit(
    store: Store,
    *,
    calibration_end: date,
    holdout_end: date | None,
    time_unit: str,
    plot: Path | None = None,
    settings: ClvSettings | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Fit the repeat-purchase model(s) + Gamma-Gamma up to ``calibration_end``; check on the holdout.

    ``model`` (default ``settings.model``) is a key of :data:`ALL_MODEL_KEYS` or ``auto`` (fit
    each, keep the best on the holdout). BG/NBD is always fitted, for the ``bgnbd`` key.
    BG/BB (``bg_bb``) works on purchase opportunities (``clv.opportunity``: week or month);
    ``auto`` considers it only where :func:`discrete_applies` says the data are discrete, and
    only with a holdout (its likelihood is of other data, so not comparable).
    ``plot`` writes the calibration plot there and the tracking plot next to it
    (``<stem>-tracking<suffix>``); nothing is written without it.
    """
    from personae.clv import btyd_summary, holdout_summary  # start-up: scipy
    from personae.clv.holdout import (  # start-up: scipy
        calibration_plot,
        evaluate_holdout,
        tracking_plot,
        tracking_table,
    )
    from personae.clv.summary import daily_cohort_activity, opportunity_summary  # start-up: scipy

    s = settings or ClvSettings()
    which = model or s.model
    if which != "auto":
        model_class(which)  # unknown names fail before any work
    if which == BG_BB and s.opportunity == "none":
        raise InputError(
            "--model bg_bb needs purchase opportunities, and clv.opportunity is none",
            hint="set clv.opportunity: week (or month) in personae.yaml: the period of your events or sends",
        )
    unit = _unit(time_unit)
    tx = clv_transactions(store, s.exclude_returned)
    cal = store.execute(
        btyd_summary(tx, observation_end=calibration_end, time_unit=unit).order_by("customer_id")
    )
    if cal.empty:
        raise InputError(f"no transactions on or before the calibration end {calibration_end}")
    f, r, T, m = _fit_arrays(cal)
    continuous = "bg_nbd" if which == BG_BB else which
    keys = list(MODEL_KEYS) if which == "auto" else sorted({"bg_nbd", continuous}, key=MODEL_KEYS.index)
    fitted: dict[str, Any] = {}
    failed: dict[str, str] = {}
    penalizers: dict[str, float] = {}
    for key in keys:
        try:
            fitted[key], penalizers[key] = fit_repeat_model(key, f, r, T, s.fallback_penalizer)
        except ModelError as exc:
            failed[key] = str(exc)
    repeat = (f > 0) & (m > 0)
    gg, gg_penalizer = fit_spend_model(f, m, s.fallback_penalizer)
    buyers = int(store.scalar(tx.customer_id.nunique()))
    result: dict[str, Any] = {
        "calibration_end": calibration_end.isoformat(),
        "time_unit": unit,
        "customers": len(cal),
        "repeat_customers": int(repeat.sum()),
    }
    if "bg_nbd" in fitted:
        result["bgnbd"] = _model_json(fitted["bg_nbd"], penalizers["bg_nbd"])
    for key in keys:
        result[key] = _model_json(fitted[key], penalizers[key]) if key in fitted else {"error": failed[key]}
    discrete = _fit_discrete(store, tx, which, calibration_end, holdout_end, s, opportunity_summary)
    if discrete.model is not None:
        fitted[BG_BB] = discrete.model
    if discrete.json:
        result[BG_BB] = discrete.json
    result["gamma_gamma"] = {**{k: float(v) for k, v in gg.params_.items()}, "loglik": float(gg.loglik_)}
    if gg_penalizer:
        result["gamma_gamma"]["penalizer"] = gg_penalizer
    result["left_out"] = Coverage.of(
        buyers, {"whose first order is after the calibration end": buyers - len(cal)}
    ).as_json()
    result["spend_left_out"] = Coverage.of(
        len(cal),
        {
            "without a repeat purchase by the calibration end (the spend model needs one)": len(cal)
            - int(repeat.sum())
        },
    ).as_json()
    evaluations: dict[str, Any] = {}
    if holdout_end is not None:
        hold = store.execute(
            holdout_summary(tx, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=unit)
        )
        merged = cal.merge(hold, on="customer_id", how="left")
        duration = float(hold["duration_holdout"].iloc[0]) if len(hold) else 0.0
        actual = merged["frequency_holdout"].fillna(0).to_numpy(dtype=float)
        evaluations = {
            k: evaluate_holdout(mod, f, r, T, actual, duration) for k, mod in fitted.items() if k != BG_BB
        }
        if discrete.model is not None and discrete.holdout is not None:
            evaluations[BG_BB] = evaluate_holdout(discrete.model, *discrete.holdout)
    # BG/BB competes only on a holdout: its likelihood is of opportunities, not of days
    candidates = {
        k: v
        for k, v in fitted.items()
        if (which == "auto" and (k != BG_BB or BG_BB in evaluations)) or k == which
    }
    if not candidates:
        raise ModelError(f"{which}: {failed.get(which, 'the fit failed')}")
    # with BG/BB in the running the targets differ (purchase opportunities vs transactions):
    # each error is taken relative to its own mean holdout count
    relative = BG_BB in candidates
    chosen, why = choose_model(
        candidates,
        {
            k: evaluations[k].mae / max(evaluations[k].actual_total / evaluations[k].n_customers, 1e-12)
            if relative
            else evaluations[k].mae
            for k in candidates
        }
        if evaluations
        else None,
    )
    if which != "auto":
        why = "asked for (--model or clv.model)"
    elif discrete.note:
        why = f"{why}; {discrete.note}"
    result["model"] = {"chosen": chosen, "why": why}
    result["clv_interval"] = (
        {
            "note": "no CLV interval for bg_bb: it predicts purchases per opportunity, not spend over "
            "time; lifetime values come from the continuous-time models (the build's clv.model)"
        }
        if chosen == BG_BB
        else _interval_summary(fitted[chosen], gg, f, r, T, m, unit, s)
    )
    if evaluations:
        ev = evaluations[chosen]
        table = ev.table
        for key, other in evaluations.items():
            if (key == BG_BB) == (chosen == BG_BB):  # tables by frequency in the same unit only
                table[f"predicted_{key}"] = other.table["predicted"]
        result["holdout"] = {
            "holdout_end": holdout_end.isoformat() if holdout_end else None,
            "model": chosen,
            "duration": duration,
            "customers": ev.n_customers,
            "actual_transactions": ev.actual_total,
            "predicted_transactions": ev.predicted_total,
            "error_pct": ev.total_error_pct,
            "mae": ev.mae,
            "rmse": ev.rmse,
            "correlation": ev.correlation,
            "by_model": {
                key: {
                    "predicted_transactions": e.predicted_total,
                    "error_pct": e.total_error_pct,
                    "mae": e.mae,
                    "rmse": e.rmse,
                    "correlation": e.correlation,
                    **({"unit": f"purchase {s.opportunity}s"} if key == BG_BB else {}),
                }
                for key, e in evaluations.items()
            },
            "by_calibration_frequency": table.to_dict("records"),
        }
        if plot is not None:
            assert holdout_end is not None
            # the plots are in days: the continuous-time models only
            days = {k: e for k, e in evaluations.items() if k != BG_BB}
            lines = days[next(iter(days))].table[["frequency", "n_customers", "actual"]].copy()
            for key, other in days.items():
                lines[key] = other.table["predicted"]
            calibration_plot(lines, plot, title="Holdout transactions: actual vs predicted by model")
            activity = store.execute(daily_cohort_activity(tx, calibration_end, holdout_end))
            tracking = tracking_table(
                activity,
                {k: v for k, v in fitted.items() if k != BG_BB},
                calibration_end=calibration_end,
                holdout_end=holdout_end,
                time_unit=unit,
            )
            tracking_path = plot.with_name(f"{plot.stem}-tracking{plot.suffix}")
            tracking_plot(tracking, tracking_path)
            result["holdout"]["plot"] = str(plot)
            result["holdout"]["tracking_plot"] = str(tracking_path)
    return _finite(result)


@dataclass
class _Discrete:
    """The BG/BB part of ``clv fit``: its fit, JSON, holdout inputs and a note for ``why``."""

    model: Any = None
    json: dict[str, Any] = field(default_factory=dict)
    #: (x, t_x, n, actual holdout opportunities with a purchase, holdout opportunities)
    holdout: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None = None
    note: str | None = None


def _fit_discrete(
    store: Store,
    tx: ibis.Table,
    which: str,
    calibration_end: date,
    holdout_end: date | None,
    s: ClvSettings,
    opportunity_summary: Any,
) -> _Discrete:
    """Fit BG/BB on the opportunity summary where it was asked for or (``auto``) applies."""
    if which not in ("auto", BG_BB):
        return _Discrete()
    if s.opportunity == "none":
        return _Discrete(note=discrete_applies("none", 0, 0)[1])
    opp = store.execute(
        opportunity_summary(tx, calibration_end, s.opportunity, holdout_end).order_by("customer_id")
    )
    if opp.empty:
        message = f"no customer has a complete {s.opportunity} of history by {calibration_end}"
        if which == BG_BB:
            raise InputError(message, hint="move --calibration-end later or use a shorter clv.opportunity")
        return _Discrete(note=f"bg_bb not considered: {message}")
    applies, note = discrete_applies(
        s.opportunity, float(opp["active_periods"].sum()), float(opp["busy_periods"].sum())
    )
    if which == "auto" and not applies:
        return _Discrete(note=note)
    x, t_x, n = (opp[c].to_numpy(dtype=float) for c in ("frequency", "recency", "n_periods"))
    out = _Discrete(note=note)
    try:
        model, penalizer = fit_repeat_model(BG_BB, x, t_x, n, s.fallback_penalizer)
    except ModelError as exc:
        if which == BG_BB:
            raise
        out.json = {"error": str(exc)}
        return out
    out.model = model
    out.json = {
        **_model_json(model, penalizer),
        "opportunity": s.opportunity,
        "customers": len(opp),
        "busy_share": float(opp["busy_periods"].sum() / max(float(opp["active_periods"].sum()), 1.0)),
    }
    if holdout_end is not None:
        from personae.clv.summary import last_complete_period  # start-up: scipy

        duration = last_complete_period(holdout_end, s.opportunity) - last_complete_period(
            calibration_end, s.opportunity
        )
        if duration > 0:
            actual = opp["frequency_holdout"].to_numpy(dtype=float)
            out.holdout = (x, t_x, n, actual, float(duration))
        else:
            out.note = f"{note}, but the holdout holds no complete {s.opportunity}: not compared"
    else:
        out.note = f"{note}, but without a holdout it cannot be compared with the others"
    return out


def _finite(value: Any) -> Any:
    """``value`` with every NaN/inf float replaced by ``None`` (an empty frequency group, a
    holdout without transactions): never a NaN in front of a user.

    Example:
        >>> _finite({"a": [1.0, float("nan")], "b": {"c": float("inf")}})
        {'a': [1.0, None], 'b': {'c': None}}
    """
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def _interval_summary(
    model: Any, gg: Any, f: np.ndarray, r: np.ndarray, T: np.ndarray, m: np.ndarray, unit: str, s: ClvSettings
) -> dict[str, Any]:
    """How sure the lifetime values are: widths of the CLV parameter interval, in words."""
    from personae.clv import customer_lifetime_value  # start-up: scipy

    if not s.interval_draws:
        return {"note": "no interval (clv.interval_draws = 0)"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = customer_lifetime_value(
            model,
            gg,
            f,
            r,
            T,
            m,
            horizon_months=s.horizon_months,
            discount_rate_annual=s.discount_rate_annual,
            time_unit=_unit(unit),
            interval=s.interval,
            n_draws=s.interval_draws,
            seed=s.seed,
        )
    return interval_widths(values, s.interval, s.horizon_months, values.attrs.get("interval", {}))


def interval_widths(
    values: pd.DataFrame, interval: float, horizon_months: int, how: dict[str, Any]
) -> dict[str, Any]:
    """Median and 90th-percentile relative width of the CLV interval, and a sentence.

    The relative width is ``(clv_high - clv_low) / clv`` over customers with a positive CLV
    and a known interval; customers without one are counted, never silently dropped.

    Example:
        >>> v = pd.DataFrame({"clv": [10.0, 20.0, 0.0], "clv_low": [9.0, 16.0, 0.0],
        ...                   "clv_high": [11.0, 24.0, 0.0]})
        >>> w = interval_widths(v, 0.9, 12, {"method": "normal"})
        >>> w["median_relative_width"], w["customers"], w["left_out"]
        (0.3, 2, 1)
    """
    if "clv_low" not in values:
        return {"note": "no interval"}
    clv = values["clv"].to_numpy(dtype=float)
    low, high = values["clv_low"].to_numpy(dtype=float), values["clv_high"].to_numpy(dtype=float)
    ok = np.isfinite(low) & np.isfinite(high) & (clv > 0)
    if not ok.any():
        return {"note": str(how.get("note") or "the interval could not be computed"), "left_out": len(clv)}
    rel = (high[ok] - low[ok]) / clv[ok]
    median, p90 = (round(float(v), 4) for v in np.percentile(rel, [50, 90]))
    return {
        "method": how.get("method", "normal"),
        "median_relative_width": median,
        "p90_relative_width": p90,
        "customers": int(ok.sum()),
        "left_out": int((~ok).sum()),
        "in_words": (
            f"the {interval:.0%} interval of a typical customer's {horizon_months}-month CLV spans "
            f"{median:.0%} of its value (90% of customers: at most {p90:.0%}); it reflects how "
            "sure the fitted parameters are, not the customer's own randomness"
        ),
    }


def _unit(time_unit: str) -> Literal["D", "W"]:
    unit = time_unit.upper()
    if unit == "D":
        return "D"
    if unit == "W":
        return "W"
    raise InputError(f"--time-unit {time_unit!r}: use D (days) or W (weeks)")


__all__ = ["ALL_MODEL_KEYS", "MODEL_KEYS", "clv_fit", "clv_summary", "fit_repeat_model", "last_data_date"]


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
    """Fit the ``clv.model`` (BG/NBD, MBG/NBD, Pareto/NBD, or the best of them on a holdout)
    + Gamma-Gamma on everything up to ``as_of``; write ``clv`` per customer (``p_alive``,
    expected transactions and CLV come from the chosen model)."""
    from personae.clv import (  # start-up: scipy
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
    f, r, T, m = _fit_arrays(summary)
    try:
        key, why = (
            select_model(store, as_of, s, timezone) if s.model == "auto" else (s.model, "set in clv.model")
        )
        # a weakly identified fit warns; the build says so in words instead (below)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bg, penalizer = fit_repeat_model(key, f, r, T, s.fallback_penalizer)
            gg, gg_penalizer = fit_spend_model(f, m, s.fallback_penalizer)
    except ModelError as exc:
        return _skip(store, as_of, str(exc))
    reason = bg.degenerate()
    if reason is not None:
        return _skip(store, as_of, reason, {**bg.params_, "penalizer": penalizer}, model=key)
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
    warning = fit_warning(bg, penalizer, gg_penalizer)
    widths = interval_widths(values, s.interval, s.horizon_months, how) if s.interval_draws else {}
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
                    "model": key,
                    "model_why": why,
                    "warning": warning,
                    "median_relative_width": widths.get("median_relative_width", np.nan),
                }
            ]
        ).astype({"reason": "string", "interval_note": "string", "warning": "string"}),
    )
    result: dict[str, object] = {
        "customers": len(out),
        "model": key,
        "model_why": why,
        **{k: round(float(v), 4) for k, v in params.items()},
    }
    if s.exclude_returned:
        # buyers whose every line came back have no transaction left: say how many, never silently
        every = clv_transactions(store, False, timezone)
        buyers = int(store.scalar(every.filter(every.ordered_at.date() <= as_of).customer_id.nunique()))
        returned_only = max(buyers - len(out), 0)
        if returned_only:
            result["left_out"] = Coverage.of(
                buyers, {"whose every order line was returned (clv.exclude_returned)": returned_only}
            ).as_json()
    result["interval"] = how["method"]
    if widths.get("in_words"):
        result["interval_width"] = widths["in_words"]
    if note:
        result["note"] = note
    if warning:
        result["warning"] = warning
    return result


#: below this many days of history, ``auto`` compares the models by likelihood, not holdout
MIN_HISTORY_FOR_HOLDOUT_DAYS = 84


def select_model(store: Store, as_of: date, s: ClvSettings, timezone: str = DEFAULT_ZONE) -> tuple[str, str]:
    """``clv.model: auto`` in the build: the model with the lowest holdout error, and why.

    The last third of the history (days from the first order to ``as_of``) is held out:
    each model is fitted on the rest and predicts each customer's repeat transactions in it,
    as ``personae clv fit --holdout-end`` does; the chosen model is then refitted on the
    whole history by the caller. With under :data:`MIN_HISTORY_FOR_HOLDOUT_DAYS` days of
    history the models are compared by log-likelihood instead.
    """
    from personae.clv import btyd_summary, evaluate_holdout, holdout_summary  # start-up: scipy

    tx = clv_transactions(store, s.exclude_returned, timezone)
    first = store.scalar(tx.ordered_at.min())
    first_day = pd.Timestamp(first).date() if first is not None else as_of
    span = (as_of - first_day).days
    unit = s.time_unit
    if span < MIN_HISTORY_FOR_HOLDOUT_DAYS:
        cal_end, holdout = as_of, False
    else:
        cal_end, holdout = as_of - timedelta(days=span // 3), True
    cal = store.execute(btyd_summary(tx, observation_end=cal_end, time_unit=unit).order_by("customer_id"))
    f, r, T = (cal[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    fitted: dict[str, Any] = {}
    for key in MODEL_KEYS:
        try:
            fitted[key] = fit_repeat_model(key, f, r, T, s.fallback_penalizer)[0]
        except ModelError:
            continue
    if not fitted:
        raise ModelError("no repeat-purchase model could be fitted on the calibration period")
    if not holdout:
        key, why = choose_model(fitted, None)
        return key, f"{why} (only {span} days of history, too few for a holdout)"
    hold = store.execute(holdout_summary(tx, calibration_end=cal_end, holdout_end=as_of, time_unit=unit))
    merged = cal.merge(hold, on="customer_id", how="left")
    actual = merged["frequency_holdout"].fillna(0).to_numpy(dtype=float)
    duration = (as_of - cal_end).days / (7.0 if unit == "W" else 1.0)
    mae = {k: evaluate_holdout(mod, f, r, T, actual, duration).mae for k, mod in fitted.items()}
    key, why = choose_model(fitted, mae)
    return key, f"{why}; calibration to {cal_end}, holdout to {as_of}"


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
    store: Store, as_of: date, reason: str, params: dict[str, float] | None = None, model: str | None = None
) -> dict[str, object]:
    """No lifetime values: the ``clv`` table goes (the CLV traits stay empty) and ``clv_params``
    keeps the reason, which the build prints and the report shows."""
    store.drop("clv")
    row: dict[str, object] = {**(params or {}), "as_of": as_of, "status": "skipped", "reason": reason}
    if model is not None:
        row["model"] = model
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
