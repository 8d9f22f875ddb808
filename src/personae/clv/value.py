r"""Customer lifetime value from a BG/NBD and a Gamma-Gamma model, and value tiers.

Discounted CLV over ``H`` months, computed per month as ``lifetimes`` does::

    CLV = E[M] * sum_{i=1..H} (E[Y(i)] - E[Y(i-1)]) / (1 + d)^i

where ``E[Y(i)]`` is the BG/NBD conditional expected number of transactions in the next
``i`` months (:meth:`BetaGeoModel.predict_transactions`), ``E[M]`` the Gamma-Gamma expected
average transaction value (:meth:`GammaGammaModel.expected_spend`) and
``d = (1 + discount_rate_annual)^(1/12) - 1`` the monthly discount rate. A month is
365.25/12 days (30.4375 days, 4.348 weeks); lifetimes uses 30 days / 4.345 weeks and a
*monthly* ``discount_rate``, so its figures differ slightly.

Uncertainty: ``clv_low``/``clv_high`` are percentile intervals over parameter draws from
the asymptotic normal distribution of each model's *log*-parameters (mean the MLE,
covariance ``log_covariance_`` — the inverse Hessian of the NLL), i.e. they reflect
estimation uncertainty in the population parameters, **not** the customer's own
randomness (a customer's realised value varies far more). Draws are reproducible with
``seed`` and vectorised; customers with identical inputs are computed once, and the
expected purchases of a customer who is alive (which do not depend on recency) once per
distinct (frequency, T) pair, for all months in one vectorised call.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from personae.clv._fitting import (
    LOG_BOUND,
    FloatArray,
    GroupedRows,
    as_float_array,
    group_rows,
    same_length,
)
from personae.errors import InputError, ModelError

if TYPE_CHECKING:
    # Only for annotations: the models import scipy.special, and this module is imported at CLI
    # start-up (for TIERS) where that cost is not wanted.
    from personae.clv.bgnbd import BetaGeoModel
    from personae.clv.gamma_gamma import GammaGammaModel
    from personae.clv.mbgnbd import ModifiedBetaGeoModel
    from personae.clv.pareto_nbd import ParetoNBDModel

    #: any of the repeat-purchase models (same interface)
    RepeatModel: TypeAlias = BetaGeoModel | ModifiedBetaGeoModel | ParetoNBDModel

DAYS_PER_MONTH = 365.25 / 12
TIERS = ("top1", "top10", "top25", "rest")


def _months_in_unit(time_unit: str) -> float:
    if time_unit == "D":
        return DAYS_PER_MONTH
    if time_unit == "W":
        return DAYS_PER_MONTH / 7
    raise InputError(f"unknown time_unit {time_unit!r}", hint="use 'D' (days) or 'W' (weeks)")


@dataclass(frozen=True)
class _BgRows:
    """Distinct BG/NBD inputs: (x, t_x, T) rows for P(alive), (x, T) pairs for the rest.

    The expected purchases of a customer who is alive do not depend on recency, so they
    are computed once per distinct (x, T) pair and horizon; only the closed-form P(alive)
    is per distinct (x, t_x, T) row. ``x_unique[pair_code]`` is each pair's frequency.
    """

    x: FloatArray
    tx: FloatArray
    big_t: FloatArray
    x_unique: FloatArray
    pair_code: NDArray[np.intp]
    pair_t: FloatArray
    pair_of_row: NDArray[np.intp]

    @classmethod
    def build(cls, rows: GroupedRows) -> _BgRows:
        """From the distinct (x, t_x, T) rows (:func:`group_rows` of the three columns)."""
        (x_unique, _, t_unique), (x_code, _, t_code) = rows.uniques, rows.codes
        key = x_code.astype(np.int64) * len(t_unique) + t_code
        pair_of_row, pair_key = pd.factorize(key)
        pair_key = np.asarray(pair_key, dtype=np.int64)
        return cls(
            x=rows.column(0),
            tx=rows.column(1),
            big_t=rows.column(2),
            x_unique=x_unique,
            pair_code=(pair_key // len(t_unique)).astype(np.intp),
            pair_t=t_unique[pair_key % len(t_unique)],
            pair_of_row=np.asarray(pair_of_row, dtype=np.intp),
        )


#: (pairs x months) values per call of :func:`_expected_if_alive`, to bound memory
_VALUES_BLOCK = 1 << 22


def _discounted_transactions(
    model: RepeatModel,
    params: tuple[float, ...],
    rows: _BgRows,
    month: float,
    horizon: int,
    monthly_rate: float,
) -> tuple[FloatArray, FloatArray]:
    """(Σ_i discounted E[transactions in month i], E[transactions over the horizon]) per row.

    ``model`` (any of the repeat-purchase models, at parameters ``params``) gives P(alive)
    per distinct row and E[transactions | alive] for all months of each distinct (x, T)
    pair at once (in blocks), so the BG/NBD family's per-frequency quadrature rules and
    interpolants serve every month.
    """
    alive = model._p_alive_rows(params, rows.x, rows.tx, rows.big_t)
    horizons = month * np.arange(1, horizon + 1, dtype=np.float64)
    discount = (1.0 + monthly_rate) ** -np.arange(1, horizon + 1)
    n_pairs = len(rows.pair_t)
    discounted, total = np.empty(n_pairs), np.empty(n_pairs)
    block = max(1, _VALUES_BLOCK // horizon)
    for start in range(0, n_pairs, block):
        part = slice(start, start + block)
        cumulative = model._cumulative_if_alive(
            params, rows.x_unique, rows.pair_code[part], rows.pair_t[part], horizons
        )
        discounted[part] = np.diff(cumulative, axis=1, prepend=0.0) @ discount
        total[part] = cumulative[:, -1]
    return alive * discounted[rows.pair_of_row], alive * total[rows.pair_of_row]


def customer_lifetime_value(
    bgnbd: RepeatModel,
    gg: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon_months: int = 12,
    discount_rate_annual: float = 0.10,
    time_unit: Literal["D", "W"] = "D",
    interval: float | None = 0.90,
    n_draws: int = 100,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Discounted CLV per customer with a parameter-uncertainty interval.

    Args:
        bgnbd, gg: fitted models (their time unit must be ``time_unit``); ``bgnbd`` may be any
            repeat-purchase model (BG/NBD, MBG/NBD, Pareto/NBD).
        frequency, recency, T, monetary_value: the customers' BTYD summary.
        horizon_months: months ahead to value.
        discount_rate_annual: yearly discount rate (0.10 = 10% a year).
        time_unit: the unit of ``recency``/``T`` the models were fitted in.
        interval: central probability of the interval (``None`` skips the draws, each of
            which costs about as much as the BG/NBD part of the point estimate: roughly 1.5 s
            per draw per million distinct (frequency, T) pairs on one core, and far less when
            T is in whole days and many customers share one).
        n_draws: parameter draws for the interval.
        seed: seed for the draws.

    Returns:
        DataFrame indexed like ``frequency`` (if it is a Series) with ``expected_transactions``
        (undiscounted, over the horizon), ``expected_spend``, ``clv`` and, with an interval,
        ``clv_low`` and ``clv_high``.

    Example:
        Twelve months of value at 10 % a year, with published CDNOW parameters (in weeks):

        >>> from personae.clv.bgnbd import BetaGeoModel
        >>> from personae.clv.gamma_gamma import GammaGammaModel
        >>> bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
        >>> gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
        >>> clv = customer_lifetime_value(
        ...     bg, gg, frequency=[2, 0], recency=[30.43, 0.0], T=[38.86, 38.86],
        ...     monetary_value=[40.0, 0.0], time_unit="W", interval=None,
        ... )
        >>> clv.round(2)
           expected_transactions  expected_spend    clv
        0                   1.56           39.14  58.32
        1                   0.25           35.22   8.48
    """
    if horizon_months < 1:
        raise InputError("horizon_months must be at least 1")
    if discount_rate_annual <= -1:
        raise InputError("discount_rate_annual must be greater than -1")
    if interval is not None and not 0 < interval < 1:
        raise InputError("interval must be between 0 and 1 (e.g. 0.9), or None")
    month = _months_in_unit(time_unit)
    monthly_rate = (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0
    bg_params = bgnbd._params()
    index = frequency.index if isinstance(frequency, pd.Series) else None
    x = as_float_array("frequency", frequency)
    tx = as_float_array("recency", recency)
    big_t = as_float_array("T", T)
    m = as_float_array("monetary_value", monetary_value)
    same_length(frequency=x, recency=tx, T=big_t, monetary_value=m)

    # customers with identical inputs get identical values: the BG/NBD part is computed once
    # per distinct (x, t_x, T) and the spend once per distinct (x, m)
    bg_rows = group_rows(x, tx, big_t, weight=np.ones(len(x)))
    rows = _BgRows.build(bg_rows)
    gg_rows = group_rows(x, m, weight=np.ones(len(x)))
    gx, gm = gg_rows.column(0), gg_rows.column(1)
    bg_of, gg_of = bg_rows.inverse, gg_rows.inverse

    discounted, transactions = _discounted_transactions(
        bgnbd, bg_params, rows, month, horizon_months, monthly_rate
    )
    spend = gg.expected_spend(gx, gm)
    out = pd.DataFrame(
        {
            "expected_transactions": transactions[bg_of],
            "expected_spend": spend[gg_of],
            "clv": spend[gg_of] * discounted[bg_of],
        },
        index=index,
    )
    if interval is not None:
        rng = np.random.default_rng(seed)
        bg_draws, gg_draws, how = parameter_draws(bgnbd, gg, x, tx, big_t, m, n_draws, rng)
        requested = n_draws
        # float32 halves the memory of draws x customers; percentiles need no more precision
        disc_samples = np.empty((len(bg_draws), len(rows.x)), dtype=np.float32)
        spend_samples = np.empty((len(bg_draws), len(gx)), dtype=np.float32)
        informative = (gx > 0) & (gm > 0)
        xs, ms = np.where(informative, gx, 0.0), np.where(informative, gm, 0.0)
        usable = np.ones(len(bg_draws), dtype=bool)
        for k in range(len(bg_draws)):
            r, alpha, a, b = (float(v) for v in bg_draws[k])
            p, q, g = (float(v) for v in gg_draws[k])
            try:
                with np.errstate(all="ignore"):
                    disc_samples[k], _ = _discounted_transactions(
                        bgnbd, (r, alpha, a, b), rows, month, horizon_months, monthly_rate
                    )
                    spend_samples[k] = p * (g + ms * xs) / (p * xs + q - 1)
            except (ArithmeticError, ValueError, FloatingPointError):
                usable[k] = False  # a draw the model cannot evaluate is left out, and counted
                continue
            usable[k] = bool(np.all(np.isfinite(disc_samples[k])) and np.all(np.isfinite(spend_samples[k])))
        disc_samples, spend_samples = disc_samples[usable], spend_samples[usable]
        used = int(usable.sum())  # of how["draws"] requested: refits that failed are missing too
        how = {**how, "draws": used, "draws_left_out": requested - used}
        if used < max(MIN_DRAWS, requested // 2):
            how["note"] = (
                f"only {used} of {requested} parameter draws could be evaluated: "
                "no interval rather than a wrong one"
            )
            used = 0
        tail = (1 - interval) / 2 * 100
        low, high = np.full(len(x), np.nan), np.full(len(x), np.nan)
        # percentiles per customer, in chunks so that draws x customers stays small
        chunk = max(1, 4_000_000 // max(used, 1))
        for start in range(0, len(x) if used else 0, chunk):
            part = slice(start, start + chunk)
            samples = spend_samples[:, gg_of[part]] * disc_samples[:, bg_of[part]]
            low[part], high[part] = np.percentile(samples, [tail, 100 - tail], axis=0)
        out["clv_low"] = low
        out["clv_high"] = high
        out.attrs["interval"] = how
    return out


#: fewest usable draws behind a percentile interval
MIN_DRAWS = 10


def parameter_draws(
    bgnbd: RepeatModel,
    gg: GammaGammaModel,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    monetary_value: FloatArray,
    n: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, dict[str, object]]:
    """``n`` draws of both models' parameters, and how they were made.

    * ``normal``: when both Hessians are positive definite, draws from the asymptotic normal
      of the log-parameters (their covariance is the inverse Hessian);
    * ``bootstrap``: otherwise (a weakly identified fit: a Hessian that is not positive
      definite, or a model's own ``weakly_identified()`` reason), both
      models are refitted on customers resampled with replacement (multinomial weights on the
      same rows, so the two models see the same resample). A refit that fails is left out.

    Only the models' ``fit(…, sample_weight=)``, ``penalizer_coef``, ``_params()`` and
    ``log_covariance_`` are used, so any BTYD model with that interface draws the same way.
    Draws whose log-parameters leave the fitting box (``|log θ| > LOG_BOUND``) or have
    ``q <= 1`` (no finite mean spend) are dropped: they are where a normal approximation has
    wandered past what the model can evaluate.
    """
    bg_params = np.asarray(bgnbd._params(), dtype=np.float64)
    gg_params = np.asarray(gg._params(), dtype=np.float64)
    bg_cov, gg_cov = bgnbd.log_covariance_, gg.log_covariance_
    weak = [
        f"{name}: {why}"
        for name, model in ((getattr(bgnbd, "LABEL", "BG/NBD"), bgnbd), ("Gamma-Gamma", gg))
        if (why := _weakly_identified(model)) is not None
    ]
    if not weak:
        method = "normal"
        bg_draws = _normal_draws(rng, bg_cov, bg_params, n)
        gg_draws = _normal_draws(rng, gg_cov, gg_params, n)
    else:
        method = "bootstrap"
        bg_list, gg_list = [], []
        n_customers = len(frequency)
        for _ in range(n):
            w = rng.multinomial(n_customers, np.full(n_customers, 1.0 / n_customers)).astype(np.float64)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)
                    bg_b = type(bgnbd)(penalizer_coef=bgnbd.penalizer_coef).fit(
                        frequency, recency, T, sample_weight=w
                    )
                    gg_b = type(gg)(penalizer_coef=gg.penalizer_coef).fit(
                        frequency, monetary_value, sample_weight=w
                    )
            except (ModelError, InputError, ArithmeticError):
                continue
            bg_list.append(bg_b._params())
            gg_list.append(gg_b._params())
        bg_draws = np.asarray(bg_list, dtype=np.float64).reshape(-1, len(bg_params))
        gg_draws = np.asarray(gg_list, dtype=np.float64).reshape(-1, len(gg_params))
    with np.errstate(all="ignore"):
        ok = (
            np.all(np.abs(np.log(bg_draws)) < LOG_BOUND, axis=1)
            & np.all(np.abs(np.log(gg_draws)) < LOG_BOUND, axis=1)
            & (gg_draws[:, 1] > 1)
        )
    how: dict[str, object] = {"method": method, "draws": n}
    if weak:
        how["why"] = "; ".join(weak)
    return bg_draws[ok], gg_draws[ok], how


def _weakly_identified(model: object) -> str | None:
    """The model's own :meth:`weakly_identified` if it has one, else whether its covariance is
    known (a model without the method is judged by its Hessian alone)."""
    check = getattr(model, "weakly_identified", None)
    if callable(check):
        why = check()
        return None if why is None else str(why)
    cov = np.asarray(getattr(model, "log_covariance_", np.nan))
    return None if np.all(np.isfinite(cov)) else "the Hessian at the optimum is not positive definite"


def _normal_draws(rng: np.random.Generator, log_cov: FloatArray, params: FloatArray, n: int) -> FloatArray:
    """``n`` draws exp(N(log(params), log_cov)), via the Cholesky factor (``log_cov`` is
    positive definite here: :func:`personae.clv._fitting.log_param_covariance` sees to it)."""
    mean = np.log(params)
    factor = np.linalg.cholesky(log_cov)
    with np.errstate(over="ignore"):
        return np.exp(mean + rng.standard_normal((n, len(mean))) @ factor.T)


def predictive_interval(
    bgnbd: RepeatModel,
    gg: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    clv: ArrayLike,
    horizon_months: int = 12,
    time_unit: Literal["D", "W"] = "D",
    interval: float = 0.90,
    n_draws: int = 200,
    seed: int | None = 0,
) -> pd.DataFrame:
    """What each customer may actually spend over the horizon: a predictive interval.

    Unlike the parameter interval of :func:`customer_lifetime_value` (how sure we are of the
    *expected* value), this one covers the customer's own purchase process at the fitted
    parameters: whether they are still active, how often they buy, when they leave, and what
    each purchase is worth (:meth:`BetaGeoModel.sample_transactions`,
    :meth:`GammaGammaModel.sample_total_spend`). Simulated totals are discounted by the
    customer's own ratio of ``clv`` to undiscounted expected value (at most a few percent over
    a year). Customers with identical inputs share one simulation.

    Returns:
        ``clv_predictive_low`` and ``clv_predictive_high`` (the central ``interval``),
        indexed like ``frequency`` if it is a Series.

    Example:
        The FHL worked example's customer, 12 months ahead (weeks): the expected value is
        about 58, but a single customer spends nothing or a couple of purchases' worth:

        >>> from personae.clv.bgnbd import BetaGeoModel
        >>> from personae.clv.gamma_gamma import GammaGammaModel
        >>> bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
        >>> gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
        >>> p = predictive_interval(bg, gg, [2], [30.43], [38.86], [40.0], [58.32], time_unit="W")
        >>> float(p["clv_predictive_low"][0]), bool(p["clv_predictive_high"][0] > 58.32)
        (0.0, True)
    """
    if not 0 < interval < 1:
        raise InputError("interval must be between 0 and 1 (e.g. 0.9)")
    index = frequency.index if isinstance(frequency, pd.Series) else None
    x = as_float_array("frequency", frequency)
    tx = as_float_array("recency", recency)
    big_t = as_float_array("T", T)
    m = as_float_array("monetary_value", monetary_value)
    value = np.asarray(clv, dtype=np.float64)
    same_length(frequency=x, recency=tx, T=big_t, monetary_value=m)
    t = horizon_months * _months_in_unit(time_unit)
    rows = group_rows(x, tx, big_t, m, weight=np.ones(len(x)))
    ux, utx, ut, um = (rows.column(j) for j in range(4))
    expected = bgnbd.predict_transactions(t, ux, utx, ut) * gg.expected_spend(ux, um)
    # the discount of each distinct row: clv / undiscounted expected value (any member's clv)
    member = np.zeros(len(ux), dtype=np.intp)
    member[rows.inverse] = np.arange(len(x))
    with np.errstate(divide="ignore", invalid="ignore"):
        discount = np.where(expected > 0, value[member] / expected, 1.0)
    discount = np.where(np.isfinite(discount), np.clip(discount, 0.0, 1.0), 1.0)
    rng = np.random.default_rng(seed)
    tail = (1 - interval) / 2 * 100
    low, high = np.empty(len(ux)), np.empty(len(ux))
    chunk = max(1, 2_000_000 // max(n_draws, 1))
    for start in range(0, len(ux), chunk):
        part = slice(start, start + chunk)
        k = bgnbd.sample_transactions(t, ux[part], utx[part], ut[part], n_draws, rng)
        total = gg.sample_total_spend(k, ux[part], um[part], rng) * discount[part]
        low[part], high[part] = np.percentile(total, [tail, 100 - tail], axis=0)
    return pd.DataFrame(
        {"clv_predictive_low": low[rows.inverse], "clv_predictive_high": high[rows.inverse]}, index=index
    )


def value_tiers(clv: ArrayLike) -> NDArray[np.str_]:
    """Label customers ``top1``/``top10``/``top25``/``rest`` by CLV rank.

    The customer of rank ``k`` (0 = highest CLV) is ``top1`` if ``k < ceil(1% of n)``,
    ``top10`` if ``k < ceil(10% of n)``, ``top25`` if ``k < ceil(25% of n)``, else ``rest``.
    Ties are broken by position (the earlier customer ranks higher: a stable sort), so the
    labels are deterministic and the tiers hold exactly the stated shares; NaN ranks last.

    >>> tiers = value_tiers([float(v) for v in range(20)])
    >>> tiers[::-1].tolist()[:6]
    ['top1', 'top10', 'top25', 'top25', 'top25', 'rest']
    """
    values = np.asarray(clv, dtype=np.float64).ravel()
    n = len(values)
    # stable sort of -clv (NaN -> +inf, i.e. last)
    key = np.where(np.isnan(values), np.inf, -values)
    order = np.argsort(key, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    cuts = [int(np.ceil(share * n - 1e-9)) for share in (0.01, 0.10, 0.25)]
    labels = np.full(n, "rest", dtype="<U5")
    labels[rank < cuts[2]] = "top25"
    labels[rank < cuts[1]] = "top10"
    labels[rank < cuts[0]] = "top1"
    return labels
