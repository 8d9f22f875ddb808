"""What the repeat-purchase models share: inputs, fitted state, summaries, and the fit loop.

:class:`~personae.clv.bgnbd.BetaGeoModel`, :class:`~personae.clv.mbgnbd.ModifiedBetaGeoModel`
and :class:`~personae.clv.pareto_nbd.ParetoNBDModel` inherit them from
:class:`RepeatPurchaseModel`, so the three expose the same interface to
:mod:`personae.clv.value`, :mod:`personae.clv.holdout` and the application; each keeps
only its likelihood, starting values, predictions and the checks whose wording is its own.
:func:`wald_summary` also serves :class:`~personae.clv.gamma_gamma.GammaGammaModel`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from personae.clv._fitting import (
    FloatArray,
    as_float_array,
    delta_method,
    log_param_covariance,
    same_length,
    sample_weights,
)
from personae.errors import InputError, check_is_fitted, is_fitted


def check_btyd_inputs(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated (frequency, recency, T) arrays; the same rules as the BG/NBD's."""
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


def fit_inputs(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validated (frequency, recency, T, weight) arrays for a fit; refuses an empty fit."""
    x, tx, big_t = check_btyd_inputs(frequency, recency, T)
    w = sample_weights(sample_weight, len(x))
    if w.sum() <= 0:
        raise InputError("no customers to fit (empty input or all weights 0)")
    return x, tx, big_t, w


def wald_summary(
    params: dict[str, float], covariance: FloatArray, log_covariance: FloatArray, names: tuple[str, ...]
) -> pd.DataFrame:
    """Estimates with standard errors and 95% Wald intervals on the log scale.

    The intervals are built for the log-parameters (where the likelihood is closer to
    quadratic and the bounds stay positive), then mapped back with ``exp``.
    """
    theta = np.log(list(params.values()))
    se_log = np.sqrt(np.diag(log_covariance))
    return pd.DataFrame(
        {
            "estimate": list(params.values()),
            "se": np.sqrt(np.diag(covariance)),
            "lower_95": np.exp(theta - 1.959964 * se_log),
            "upper_95": np.exp(theta + 1.959964 * se_log),
        },
        index=list(names),
    )


def broadcast(*arrays: ArrayLike) -> list[FloatArray]:
    """Float arrays broadcast against each other."""
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


class RepeatPurchaseModel:
    """Base of the four-parameter repeat-purchase models (scikit-learn style).

    Subclasses set ``PARAM_NAMES``, ``KEY`` (the JSON key, e.g. ``"pareto_nbd"``) and
    ``LABEL`` (for people, e.g. ``"Pareto/NBD"``), and implement ``fit`` and the predictions.
    Fitted attributes: one per parameter (``r_``, ``alpha_``, …), ``params_``, ``loglik_``,
    ``covariance_``, ``log_covariance_``, ``n_customers_``.
    """

    params_: dict[str, float]
    loglik_: float
    log_covariance_: FloatArray
    covariance_: FloatArray
    n_customers_: float
    max_T_: float

    PARAM_NAMES: ClassVar[tuple[str, ...]] = ()
    KEY: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""
    #: both parameters of a heterogeneity law above this: the law is a point mass, and the
    #: two are not separately pinned down (see :meth:`weakly_identified`)
    HOMOGENEOUS = 1e4

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise InputError("penalizer_coef must be >= 0")
        self.penalizer_coef = penalizer_coef

    def _set_params(self, params: FloatArray) -> None:
        values = [float(p) for p in params]
        self.params_ = dict(zip(self.PARAM_NAMES, values, strict=True))
        for name, value in self.params_.items():
            setattr(self, f"{name}_", value)

    def _store_fit(
        self, theta: FloatArray, hess: FloatArray, loglik: float, total_weight: float, max_T: float
    ) -> None:
        """Record a fit's optimum ``theta`` (log-parameters), its Hessian and log-likelihood."""
        params = np.exp(theta)
        self._set_params(params)
        self.loglik_ = loglik
        self.log_covariance_ = log_param_covariance(hess, total_weight, model=type(self).__name__)
        self.covariance_ = delta_method(self.log_covariance_, params)
        self.n_customers_ = total_weight
        self.max_T_ = max_T

    def _params(self) -> tuple[float, float, float, float]:
        check_is_fitted(self, "params_")
        r, alpha, c, d = (self.params_[n] for n in self.PARAM_NAMES)
        return r, alpha, c, d

    @classmethod
    def _from_values(cls, values: tuple[float, ...]) -> RepeatPurchaseModel:
        if min(values) <= 0:
            raise InputError(f"{cls.LABEL} parameters must all be positive")
        model = cls()
        model._set_params(np.asarray(values, dtype=np.float64))
        model.loglik_ = float("nan")
        model.log_covariance_ = np.full((4, 4), np.nan)
        model.covariance_ = np.full((4, 4), np.nan)
        model.n_customers_ = 0.0
        model.max_T_ = float("nan")
        return model

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals on the log scale."""
        check_is_fitted(self, "params_")
        return wald_summary(self.params_, self.covariance_, self.log_covariance_, self.PARAM_NAMES)

    def weakly_identified(self) -> str | None:
        """Why the normal approximation of the parameters cannot be trusted, or ``None``.

        Either the Hessian is not positive definite (``log_covariance_`` is NaN), or the two
        parameters of a heterogeneity law are both very large: everyone then has the same
        rate, a limit of the model where the likelihood barely moves along the ratio, so the
        two separately are not pinned down. Lifetime values are still usable; their interval
        then comes from a bootstrap of customers.
        """
        check_is_fitted(self, "params_")
        if not np.all(np.isfinite(self.log_covariance_)):
            return "the Hessian at the optimum is not positive definite"
        names, values = self.PARAM_NAMES, list(self.params_.values())
        for i in (0, 2):
            if min(values[i], values[i + 1]) > self.HOMOGENEOUS:
                return (
                    f"{names[i]} = {values[i]:.2g} and {names[i + 1]} = {values[i + 1]:.2g} are both "
                    "very large: every customer has the same rate, a limit of the model where the "
                    "two are not pinned down separately"
                )
        return None

    def __repr__(self) -> str:
        name = type(self).__name__
        if not is_fitted(self, "params_"):
            return f"{name}(unfitted)"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{name}({inner}, loglik={self.loglik_:.2f})"
