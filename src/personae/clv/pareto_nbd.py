r"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "A Note on Implementing
the Pareto/NBD Model in MATLAB" (brucehardie.com/notes/008), and P. S. Fader and
B. G. S. Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(brucehardie.com/notes/009).

Model: while active, a customer buys as a Poisson process with rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; their lifetime is exponential with rate
:math:`\mu \sim \mathrm{Gamma}(s, \beta)` — unlike the BG/NBD, a customer can leave at any
time, including before a first repeat purchase, so a one-time buyer seen long ago is
probably gone. The likelihood of :math:`x` repeat purchases, the last at :math:`t_x`,
observed over :math:`(0, T]` is (note 008, eq. 1-3)

.. math::

    L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}\Big\{
        \frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + \frac{s}{r+s+x} A_0 \Big\}

with, for :math:`\alpha \ge \beta`,

.. math::

    A_0 = \frac{{}_2F_1(r+s+x, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+t_x})}{(\alpha+t_x)^{r+s+x}}
        - \frac{{}_2F_1(r+s+x, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+T})}{(\alpha+T)^{r+s+x}}

and for :math:`\alpha < \beta` the same with :math:`\alpha \leftrightarrow \beta` and the second
parameter :math:`s+1` replaced by :math:`r+x`. The argument :math:`z` is then always in
:math:`[0, 1)`.

Numerics. Each Gauss term is an integral,
:math:`\frac{{}_2F_1(\dots; z(y))}{(\max(\alpha,\beta)+y)^{r+s+x}} = (r+s+x)\int_y^\infty
(\alpha+\tau)^{-(r+x)}(\beta+\tau)^{-(s+1)}\,d\tau`, and :math:`A_0` the same integral over
:math:`(t_x, T]`. Summing the series of :math:`{}_2F_1` costs thousands of terms, or SciPy's
``hyp2f1`` at tens of microseconds a value with a few correct digits lost, when :math:`z` is
near 1 — a lifetime scale β far above the purchase-rate scale α, where fits on data with few
visible drop-outs go — and overflows for large frequencies unless done in log space. We
integrate instead (:mod:`~personae.clv._pareto_quadrature`): for each frequency, along its
sorted :math:`t_x` and :math:`T` values, Gauss-Legendre panels over each gap and over the
tail beyond the largest, all in log space, with the derivatives in the parameters from the
same nodes (an analytic gradient). Relative accuracy about 1e-14 against the series where
the series is reliable, a few nodes per distinct :math:`(x, y)` pair whatever :math:`z` is,
and finite for any parameters a line search may try. :math:`\log A_0 = \ell_1 + \log(1 -
e^{\ell_2 - \ell_1})` with :math:`\ell_1, \ell_2` the logs of the two Gauss terms.

Predictions (note 009): :math:`P(\text{alive}) = \frac{(\alpha+T)^{-(r+x)}(\beta+T)^{-s}}
{L / \text{front}}`, and

.. math::

    E[Y(t) \mid x, t_x, T] = P(\text{alive})\,\frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
        \Big[1 - \Big(\frac{\beta+T}{\beta+T+t}\Big)^{s-1}\Big].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln

from personae.clv import _pareto_quadrature as quadrature
from personae.clv._base import RepeatPurchaseModel, broadcast, fit_inputs
from personae.clv._fitting import (
    FloatArray,
    Objective,
    group_rows,
    maximise,
    penalized_mean,
    pick_rows,
    start_alpha,
    warm_start,
)
from personae.clv._fitting import dot as _dot
from personae.errors import ModelError

PARAM_NAMES = ("r", "alpha", "s", "beta")
#: from this many distinct customers on, the fit starts from the optimum on a subsample
WARM_START_ROWS = 100_000


