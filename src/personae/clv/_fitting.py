"""Shared maximum-likelihood machinery for the CLV models (log-parameters, Hessian, checks)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from personae.errors import InputError, ModelError

FloatArray = NDArray[np.float64]
#: objective(theta) -> (value, gradient), both in log-parameter space
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

#: box on the log-parameters: keeps exp() finite and flags runaway fits
LOG_BOUND = 18.0


def as_float_array(name: str, values: ArrayLike) -> FloatArray:
    """Return ``values`` as a 1-d float64 array, or raise :class:`InputError` on NaN/inf."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} has {int((~np.isfinite(arr)).sum())} missing or infinite values")
    return arr


def same_length(**arrays: FloatArray) -> int:
    """Return the common length of ``arrays`` or raise :class:`InputError`."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"inputs have different lengths: {lengths}")
    return next(iter(lengths.values()))


def sample_weights(weight: ArrayLike | None, n: int) -> FloatArray:
    """Validate optional sample weights (non-negative, finite, length ``n``)."""
    if weight is None:
        return np.ones(n)
    w = as_float_array("sample_weight", weight)
    if len(w) != n:
        raise InputError(f"sample_weight has length {len(w)}, expected {n}")
    if np.any(w < 0):
        raise InputError("sample_weight must be non-negative")
    return w


def aggregate_rows(*columns: FloatArray, weight: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows of ``columns`` into one row each, summing ``weight``.

    Hash-based (``pandas.factorize``), so O(n) rather than a sort; rows of weight 0 are dropped.
    """
    key = np.zeros(len(weight), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(col)
        key = key * len(uniques) + codes
        # re-factorize so the key stays small whatever the number of columns
        key, _ = pd.factorize(key)
    n_groups = int(key.max()) + 1 if len(key) else 0
    # rows sharing a key are identical, so any representative row will do
    representative = np.zeros(n_groups, dtype=np.int64)
    representative[key] = np.arange(len(key), dtype=np.int64)
    totals = np.bincount(key, weights=weight, minlength=n_groups)
    keep = totals > 0
    return [col[representative][keep] for col in columns], totals[keep]


def maximise(
    objective: Objective, theta0: FloatArray, *, model: str, names: tuple[str, ...]
) -> tuple[FloatArray, Any]:
    """Minimise a (mean negative log-likelihood, gradient) objective over log-parameters.

    L-BFGS-B with the analytic gradient inside a box ``|theta| <= LOG_BOUND``, then a couple
    of Newton steps with a finite-difference Hessian to polish the optimum (L-BFGS-B often
    stops a few 1e-6 short, which matters when pinning published estimates).
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(theta0)
    with np.errstate(all="ignore"):
        result = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        theta = np.asarray(result.x, dtype=np.float64)
        value, _ = objective(theta)
        for _ in range(3):
            hess = numerical_hessian(objective, theta)
            grad = objective(theta)[1]
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            candidate = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
            cand_value, _ = objective(candidate)
            if not np.isfinite(cand_value) or cand_value > value:
                break
            theta, value = candidate, cand_value
            if np.max(np.abs(step)) < 1e-10:
                break
    if not np.isfinite(value):
        raise ModelError(
            f"{model}: the log-likelihood is not finite at the optimum",
            hint="check the inputs for extreme values",
        )
    at_bound = [n for n, t in zip(names, theta, strict=True) if abs(t) >= LOG_BOUND - 1e-6]
    if at_bound:
        raise ModelError(
            f"{model}: parameter(s) {', '.join(at_bound)} ran off to 0 or infinity; "
            "the data cannot identify the model",
            hint="use more customers or a longer calibration period, or set penalizer_coef > 0",
        )
    return theta, result


def numerical_hessian(objective: Objective, theta: FloatArray, step: float = 1e-5) -> FloatArray:
    """Central finite differences of the analytic gradient, symmetrised."""
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        hess[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * step)
    return (hess + hess.T) / 2


def log_param_covariance(
    objective: Objective, theta: FloatArray, total_weight: float, *, model: str
) -> FloatArray:
    """Asymptotic covariance of the log-parameters: inverse Hessian of the *total* NLL.

    ``objective`` is the mean NLL, so its Hessian is scaled by ``total_weight`` (sample
    weights are treated as frequency weights, i.e. counts of identical customers).
    """
    hess = numerical_hessian(objective, theta) * total_weight
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.full_like(hess, np.nan)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        warnings.warn(
            f"{model}: the Hessian at the optimum is not positive definite; "
            "covariance_ is unreliable (parameters are weakly identified)",
            RuntimeWarning,
            stacklevel=3,
        )
    return cov


def delta_method(log_cov: FloatArray, params: FloatArray) -> FloatArray:
    """Covariance of ``exp(theta)`` from that of ``theta``: ``D @ cov @ D``, ``D = diag(params)``."""
    return log_cov * np.outer(params, params)
