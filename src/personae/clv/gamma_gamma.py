r"""Gamma-Gamma model of average transaction value (Fader & Hardie 2013).

Reference: P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary
Value", note at brucehardie.com/notes/025; originally Colombo & Jiang (1999) and Fader,
Hardie & Lee (2005) "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis".

Model: a customer's transaction values are i.i.d. :math:`\mathrm{Gamma}(p, \nu)` around a
personal mean :math:`p/\nu`, and :math:`\nu \sim \mathrm{Gamma}(q, \gamma)` across
customers. For a customer with :math:`x` repeat transactions of mean value :math:`m_x`,

.. math::

    \ln L(p, q, \gamma \mid m_x, x) = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q)
        + q\ln\gamma + (px-1)\ln m_x + px\ln x - (px+q)\ln(\gamma + m_x x)

and the conditional expected average transaction value is

.. math::

    E[M \mid p, q, \gamma, m_x, x] = \frac{p(\gamma + m_x x)}{px + q - 1}
      = \frac{q-1}{px+q-1}\,\frac{p\gamma}{q-1} + \frac{px}{px+q-1}\, m_x,

a weighted mean of the population mean :math:`p\gamma/(q-1)` (which needs :math:`q > 1`)
and the customer's own mean. ``gamma_`` is the parameter ``lifetimes`` calls ``v``.

The model assumes spend is independent of purchase frequency; check
``frequency_monetary_correlation_`` after fitting (values far from 0 mean the assumption
is doubtful).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from personae.clv._base import wald_summary
from personae.clv._fitting import (
    FloatArray,
    as_float_array,
    delta_method,
    log_param_covariance,
    maximise,
    same_length,
    sample_weights,
)
from personae.errors import InputError, ModelError, check_is_fitted, is_fitted

PARAM_NAMES = ("p", "q", "gamma")
MIN_CUSTOMERS = 10


def _neg_loglik(theta: FloatArray, x: FloatArray, m: FloatArray, w: FloatArray) -> tuple[float, FloatArray]:
    """Weighted total negative log-likelihood and gradient w.r.t. log(p, q, gamma)."""
    p, q, g = np.exp(theta)
    px = p * x
    log_m, log_x, log_sum = np.log(m), np.log(x), np.log(g + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * log_m
        + px * log_x
        - (px + q) * log_sum
    )
    dig = digamma(px + q)
    g_p = x * (dig - digamma(px) + log_m + log_x - log_sum)
    g_q = dig - digamma(q) + np.log(g) - log_sum
    g_g = q / g - (px + q) / (g + m * x)
    grad = np.array([np.dot(w, g_p) * p, np.dot(w, g_q) * q, np.dot(w, g_g) * g])
    return -float(np.dot(w, ll)), -grad


def loglik_individual(
    frequency: FloatArray, monetary_value: FloatArray, p: float, q: float, gamma: float
) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood (customers with frequency > 0)."""
    x, m = frequency, monetary_value
    return np.asarray(
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x),
        dtype=np.float64,
    )


