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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from personae.clv._fitting import FloatArray, GroupedRows, as_float_array, group_rows, same_length
from personae.errors import InputError

if TYPE_CHECKING:
    # Only for annotations: the models import scipy.special, and this module is imported at CLI
    # start-up (for TIERS) where that cost is not wanted.
    from personae.clv.bgnbd import BetaGeoModel
    from personae.clv.gamma_gamma import GammaGammaModel

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
    bg_params: tuple[float, float, float, float],
    rows: _BgRows,
    month: float,
    horizon: int,
    monthly_rate: float,
) -> tuple[FloatArray, FloatArray]:
    """(Σ_i discounted E[transactions in month i], E[transactions over the horizon]) per row.

    All months of all distinct (x, T) pairs go through :func:`_expected_if_alive` together
    (in blocks), so its per-frequency quadrature rules and interpolants serve every month.
    """
    from personae.clv.bgnbd import _expected_if_alive, _log_odds_dead  # start-up: scipy.special

    r, alpha, a, b = bg_params
    alive = np.exp(-np.logaddexp(0.0, _log_odds_dead(rows.x, rows.tx, rows.big_t, r, alpha, a, b)))
    horizons = month * np.arange(1, horizon + 1)
    discount = (1.0 + monthly_rate) ** -np.arange(1, horizon + 1)
    n_pairs = len(rows.pair_t)
    discounted, total = np.empty(n_pairs), np.empty(n_pairs)
    block = max(1, _VALUES_BLOCK // horizon)
    for start in range(0, n_pairs, block):
        part = slice(start, start + block)
        s = (horizons / (alpha + rows.pair_t[part, None])).ravel()
        code = np.repeat(rows.pair_code[part], horizon)
        cumulative = _expected_if_alive(s, None, r, a, b, groups=(rows.x_unique, code)).reshape(-1, horizon)
        discounted[part] = np.diff(cumulative, axis=1, prepend=0.0) @ discount
        total[part] = cumulative[:, -1]
    return alive * discounted[rows.pair_of_row], alive * total[rows.pair_of_row]


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
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
        bgnbd, gg: fitted models (their time unit must be ``time_unit``).
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
    gg_params = gg._params()
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

    discounted, transactions = _discounted_transactions(bg_params, rows, month, horizon_months, monthly_rate)
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
        bg_draws = _draw_params(rng, bgnbd.log_covariance_, bg_params, n_draws)
        gg_draws = _draw_params(rng, gg.log_covariance_, gg_params, n_draws)
        # a draw with q <= 1 has no finite mean spend: leave it out of the interval
        valid = gg_draws[:, 1] > 1
        bg_draws, gg_draws, n_draws = bg_draws[valid], gg_draws[valid], int(valid.sum())
        # float32 halves the memory of draws x customers; percentiles need no more precision
        disc_samples = np.empty((n_draws, len(rows.x)), dtype=np.float32)
        spend_samples = np.empty((n_draws, len(gx)), dtype=np.float32)
        informative = (gx > 0) & (gm > 0)
        xs, ms = np.where(informative, gx, 0.0), np.where(informative, gm, 0.0)
        for k in range(n_draws):
            r, alpha, a, b = (float(v) for v in bg_draws[k])
            disc_samples[k], _ = _discounted_transactions(
                (r, alpha, a, b), rows, month, horizon_months, monthly_rate
            )
            p, q, g = (float(v) for v in gg_draws[k])
            spend_samples[k] = p * (g + ms * xs) / (p * xs + q - 1)
        tail = (1 - interval) / 2 * 100
        low, high = np.empty(len(x)), np.empty(len(x))
        # percentiles per customer, in chunks so that draws x customers stays small
        chunk = max(1, 4_000_000 // max(n_draws, 1))
        for start in range(0, len(x), chunk):
            part = slice(start, start + chunk)
            samples = spend_samples[:, gg_of[part]] * disc_samples[:, bg_of[part]]
            if n_draws:
                low[part], high[part] = np.percentile(samples, [tail, 100 - tail], axis=0)
            else:
                low[part], high[part] = np.nan, np.nan
        out["clv_low"] = low
        out["clv_high"] = high
    return out


def _draw_params(
    rng: np.random.Generator, log_cov: FloatArray, params: tuple[float, ...], n: int
) -> FloatArray:
    """``n`` draws of the parameters: exp of N(log(params), log_cov)."""
    mean = np.log(np.asarray(params, dtype=np.float64))
    if not np.all(np.isfinite(log_cov)):
        return np.tile(np.exp(mean), (n, 1))
    return np.exp(rng.multivariate_normal(mean, log_cov, size=n, method="eigh"))


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