@dataclass(frozen=True)
class _Data:
    """Customers as distinct (x, t_x, T) rows with weights, and their distinct (x, y) pairs.

    ``A_0`` needs the Gauss function at ``y = t_x`` and ``y = T``; both are evaluated once
    per distinct ``(x, y)`` pair (``pair_x``, ``pair_y``), rows point at theirs with
    ``tx_pair`` and ``t_pair``.
    """

    total_weight: float
    x: FloatArray
    big_t: FloatArray
    w: FloatArray
    x_unique: FloatArray
    x_weight: FloatArray
    pair_x: FloatArray
    pair_y: FloatArray
    tx_pair: NDArray[np.intp]
    t_pair: NDArray[np.intp]
    plan: quadrature.Plan

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray) -> _Data:
        rows = group_rows(x, tx, big_t, weight=w)
        (x_unique, tx_u, t_u), (x_code, tx_code, t_code) = rows.uniques, rows.codes
        # one list of y values (t_x's and T's) so that (x, y) pairs shared by both are one
        y_code, y_all = pd.factorize(np.concatenate([tx_u, t_u]), sort=False)
        y_all = np.asarray(y_all, dtype=np.float64)
        key = np.concatenate(
            [x_code * len(y_all) + y_code[tx_code], x_code * len(y_all) + y_code[len(tx_u) + t_code]]
        ).astype(np.int64)
        pair_of, pair_key = pd.factorize(key)
        pair_key = np.asarray(pair_key, dtype=np.int64)
        n = len(x_code)
        w = rows.weight
        pair_x = x_unique[pair_key // len(y_all)]
        pair_y = y_all[pair_key % len(y_all)]
        return cls(
            total_weight=float(w.sum()),
            x=x_unique[x_code],
            big_t=t_u[t_code],
            w=w,
            x_unique=x_unique,
            x_weight=np.bincount(x_code, weights=w, minlength=len(x_unique)).astype(np.float64),
            pair_x=pair_x,
            pair_y=pair_y,
            tx_pair=np.asarray(pair_of[:n], dtype=np.intp),
            t_pair=np.asarray(pair_of[n:], dtype=np.intp),
            plan=quadrature.Plan.build(pair_x, pair_y),
        )


def _log_gauss_at(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, s: float, beta: float
) -> tuple[FloatArray, FloatArray]:
    """The Gauss terms at ``(x, t_x)`` and ``(x, T)`` of each customer, once per distinct pair."""
    n = len(x)
    x_code, x_u = pd.factorize(np.concatenate([x, x]))
    y_code, y_u = pd.factorize(np.concatenate([tx, big_t]))
    pair_of, key = pd.factorize(x_code.astype(np.int64) * len(y_u) + y_code)
    key = np.asarray(key, dtype=np.int64)
    pair_x = np.asarray(x_u, dtype=np.float64)[key // len(y_u)]
    pair_y = np.asarray(y_u, dtype=np.float64)[key % len(y_u)]
    plan = quadrature.Plan.build(pair_x, pair_y)
    log_j = quadrature.log_integrals_with_gradient(plan, pair_x, (r, alpha, s, beta))[0]
    gauss = (log_j + np.log(r + s + pair_x))[pair_of]
    return gauss[:n], gauss[n:]


def _log_terms(
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    log_gauss_tx: FloatArray | None = None,
    log_gauss_t: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """``(log alive-branch, log died-branch)`` per customer, without the common front factor.

    Alive at T: ``-(r+x) log(α+T) - s log(β+T)``; died in ``(t_x, T]``:
    ``log(s/(r+s+x)) + log A_0``, ``-inf`` when ``t_x = T``.
    """
    alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    if log_gauss_tx is None or log_gauss_t is None:
        log_gauss_tx, log_gauss_t = _log_gauss_at(x, tx, big_t, r, alpha, s, beta)
    l1, l2 = log_gauss_tx, log_gauss_t
    d = np.minimum(l2 - l1, 0.0)
    with np.errstate(divide="ignore"):
        # log(1 - e^d), accurate on both sides of -log 2
        log1mexp = np.where(d > -0.693, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))
    died = np.log(s) - np.log(r + s + x) + l1 + log1mexp
    return alive, died


def _front(x: FloatArray, r: float, alpha: float, s: float, beta: float) -> FloatArray:
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)


def loglik_individual(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood (note 008, log space)."""
    x, tx, big_t = (np.asarray(v, dtype=np.float64) for v in (x, tx, big_t))
    alive, died = _log_terms(x, tx, big_t, r, alpha, s, beta)
    return np.asarray(_front(x, r, alpha, s, beta) + np.logaddexp(alive, died), dtype=np.float64)


def _neg_loglik(theta: FloatArray, data: _Data) -> float:
    """Total negative log-likelihood at log-parameters ``theta`` (the fit's objective's value)."""
    return _neg_loglik_with_gradient(theta, data)[0]


def _pair_gauss_terms(
    data: _Data, r: float, alpha: float, s: float, beta: float
) -> tuple[FloatArray, FloatArray]:
    """The log Gauss terms at every distinct ``(x, y)`` pair of ``data``, with their gradient.

    Shapes ``(n_pairs,)`` and ``(4, n_pairs)`` (order r, α, s, β). By quadrature along ``y``
    (:mod:`~personae.clv._pareto_quadrature`: a few nodes a pair whatever ``z`` is, where the
    series needs thousands of terms, or SciPy's ``hyp2f1``, near ``z = 1``).
    The quadrature gives ``log J`` with ``J = 2F1(…) / ((r+s+x) (max(α,β)+y)^(r+s+x))``, hence
    the ``log(r+s+x)`` moved back and forth.
    """
    log_j, d_log_j = quadrature.log_integrals_with_gradient(data.plan, data.pair_x, (r, alpha, s, beta))
    c = r + s + data.pair_x
    return log_j + np.log(c), d_log_j + _C_DIRECTION / c


#: ``c = r + s + x`` moves with r and s: its gradient in (r, α, s, β), as a column
_C_DIRECTION = np.array([1.0, 0.0, 1.0, 0.0])[:, None]


def _neg_loglik_with_gradient(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its analytic gradient in log-parameters.

    Per customer ``log L = front + logaddexp(alive, died)``; the gradient of each branch is
    in closed form but for the Gauss terms in ``died``, whose derivatives come with their
    quadrature (:func:`_pair_gauss_terms`), once per distinct ``(x, y)`` pair.
    ``died = log s - log(r+s+x) + log(e^{l1} - e^{l2})``, so its derivative is
    ``dl1 + (dl1 - dl2) e^d/(1 - e^d)`` (``d = l2 - l1 <= 0``) plus the first two terms'.
    """
    r, alpha, s, beta = np.exp(theta)
    gauss, d_gauss = _pair_gauss_terms(data, r, alpha, s, beta)
    l1, l2 = gauss[data.tx_pair], gauss[data.t_pair]
    x, big_t, w = data.x, data.big_t, data.w
    log_at, log_bt = np.log(alpha + big_t), np.log(beta + big_t)
    alive = -(r + x) * log_at - s * log_bt
    d = np.minimum(l2 - l1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log1mexp = np.where(d > -0.693, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))
        died = np.log(s) - np.log(r + s + x) + l1 + log1mexp
        row = np.logaddexp(alive, died)
        share_died = np.exp(died - row)  # 0 where t_x = T (no room to die)
        share_alive = np.exp(alive - row)
        ratio = np.where(d < 0, np.exp(d) / -np.expm1(d), 0.0)
    front = _front(data.x_unique, r, alpha, s, beta)
    loglik = float(_dot(data.x_weight, front) + _dot(w, row))
    if not np.isfinite(loglik):
        return float("inf"), np.zeros(4)
    wa, wd = w * share_alive, w * share_died
    wd_ratio = np.where(wd > 0, wd * ratio, 0.0)
    inv_c = 1.0 / (r + s + x)
    # Σ over rows of wd * (dl1 + (dl1 - dl2) ratio), gathered per (x, y) pair
    n_pairs = len(data.pair_x)
    on_tx = np.bincount(data.tx_pair, weights=wd + wd_ratio, minlength=n_pairs)
    on_t = np.bincount(data.t_pair, weights=wd_ratio, minlength=n_pairs)
    died_gauss = d_gauss @ on_tx - d_gauss @ on_t
    xw, total = data.x_weight, data.total_weight
    g = np.array(
        [
            _dot(xw, digamma(r + data.x_unique) - digamma(r) + np.log(alpha))
            - _dot(wa, log_at)
            - _dot(wd, inv_c),
            total * r / alpha - _dot(wa, (r + x) / (alpha + big_t)),
            total * np.log(beta) - _dot(wa, log_bt) + float(wd.sum()) / s - _dot(wd, inv_c),
            total * s / beta - s * _dot(wa, 1.0 / (beta + big_t)),
        ]
    )
    g += died_gauss
    return -loglik, -g * np.array([r, alpha, s, beta])


#: Hessian step. Chosen when the gradient near z = 1 was partly central differences of SciPy's
#: hyp2f1: a 1e-6 step of it was noise enough that the covariance (so the CLV interval)
#: changed with the last bits of the inputs (the same shop on DuckDB and on Spark: CLV lower
#: bounds 11% apart). The gradient is now analytic everywhere (quadrature); the step is kept,
#: not re-measured at 1e-6 (see :func:`~personae.clv._fitting.maximise`).
_HESS_STEP = 1e-4


class ParetoNBDModel(RepeatPurchaseModel):
    """Pareto/NBD model, scikit-learn style, with the interface of :class:`BetaGeoModel`.

    Fitted attributes: ``r_``, ``alpha_``, ``s_``, ``beta_``, ``params_``, ``loglik_``,
    ``covariance_`` and ``log_covariance_`` (order r, alpha, s, beta), ``n_customers_``,
    ``max_T_`` (the longest history seen, for :meth:`degenerate`).

    Args:
        penalizer_coef: L2 penalty on the parameters added to the *mean* NLL, as lifetimes'.

    Example:
        The published CDNOW estimates (weeks): a customer with 2 repeat purchases, the last
        in week 30.43 of 38.86, and one with none — who, unlike under the BG/NBD, may well
        have left:

        >>> m = ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.p_alive([2, 0], [30.43, 0.0], [38.86, 38.86]).round(3).tolist()
        [0.869, 0.295]
    """

    PARAM_NAMES = PARAM_NAMES
    KEY = "pareto_nbd"
    LABEL = "Pareto/NBD"

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> ParetoNBDModel:
        """Fit by maximum likelihood on log-parameters (identical customers collapsed first)."""
        x, tx, big_t, w = fit_inputs(frequency, recency, T, sample_weight)
        penalty = self.penalizer_coef

        def objective_on(pick: NDArray[np.intp] | None) -> tuple[Objective, _Data]:
            data = _Data.build(*pick_rows(pick, x, tx, big_t, w))
            return (
                penalized_mean(
                    lambda theta: _neg_loglik_with_gradient(theta, data), data.total_weight, penalty
                ),
                data,
            )

        objective, data = objective_on(None)
        span = float(np.average(big_t, weights=w)) + 1.0
        theta0 = np.log(np.array([1.0, start_alpha(x, big_t, w), 1.0, span]))
        theta0, hess0 = warm_start(
            lambda pick: objective_on(pick)[0],
            theta0,
            len(data.w),
            len(x),
            threshold=WARM_START_ROWS,
        )
        theta, hess = maximise(
            objective, theta0, model="ParetoNBDModel", names=PARAM_NAMES, hess0=hess0, hess_step=_HESS_STEP
        )
        loglik = -_neg_loglik(theta, data)
        if not np.isfinite(loglik):
            raise ModelError("ParetoNBDModel: the log-likelihood is not finite at the optimum")
        self._store_fit(theta, hess, loglik, data.total_weight, float(big_t[w > 0].max()))
        return self

    @classmethod
    def from_params(cls, r: float, alpha: float, s: float, beta: float) -> ParetoNBDModel:
        """A model with known parameters (e.g. published ones); no covariance, no loglik."""
        model = cls._from_values((r, alpha, s, beta))
        assert isinstance(model, ParetoNBDModel)
        return model

    #: above this chance of outliving the longest history seen, the fit says nobody leaves
    NO_DROPOUT = 1 - 1e-4

    def degenerate(self) -> str | None:
        """Why the fit cannot be used for lifetime values, in words, or ``None``.

        When a new customer's chance of still being active after the longest history in the
        data, ``(β/(β+T))^s``, is practically 1, the fit says nobody leaves: the history is
        too short to show anyone leaving.

        Example:
            >>> m = ParetoNBDModel.from_params(0.553, 10.578, 0.606, 11.669)
            >>> m.max_T_ = 39.0
            >>> m.degenerate() is None
            True
        """
        _, _, s, beta = self._params()
        if not np.isfinite(self.max_T_):
            return None
        stay = float(np.exp(-s * np.log1p(self.max_T_ / beta)))
        if stay > self.NO_DROPOUT:
            return (
                f"Pareto/NBD cannot tell when customers leave: the fit (s = {s:.2g}, beta = {beta:.2g}) "
                f"gives a new customer a {stay:.4%} chance of staying through the longest history "
                "seen, i.e. nobody ever leaves — the history is too short to show anyone leaving"
            )
        return None

    # -- predictions ----------------------------------------------------------------------
    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that each customer is still active at ``T`` (note 009, eq. 36)."""
        r, alpha, s, beta = self._params()
        x, tx, big_t = broadcast(frequency, recency, T)
        alive, died = _log_terms(x.ravel(), tx.ravel(), big_t.ravel(), r, alpha, s, beta)
        return np.asarray(expit(alive - died), dtype=np.float64).reshape(x.shape)

    def expected_transactions_new(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in ``(0, t]`` (note 009, eq. 27).

        Example:
            >>> m = ParetoNBDModel.from_params(0.553, 10.578, 0.606, 11.669)
            >>> m.expected_transactions_new([39.0, 78.0]).round(3).tolist()
            [1.213, 1.909]
        """
        r, alpha, s, beta = self._params()
        (tt,) = broadcast(t)
        return r * beta / alpha * _lifetime_integral(s, np.log1p(tt / beta))

    def predict_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Conditional expected purchases in the next ``t`` periods (note 009, eq. 41).

        Example:
            >>> m = ParetoNBDModel.from_params(0.553, 10.578, 0.606, 11.669)
            >>> m.predict_transactions(39.0, [2, 2], [30.43, 10.0], [38.86, 38.86]).round(3).tolist()
            [1.455, 0.45]
        """
        tt, x, tx, big_t = broadcast(t, frequency, recency, T)
        return self.p_alive(x, tx, big_t) * _expected_if_alive(self._params(), tt, x, big_t)

    def loglik_individual(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood under the fitted parameters."""
        x, tx, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        return loglik_individual(x, tx, big_t, *self._params())

    def sample_transactions(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        size: int,
        rng: np.random.Generator,
    ) -> NDArray[np.int64]:
        """``size`` draws of each customer's purchases in the next ``t`` periods.

        Alive with probability :meth:`p_alive`; if alive, λ ~ Gamma(r + x, α + T) and
        μ ~ Gamma(s, β + T) (the posteriors given the history and survival to T), a remaining
        lifetime ~ Exponential(μ), and Poisson(λ · min(lifetime, t)) purchases. Shape
        ``(size, customers)``; the mean is :meth:`predict_transactions`.
        """
        r, alpha, s, beta = self._params()
        x, tx, big_t = broadcast(frequency, recency, T)
        shape = (size, len(x))
        alive = rng.random(shape) < self.p_alive(x, tx, big_t)
        rate = rng.gamma(r + x, 1.0 / (alpha + big_t), size=shape)
        mu = rng.gamma(s, 1.0 / (beta + big_t), size=shape)
        life = rng.exponential(1.0, size=shape) / np.maximum(mu, 1e-300)
        count = rng.poisson(rate * np.minimum(life, t))
        return np.where(alive, count, 0).astype(np.int64)

    # -- hooks for personae.clv.value (parameters passed in: draws reuse them) -------------
    @staticmethod
    def _p_alive_rows(
        params: tuple[float, ...], x: FloatArray, tx: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, s, beta = params
        alive, died = _log_terms(x, tx, big_t, r, alpha, s, beta)
        return np.asarray(expit(alive - died), dtype=np.float64)

    @staticmethod
    def _cumulative_if_alive(
        params: tuple[float, ...],
        x_unique: FloatArray,
        code: NDArray[np.intp],
        big_t: FloatArray,
        horizons: FloatArray,
    ) -> FloatArray:
        """E[purchases in the next h | alive at T] per (x, T) pair (rows) and horizon (columns)."""
        return _expected_if_alive(params, horizons[None, :], x_unique[code][:, None], big_t[:, None])


def _lifetime_integral(s: float, log_ratio: FloatArray) -> FloatArray:
    """``(1 - e^{-(s-1) L}) / (s-1)``, ``L = log((β+T+t)/(β+T))``; ``L`` itself at ``s = 1``."""
    k = s - 1.0
    if abs(k) < 1e-12:
        return np.asarray(log_ratio, dtype=np.float64)
    return np.asarray(-np.expm1(-k * log_ratio) / k, dtype=np.float64)


def _expected_if_alive(params: tuple[float, ...], t: ArrayLike, x: ArrayLike, big_t: ArrayLike) -> FloatArray:
    """``(r+x)/(α+T) · (β+T) (1 - ((β+T)/(β+T+t))^(s-1)) / (s-1)``: E[Y(t) | alive at T]."""
    r, alpha, s, beta = params
    t, x, big_t = (np.asarray(v, dtype=np.float64) for v in (t, x, big_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log1p(np.maximum(t, 0.0) / (beta + big_t))
    return (r + x) / (alpha + big_t) * (beta + big_t) * _lifetime_integral(s, log_ratio)
