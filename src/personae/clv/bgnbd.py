r"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers'
the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284,
and the technical notes at brucehardie.com.

Model: while active, a customer buys as a Poisson process with rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; after each purchase they drop out with
probability :math:`p \sim \mathrm{Beta}(a, b)`. With :math:`x` repeat purchases, the last
at :math:`t_x`, observed over :math:`(0, T]`, the likelihood is (their eq. 6)

.. math::

    L = \frac{B(a, b+x)}{B(a, b)} \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)\,(\alpha+T)^{r+x}}
      + \delta_{x>0} \frac{B(a+1, b+x-1)}{B(a, b)}
        \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)\,(\alpha+t_x)^{r+x}}

which we evaluate in log space as

.. math::

    \ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a, b)
      + \mathrm{logaddexp}\Big(-(r+x)\ln(\alpha+T),\;
        \ln\frac{a}{b+x-1} - (r+x)\ln(\alpha+t_x)\Big).

The expected number of purchases of a new customer in :math:`(0, t]` (eq. 7) is

.. math::

    E[X(t)] = \frac{a+b-1}{a-1}\Big[1 - \Big(\frac{\alpha}{\alpha+t}\Big)^r
        {}_2F_1\big(r, b; a+b-1; \tfrac{t}{\alpha+t}\big)\Big],

the conditional expectation for the next :math:`t` periods (eq. 10) is

.. math::

    E[Y(t) \mid x, t_x, T] = \frac{\frac{a+b+x-1}{a-1}\Big[1 -
        \big(\frac{\alpha+T}{\alpha+T+t}\big)^{r+x}
        {}_2F_1\big(r+x, b+x; a+b+x-1; \tfrac{t}{\alpha+T+t}\big)\Big]}
        {1 + \delta_{x>0} \frac{a}{b+x-1} \big(\frac{\alpha+T}{\alpha+t_x}\big)^{r+x}}

and the probability that the customer is still active is
:math:`P(\text{alive}) = 1 / (1 + \delta_{x>0} \frac{a}{b+x-1}
(\frac{\alpha+T}{\alpha+t_x})^{r+x})`.

The Gaussian hypergeometric function :math:`{}_2F_1(r+x, b+x; a+b+x-1; z)` overflows for
large :math:`x` or :math:`z \to 1` (long horizons), while the power in front of it
underflows. We therefore use Euler's transformation
:math:`{}_2F_1(A, B; C; z) = (1-z)^{C-A-B} {}_2F_1(C-A, C-B; C; z)`, which turns the product
into :math:`(1-z)^{a-1} {}_2F_1(a+b-1-r, a-1; a+b+x-1; z)`: a function whose series has a
large denominator parameter for large :math:`x` and stays finite, so
:math:`1 - (\dots)` is computed as ``-expm1(log(...))`` without cancellation or overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import digamma, expit, gammaln, hyp2f1, log_expit

from personae.clv._fitting import (
    FloatArray,
    aggregate_rows,
    as_float_array,
    delta_method,
    log_param_covariance,
    maximise,
    same_length,
    sample_weights,
)
from personae.errors import InputError, NotFittedError

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class _Data:
    """Customers collapsed to unique (x, t_x, T) rows with weights, plus per-x groups."""

    x: FloatArray
    tx: FloatArray
    T: FloatArray
    w: FloatArray
    x_unique: FloatArray  # distinct frequencies
    x_index: np.ndarray  # row -> position in x_unique
    x_weight: FloatArray  # total weight per distinct frequency
    positive: np.ndarray  # rows with x > 0

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> _Data:
        (x, tx, T), w = aggregate_rows(x, tx, T, weight=w)
        x_unique, x_index = np.unique(x, return_inverse=True)
        x_weight = np.bincount(x_index, weights=w, minlength=len(x_unique))
        return cls(x, tx, T, w, x_unique, x_index, x_weight, x > 0)


