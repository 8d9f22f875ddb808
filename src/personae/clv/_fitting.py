"""Shared maximum-likelihood machinery for the CLV models (log-parameters, Hessian, checks)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from personae.errors import InputError, ModelError

FloatArray = NDArray[np.float64]
#: objective(theta) -> (value, gradient), both in log-parameter space
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

#: box on the log-parameters: keeps exp() finite and flags runaway fits
LOG_BOUND = 18.0


def dot(u: FloatArray, v: FloatArray) -> float:
    """Inner product of two 1-d arrays (``einsum`` avoids BLAS thread start-up on big arrays)."""
    return float(np.einsum("i,i->", u, v))


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


@dataclass(frozen=True)
class GroupedRows:
    """Distinct rows of some columns, with summed weights and per-column codes.

    ``uniques[j][codes[j]]`` gives column ``j`` of the distinct rows.
    """

    uniques: list[FloatArray]
    codes: list[NDArray[np.intp]]
    weight: FloatArray
    #: for each input row, the position of its distinct row (-1 if dropped for weight 0)
    inverse: NDArray[np.intp]

    def column(self, j: int) -> FloatArray:
        return self.uniques[j][self.codes[j]]


def group_rows(*columns: FloatArray, weight: FloatArray) -> GroupedRows:
    """Collapse identical rows of ``columns`` into one row each, summing ``weight``.

    Hash-based (``pandas.factorize``), so O(n) rather than a sort; rows of weight 0 are
    dropped. Identical customers contribute identical likelihood terms, so fitting on the
    grouped rows with the summed weights gives exactly the same estimates, much faster.
    """
    factorized = [pd.factorize(col, sort=True) for col in columns]
    key = np.zeros(len(weight), dtype=np.int64)
    size = 1
    for col_codes, col_uniques in factorized:
        if size * len(col_uniques) >= 2**62:  # keep the packed key inside int64
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key = key * len(col_uniques) + col_codes
        size *= len(col_uniques)
    group, _ = pd.factorize(key)
    n_groups = int(group.max()) + 1 if len(group) else 0
    # rows sharing a group are identical, so any representative row will do
    representative = np.zeros(n_groups, dtype=np.int64)
    representative[group] = np.arange(len(group), dtype=np.int64)
    totals = np.bincount(group, weights=weight, minlength=n_groups).astype(np.float64)
    keep = totals > 0
    rep = representative[keep]
    position = np.full(n_groups, -1, dtype=np.intp)
    position[keep] = np.arange(int(keep.sum()), dtype=np.intp)
    uniques = [np.asarray(u, dtype=np.float64) for _, u in factorized]
    codes = [c[rep].astype(np.intp) for c, _ in factorized]
    return GroupedRows(uniques, codes, totals[keep], position[group])


def maximise(
    objective: Objective,
    theta0: FloatArray,
    *,
    model: str,
    names: tuple[str, ...],
    hess0: FloatArray | None = None,
    hess_step: float = 1e-6,
) -> tuple[FloatArray, FloatArray]:
    """Minimise a (mean negative log-likelihood, gradient) objective over log-parameters.

    L-BFGS-B with the analytic gradient inside a box ``|theta| <= LOG_BOUND``, then Newton
    steps with a finite-difference Hessian to polish the optimum (L-BFGS-B often stops a few
    1e-6 short, which matters when pinning published estimates). Given ``hess0`` (theta0 is
    then a warm start, e.g. the optimum on a subsample, and hess0 the Hessian there), Newton
    steps with that fixed Hessian go first — one objective call each — and L-BFGS-B only runs
    if they do not converge.

    ``hess_step`` is the finite-difference step of the Hessian: 1e-6 suits an analytic
    gradient; a gradient that is itself a finite difference needs a larger one (1e-4).

    Returns:
        The optimum and the Hessian of ``objective`` there (reused for the covariance).
    """
    with np.errstate(all="ignore"):
        converged = False
        if hess0 is not None:
            theta, value, converged = _newton(objective, theta0, hess0, hess_step=hess_step)
        if not converged:
            theta, value, converged = _newton(objective, _lbfgsb(objective, theta0), hess_step=hess_step)
        hess = numerical_hessian(objective, theta, step=hess_step)
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
    return theta, hess


def _lbfgsb(objective: Objective, theta0: FloatArray, ftol: float = 1e-13) -> FloatArray:
    # scipy.optimize takes ~0.25 s to import and the CLI imports this module at start-up.
    from scipy.optimize import minimize

    result = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(theta0),
        options={"maxiter": 1000, "ftol": ftol, "gtol": 1e-9},
    )
    return np.asarray(result.x, dtype=np.float64)


def _newton(
    objective: Objective,
    theta: FloatArray,
    hess: FloatArray | None = None,
    max_steps: int = 30,
    hess_step: float = 1e-6,
) -> tuple[FloatArray, float, bool]:
    """Newton steps until the step is below 1e-8; returns (theta, value, converged).

    Without ``hess`` the Hessian is recomputed after every large step (true Newton); with it,
    that Hessian is kept (the chord method: linear convergence at a rate set by how far the
    given Hessian is from the true one, but one objective call per step).
    """
    value, grad = objective(theta)
    refresh = hess is None
    if hess is None:
        hess = numerical_hessian(objective, theta, grad, step=hess_step)
    for _ in range(max_steps):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return theta, value, False
        if not np.all(np.isfinite(step)):
            return theta, value, False
        if np.max(np.abs(step)) < 1e-8:
            return theta, value, True
        candidate = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
        cand_value, cand_grad = objective(candidate)
        if not np.isfinite(cand_value) or cand_value > value + 1e-13 * abs(value):
            # no further decrease: converged if the step was already tiny
            return theta, value, bool(np.max(np.abs(step)) < 1e-6)
        theta, value, grad = candidate, cand_value, cand_grad
        if refresh and np.max(np.abs(step)) > 1e-3:
            hess = numerical_hessian(objective, theta, grad, step=hess_step)
    return theta, value, False


def numerical_hessian(
    objective: Objective, theta: FloatArray, grad: FloatArray | None = None, step: float = 1e-6
) -> FloatArray:
    """Forward finite differences of the analytic gradient, symmetrised.

    The gradient is analytic, so differences of it are accurate to ~1e-6 relative: plenty
    for Newton polishing and standard errors, at half the cost of central differences.
    """
    k = len(theta)
    base = objective(theta)[1] if grad is None else grad
    hess = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        hess[i] = (objective(theta + e)[1] - base) / step
    return (hess + hess.T) / 2


def positive_definite(matrix: FloatArray) -> bool:
    """Whether a symmetric matrix is positive definite (finite, and a Cholesky factor exists).

    Example:
        >>> positive_definite(np.array([[2.0, 0.0], [0.0, 1.0]]))
        True
        >>> positive_definite(np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3 and -1
        False
    """
    if not np.all(np.isfinite(matrix)):
        return False
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def log_param_covariance(hess: FloatArray, total_weight: float, *, model: str) -> FloatArray:
    """Asymptotic covariance of the log-parameters: inverse Hessian of the *total* NLL.

    ``hess`` is the Hessian of the mean NLL, so it is scaled by ``total_weight`` (sample
    weights are treated as frequency weights, i.e. counts of identical customers).

    When the Hessian is not positive definite (a saddle, or a likelihood flat in some
    direction: the parameters are weakly identified) there is no asymptotic normal
    approximation to speak of, and the covariance is all NaN — never an inverse of absolute
    eigenvalues or of a singular matrix. Intervals then come from a bootstrap of customers
    (:func:`personae.clv.value.customer_lifetime_value`).
    """
    scaled = hess * total_weight
    if positive_definite(scaled):
        cov = np.linalg.inv(scaled)
        cov = (cov + cov.T) / 2
        if positive_definite(cov):
            return np.asarray(cov, dtype=np.float64)
    warnings.warn(
        f"{model}: the Hessian at the optimum is not positive definite; "
        "covariance_ is unknown (NaN): the parameters are weakly identified",
        RuntimeWarning,
        stacklevel=3,
    )
    return np.full_like(hess, np.nan, dtype=np.float64)


def delta_method(log_cov: FloatArray, params: FloatArray) -> FloatArray:
    """Covariance of ``exp(theta)`` from that of ``theta``: ``D @ cov @ D``, ``D = diag(params)``."""
    return log_cov * np.outer(params, params)


def penalized_mean(neg_loglik: Objective, total_weight: float, penalty: float) -> Objective:
    """The mean NLL plus ``penalty`` times the sum of squared parameters, with its gradient.

    ``neg_loglik(theta)`` gives the total NLL and its gradient in log-parameters; the L2
    penalty on the parameters themselves (not their logs) is lifetimes' ``penalizer_coef``.
    """

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        nll, grad = neg_loglik(theta)
        params = np.exp(theta)
        value = nll / total_weight + penalty * float(np.sum(params**2))
        return value, grad / total_weight + 2 * penalty * params**2

    return objective


def pick_rows(pick: NDArray[np.intp] | None, *arrays: FloatArray) -> tuple[FloatArray, ...]:
    """The rows ``pick`` of each array (all of them for ``None``), as :func:`warm_start` asks."""
    return arrays if pick is None else tuple(a[pick] for a in arrays)


def start_alpha(x: FloatArray, big_t: FloatArray, w: FloatArray) -> float:
    """Starting value of the purchase-rate scale alpha: 1 / (weighted mean purchase rate)."""
    rate = (dot(w, x) + 1.0) / (dot(w, big_t) + 1.0)
    return max(1.0 / rate, 1e-3)


def warm_start(
    objective_on: Callable[[NDArray[np.intp] | None], Objective],
    theta0: FloatArray,
    n_rows: int,
    n_customers: int,
    *,
    hess_step: float = 1e-6,
    threshold: int = 200_000,
    size: int = 50_000,
) -> tuple[FloatArray, FloatArray | None]:
    """Start values for a big fit: the optimum on a fixed-seed subsample and its Hessian.

    ``objective_on(pick)`` returns the mean-NLL objective on the customers ``pick`` (or on
    all of them for ``None``). Below ``threshold`` distinct rows the plain ``theta0`` is
    returned with no Hessian. On a subsample of ``size`` customers the estimate is within
    sampling error of the full optimum and its Hessian close to the full one, so a few
    chord-Newton steps on the full data finish the job (see :func:`maximise`).
    """
    if n_rows < threshold:
        return theta0, None
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    pick = rng.choice(n_customers, size=min(size, n_customers), replace=False)
    objective = objective_on(pick)
    with np.errstate(all="ignore"):
        result = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(theta0),
            options={"ftol": 1e-12},
        )
        theta = np.asarray(result.x, dtype=np.float64)
        hess = numerical_hessian(objective, theta, step=hess_step)
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(hess))):
        return theta0, None
    return theta, hess