class GammaGammaModel:
    """Gamma-Gamma spend model, scikit-learn style.

    Fitted attributes: ``p_``, ``q_``, ``gamma_`` (``v`` in lifetimes), ``params_``,
    ``loglik_``, ``covariance_`` (3x3, order p, q, gamma; Hessian on log-parameters and the
    delta method), ``log_covariance_``, ``n_customers_`` (customers used: frequency > 0 and
    monetary value > 0), ``frequency_monetary_correlation_``.

    Args:
        penalizer_coef: L2 penalty on the parameters added to the mean NLL (as lifetimes).
    """

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise InputError("penalizer_coef must be >= 0")
        self.penalizer_coef = penalizer_coef

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> GammaGammaModel:
        """Fit on the customers with ``frequency > 0`` and ``monetary_value > 0``.

        Raises:
            ModelError: too few repeat customers, or the fitted ``q <= 1`` (the population
                mean spend would be infinite: usually a few extreme spenders).
        """
        x_all = as_float_array("frequency", frequency)
        m_all = as_float_array("monetary_value", monetary_value)
        same_length(frequency=x_all, monetary_value=m_all)
        w_all = sample_weights(sample_weight, len(x_all))
        keep = (x_all > 0) & (m_all > 0) & (w_all > 0)
        x, m, w = x_all[keep], m_all[keep], w_all[keep]
        total = float(w.sum())
        if keep.sum() < MIN_CUSTOMERS:
            raise ModelError(
                f"GammaGammaModel needs at least {MIN_CUSTOMERS} customers with a repeat "
                f"purchase and a positive monetary value; got {int(keep.sum())}",
                hint="use a longer calibration period, or a population mean spend instead",
            )
        if np.ptp(m) == 0:
            raise ModelError(
                "GammaGammaModel: every repeat customer has the same monetary value",
                hint="spend does not vary, so there is nothing to model: use that value",
            )
        penalty = self.penalizer_coef

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            nll, grad = _neg_loglik(theta, x, m, w)
            params = np.exp(theta)
            value = nll / total + penalty * float(np.sum(params**2))
            return value, grad / total + 2 * penalty * params**2

        # start: p = 1, q = 2, gamma = mean spend (so that p*gamma/(q-1) = mean spend)
        theta0 = np.log(np.array([1.0, 2.0, float(np.average(m, weights=w))]))
        theta, hess = maximise(objective, theta0, model="GammaGammaModel", names=PARAM_NAMES)
        params = np.exp(theta)
        p, q, g = (float(v) for v in params)
        if q <= 1:
            raise ModelError(
                f"GammaGammaModel: fitted q = {q:.3g} <= 1, so the population mean spend "
                "p*gamma/(q-1) is not finite",
                hint="remove or cap extreme monetary values (e.g. at the 99th percentile), "
                "or set penalizer_coef > 0",
            )
        if q < 1.5:
            warnings.warn(
                f"GammaGammaModel: q = {q:.3g} is close to 1; expected spend for customers "
                "with few purchases is very uncertain",
                RuntimeWarning,
                stacklevel=2,
            )
        self.p_, self.q_, self.gamma_ = p, q, g
        self.params_ = {"p": p, "q": q, "gamma": g}
        self.loglik_ = -_neg_loglik(theta, x, m, w)[0]
        self.log_covariance_ = log_param_covariance(hess, total, model="GammaGammaModel")
        self.covariance_ = delta_method(self.log_covariance_, params)
        self.n_customers_ = total
        self.frequency_monetary_correlation_ = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) else 0.0
        return self

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGammaModel:
        """A model with known parameters (e.g. published ones); no covariance, no loglik."""
        if min(p, q, gamma) <= 0 or q <= 1:
            raise InputError("Gamma-Gamma parameters must be positive, with q > 1")
        model = cls()
        model.p_, model.q_, model.gamma_ = float(p), float(q), float(gamma)
        model.params_ = {"p": model.p_, "q": model.q_, "gamma": model.gamma_}
        model.loglik_ = float("nan")
        model.log_covariance_ = np.full((3, 3), np.nan)
        model.covariance_ = np.full((3, 3), np.nan)
        model.n_customers_ = 0.0
        model.frequency_monetary_correlation_ = float("nan")
        return model

    def sample_total_spend(
        self,
        transactions: NDArray[np.int64],
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        rng: np.random.Generator,
    ) -> FloatArray:
        """The total value of ``transactions[k, i]`` future purchases of customer ``i``.

        Each customer's mean spend parameter ν ~ Gamma(p·x + q, γ + x·m̄) (the posterior given
        their x repeat purchases of mean m̄), then the sum of the purchases ~ Gamma(k·p, ν).
        Its mean per purchase is :meth:`expected_spend`. Same shape as ``transactions``.

        Example:
            >>> m = GammaGammaModel.from_params(6.25, 3.74, 15.44)
            >>> k = np.full((200_000, 1), 1)
            >>> total = m.sample_total_spend(k, [2], [40.0], np.random.default_rng(0))
            >>> round(float(total.mean())), round(float(m.expected_spend([2], [40.0])[0]))
            (39, 39)
        """
        p, q, g = self._params()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        informative = (x > 0) & (m > 0)
        x, m = np.where(informative, x, 0.0), np.where(informative, m, 0.0)
        k = np.asarray(transactions)
        nu = rng.gamma(p * x + q, 1.0 / (g + x * m), size=k.shape)
        total = np.zeros(k.shape)
        bought = k > 0
        total[bought] = rng.gamma(p * k[bought], 1.0 / nu[bought])
        return total

    def _params(self) -> tuple[float, float, float]:
        check_is_fitted(self, "params_")
        return self.p_, self.q_, self.gamma_

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals on the log scale."""
        check_is_fitted(self, "params_")
        return wald_summary(self.params_, self.covariance_, self.log_covariance_, PARAM_NAMES)

    def population_mean_spend(self) -> float:
        """Mean transaction value across all customers, ``p*gamma/(q-1)``."""
        p, q, g = self._params()
        return p * g / (q - 1)

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Conditional expected average transaction value for each customer.

        Customers with ``frequency == 0`` (or a non-positive monetary value, which carries no
        information about spend) get the population mean ``p*gamma/(q-1)``.

        Example:
            With the CDNOW parameters of Fader and Hardie (2013), one purchase of 100 is pulled
            most of the way to the population mean (35.22); ten purchases of 100 much less:

            >>> gg = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
            >>> round(gg.population_mean_spend(), 2)
            35.22
            >>> gg.expected_spend([0, 1, 10], [0.0, 100.0, 100.0]).round(2).tolist()
            [35.22, 80.26, 97.28]
        """
        p, q, g = self._params()
        x, m = np.broadcast_arrays(
            np.asarray(frequency, dtype=np.float64), np.asarray(monetary_value, dtype=np.float64)
        )
        informative = (x > 0) & (m > 0)
        x = np.where(informative, x, 0.0)
        m = np.where(informative, m, 0.0)
        return np.asarray(p * (g + m * x) / (p * x + q - 1), dtype=np.float64)

    def __repr__(self) -> str:
        if not is_fitted(self, "params_"):
            return "GammaGammaModel(unfitted)"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"GammaGammaModel({inner}, loglik={self.loglik_:.2f})"