def _check_inputs(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = as_float_array("frequency", frequency)
    tx = as_float_array("recency", recency)
    big_t = as_float_array("T", T)
    same_length(frequency=x, recency=tx, T=big_t)
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise InputError("frequency must be non-negative whole numbers (repeat transactions)")
    if np.any(tx < 0) or np.any(tx > big_t * (1 + 1e-12) + 1e-12):
        raise InputError(
            "recency must be between 0 and T for every customer",
            hint="recency is the time from first to last purchase, T from first purchase "
            "to the end of the observation period; both in the same time unit",
        )
    if np.any((x == 0) & (tx != 0)):
        raise InputError("recency must be 0 for customers with frequency 0")
    return x, tx, big_t


def _neg_loglik(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(theta)
    xu = data.x_unique
    # terms that only depend on x: evaluated once per distinct frequency
    per_x = (
        gammaln(r + xu)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(b + xu)
        - gammaln(a + b + xu)
        - gammaln(b)
        + gammaln(a + b)
    )
    with np.errstate(divide="ignore"):
        log_ratio = np.where(xu > 0, np.log(a) - np.log(np.maximum(b + xu - 1, 1e-300)), -np.inf)
    c = r + data.x
    log_at = np.log(alpha + data.T)
    log_atx = np.log(alpha + data.tx)
    l1 = -c * log_at
    d = log_ratio[data.x_index] - c * (log_atx - log_at)  # l2 - l1, -inf when x == 0
    w2 = expit(d)  # weight of the "dropped out right after t_x" branch
    w1 = 1.0 - w2
    m = l1 - log_expit(-d)  # logaddexp(l1, l2)
    w = data.w
    loglik = float(np.dot(data.x_weight, per_x) + np.dot(w, m))

    ww2 = w * w2
    ww2_by_x = np.bincount(data.x_index, weights=ww2, minlength=len(xu))
    g_r = np.dot(data.x_weight, digamma(r + xu) - digamma(r) + np.log(alpha)) - np.dot(
        w, w1 * log_at + w2 * log_atx
    )
    g_alpha = r / alpha * data.x_weight.sum() - np.dot(
        w * c, w1 / (alpha + data.T) + w2 / (alpha + data.tx)
    )
    dig_ab = digamma(a + b)
    g_a = np.dot(data.x_weight, dig_ab - digamma(a + b + xu)) + ww2.sum() / a
    inv_b = np.where(xu > 0, 1.0 / np.maximum(b + xu - 1, 1e-300), 0.0)
    g_b = np.dot(
        data.x_weight, digamma(b + xu) - digamma(a + b + xu) - digamma(b) + dig_ab
    ) - np.dot(ww2_by_x, inv_b)
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -loglik, -grad


def _log_one_minus_scaled_2f1(
    t: FloatArray, x: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> tuple[FloatArray, FloatArray]:
    """Return ``(log K, 1 - K)`` for ``K = ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``.

    Uses Euler's transformation ``K = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` with
    ``z = t/(α+T+t)``, computing ``log(1-z)`` as a difference of logs (exact for tiny z).
    """
    log_1mz = np.log(alpha + big_t) - np.log(alpha + big_t + t)
    z = t / (alpha + big_t + t)
    f = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_k = (a - 1) * log_1mz + np.log(f)
    bad = ~np.isfinite(log_k)
    if np.any(bad):  # scipy gave up (f <= 0 or inf): fall back to a log-space series
        log_k[bad] = (a - 1) * log_1mz[bad] + _log_hyp2f1_series(
            a + b - 1 - r, a - 1, a + b + x[bad] - 1, z[bad]
        )
    return log_k, -np.expm1(log_k)


def _log_hyp2f1_series(
    p: float, q: float, c: FloatArray, z: FloatArray, max_terms: int = 200_000
) -> FloatArray:
    """log 2F1(p, q; c; z) by direct summation of the series (fallback, slow but safe).

    Terms are accumulated in log space with their signs, so the sum neither overflows nor
    loses the small terms; used only where ``scipy.special.hyp2f1`` returns inf/NaN.
    """
    out = np.empty_like(z)
    for i, (ci, zi) in enumerate(zip(np.atleast_1d(c), np.atleast_1d(z), strict=True)):
        total, term = 1.0, 1.0
        for k in range(max_terms):
            term *= (p + k) * (q + k) / ((ci + k) * (k + 1)) * zi
            total += term
            if abs(term) < 1e-17 * abs(total):
                break
        out[i] = np.log(total) if total > 0 else -np.inf
    return out


def _broadcast(*arrays: ArrayLike) -> list[FloatArray]:
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


class BetaGeoModel:
    """BG/NBD model, scikit-learn style.

    Fitted attributes: ``r_``, ``alpha_``, ``a_``, ``b_``, ``params_`` (dict),
    ``loglik_`` (total log-likelihood), ``covariance_`` (4x4, order r, alpha, a, b, from the
    Hessian of the NLL at the optimum on log-parameters and the delta method),
    ``log_covariance_`` (the same for the log-parameters), ``n_customers_``.

    Args:
        penalizer_coef: L2 penalty on the parameters added to the *mean* NLL, exactly as
            ``lifetimes``' ``penalizer_coef`` (0 = plain maximum likelihood).

    Example:
        >>> m = BetaGeoModel().fit([0, 2, 1, 5], [0.0, 20.0, 3.0, 30.0], [38.0, 35.0, 30.0, 33.0])
        >>> bool(0 < m.p_alive([2], [20.0], [35.0])[0] <= 1)
        True
    """

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise InputError("penalizer_coef must be >= 0")
        self.penalizer_coef = penalizer_coef

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> BetaGeoModel:
        """Fit by maximum likelihood (identical customers are collapsed into weights first)."""
        x, tx, big_t = _check_inputs(frequency, recency, T)
        w = sample_weights(sample_weight, len(x))
        if w.sum() <= 0:
            raise InputError("no customers to fit (empty input or all weights 0)")
        data = _Data.build(x, tx, big_t, w)
        total = float(data.w.sum())
        penalty = self.penalizer_coef

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            nll, grad = _neg_loglik(theta, data)
            params = np.exp(theta)
            value = nll / total + penalty * float(np.sum(params**2))
            return value, grad / total + 2 * penalty * params**2

        # start: r = 1 and alpha = 1 / (mean purchase rate); a = b = 1
        rate = (np.dot(data.w, data.x) + 1.0) / (np.dot(data.w, data.T) + 1.0)
        theta0 = np.log(np.array([1.0, max(1.0 / rate, 1e-3), 1.0, 1.0]))
        theta, _ = maximise(objective, theta0, model="BetaGeoModel", names=PARAM_NAMES)
        params = np.exp(theta)
        self.r_, self.alpha_, self.a_, self.b_ = (float(p) for p in params)
        self.params_ = dict(zip(PARAM_NAMES, (float(p) for p in params), strict=True))
        self.loglik_ = -_neg_loglik(theta, data)[0]
        self.log_covariance_ = log_param_covariance(objective, theta, total, model="BetaGeoModel")
        self.covariance_ = delta_method(self.log_covariance_, params)
        self.n_customers_ = total
        return self

    # -- fitted state ---------------------------------------------------------------------
    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("BetaGeoModel")
        return self.r_, self.alpha_, self.a_, self.b_

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals on the log scale."""
        self._params()
        theta = np.log(list(self.params_.values()))
        se_log = np.sqrt(np.diag(self.log_covariance_))
        return pd.DataFrame(
            {
                "estimate": list(self.params_.values()),
                "se": np.sqrt(np.diag(self.covariance_)),
                "lower_95": np.exp(theta - 1.959964 * se_log),
                "upper_95": np.exp(theta + 1.959964 * se_log),
            },
            index=list(PARAM_NAMES),
        )

    # -- predictions ----------------------------------------------------------------------
    def expected_transactions_new(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in ``(0, t]``, ``E[X(t)]`` (FHL eq. 7)."""
        r, alpha, a, b = self._params()
        (tt,) = _broadcast(t)
        zero = np.zeros_like(tt)
        return _numerator(tt, zero, zero, r, alpha, a, b)

    def predict_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Conditional expected purchases in the next ``t`` periods, ``E[Y(t)|x, t_x, T]``.

        ``t`` broadcasts against the customer arrays (a scalar, or one horizon per customer).
        """
        r, alpha, a, b = self._params()
        tt, x, tx, big_t = _broadcast(t, frequency, recency, T)
        num = _numerator(tt, x, big_t, r, alpha, a, b)
        return num * np.exp(-np.logaddexp(0.0, _log_odds_dead(x, tx, big_t, r, alpha, a, b)))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that each customer is still active at ``T``."""
        r, alpha, a, b = self._params()
        x, tx, big_t = _broadcast(frequency, recency, T)
        return expit(-_log_odds_dead(x, tx, big_t, r, alpha, a, b))

    def loglik_individual(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood under the fitted parameters."""
        r, alpha, a, b = self._params()
        x, tx, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        return loglik_individual(x, tx, big_t, r, alpha, a, b)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return "BetaGeoModel(unfitted)"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"BetaGeoModel({inner}, loglik={self.loglik_:.2f})"


def loglik_individual(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """Vectorised per-customer BG/NBD log-likelihood (FHL 2005 eq. 6, log space)."""
    c = r + x
    base = gammaln(c) - gammaln(r) + r * np.log(alpha) + gammaln(b + x) - gammaln(a + b + x)
    base += gammaln(a + b) - gammaln(b)
    l1 = -c * np.log(alpha + big_t)
    with np.errstate(divide="ignore"):
        l2 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - c * np.log(alpha + tx),
            -np.inf,
        )
    return np.asarray(base + np.logaddexp(l1, l2), dtype=np.float64)


def _numerator(
    t: FloatArray, x: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """``(a+b+x-1)/(a-1) * (1 - K)``: E[Y(t)] for a customer known to be alive (eq. 10 top)."""
    if abs(a - 1.0) < 1e-7:  # removable singularity at a = 1: the limit is continuous in a
        a = 1.0 + 1e-7 if a >= 1.0 else 1.0 - 1e-7
    _, one_minus_k = _log_one_minus_scaled_2f1(t, x, big_t, r, alpha, a, b)
    out = (a + b + x - 1) / (a - 1) * one_minus_k
    return np.where(t > 0, out, 0.0)


def _log_odds_dead(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """``log(a/(b+x-1)) + (r+x) log((α+T)/(α+t_x))`` for x > 0, ``-inf`` for x = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        )
    return np.where(x > 0, value, -np.inf)
