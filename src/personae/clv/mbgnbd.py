r"""MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007).

Reference: E. P. Batislam, M. Denizel and A. Filiztekin (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research in
Marketing* 24(3), 201-209; the formulas follow ``lifetimes``' ModifiedBetaGeoFitter.

Model: as the BG/NBD (:mod:`personae.clv.bgnbd`) — purchases at rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` while active, drop-out with probability
:math:`p \sim \mathrm{Beta}(a, b)` — except that a customer may also drop out right after the
*first* purchase. So a customer without a repeat purchase is no longer certainly alive, which
is the BG/NBD's best-known flaw. The likelihood is

.. math::

    \ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x+1) - \ln B(a, b)
        - (r+x)\ln(\alpha+T)
        + \mathrm{softplus}\Big(\ln\frac{a}{b+x} + (r+x)\ln\frac{\alpha+T}{\alpha+t_x}\Big)

and :math:`P(\text{alive}) = 1 / (1 + \frac{a}{b+x}(\frac{\alpha+T}{\alpha+t_x})^{r+x})` for
every customer. A customer alive at :math:`T` has :math:`p \sim \mathrm{Beta}(a, b+x+1)`, so
the conditional expectation is the BG/NBD's with :math:`b` replaced by :math:`b+1`; it reuses
the BG/NBD's safe evaluation (Euler's transformation, checked ``hyp2f1``, Beta quadrature and
Chebyshev interpolation) unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln

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
from personae.clv.bgnbd import BetaGeoModel, _nobody_leaves, _numerator

PARAM_NAMES = ("r", "alpha", "a", "b")
#: from this many distinct customers on, the fit starts from the optimum on a subsample
WARM_START_ROWS = 100_000


@dataclass(frozen=True)
class _Data:
    """Distinct (x, t_x, T) rows with weights; per-frequency terms once per distinct x, and
    the logarithms of α + T and α + t_x once per distinct T and t_x (codes per row)."""

    total_weight: float
    x_unique: FloatArray
    x_weight: FloatArray
    t_unique: FloatArray
    t_weight: FloatArray  # Σ w per distinct T
    t_weight_x: FloatArray  # Σ w x per distinct T
    tx_unique: FloatArray
    x: FloatArray
    w: FloatArray
    x_code: NDArray[np.intp]
    t_code: NDArray[np.intp]
    tx_code: NDArray[np.intp]

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray) -> _Data:
        rows = group_rows(x, tx, big_t, weight=w)
        (x_unique, tx_unique, t_unique), (x_code, tx_code, t_code) = rows.uniques, rows.codes
        w = rows.weight
        x = x_unique[x_code]
        return cls(
            total_weight=float(w.sum()),
            x_unique=x_unique,
            x_weight=np.bincount(x_code, weights=w, minlength=len(x_unique)).astype(np.float64),
            t_unique=t_unique,
            t_weight=np.bincount(t_code, weights=w, minlength=len(t_unique)).astype(np.float64),
            t_weight_x=np.bincount(t_code, weights=w * x, minlength=len(t_unique)).astype(np.float64),
            tx_unique=tx_unique,
            x=x,
            w=w,
            x_code=x_code,
            t_code=t_code,
            tx_code=tx_code,
        )


def _log_odds_dead(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """``log(a/(b+x)) + (r+x) log((α+T)/(α+t_x))``: log-odds of having dropped out by T."""
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))


def loglik_individual(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """Per-customer MBG/NBD log-likelihood (log space)."""
    front = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    front += gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
    d = _log_odds_dead(x, tx, big_t, r, alpha, a, b)
    return np.asarray(front - (r + x) * np.log(alpha + big_t) + np.logaddexp(0.0, d), dtype=np.float64)


def _neg_loglik(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its analytic gradient in log-parameters."""
    r, alpha, a, b = np.exp(theta)
    xu, xw = data.x_unique, data.x_weight
    per_x = (
        gammaln(r + xu)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + xu + 1)
        - gammaln(b)
        - gammaln(a + b + xu + 1)
    )
    x, w = data.x, data.w
    c = r + x
    log_at_u = np.log(alpha + data.t_unique)
    inv_at_u = 1.0 / (alpha + data.t_unique)
    log_atx_u = np.log(alpha + data.tx_unique)
    inv_atx_u = 1.0 / (alpha + data.tx_unique)
    delta = log_at_u[data.t_code] - log_atx_u[data.tx_code]  # log((α+T)/(α+t_x)) >= 0
    log_b_x = np.log(b + data.x_unique)
    inv_b_x = 1.0 / (b + data.x_unique)
    code_x = data.x_code
    d = np.log(a) - log_b_x[code_x] + c * delta
    e = np.exp(-np.abs(d))
    softplus = np.maximum(d, 0.0) + np.log1p(e)
    sigma = np.where(d > 0, 1.0, e) / (1.0 + e)  # weight of the "dropped out" branch
    # Σ w (r+x) log(α+T), summed per distinct T
    sum_log_at = float(_dot(data.t_weight, log_at_u))
    sum_c_log_at = r * sum_log_at + float(_dot(data.t_weight_x, log_at_u))
    loglik = float(_dot(xw, per_x) + _dot(w, softplus)) - sum_c_log_at
    ws = w * sigma
    g_r = float(_dot(xw, digamma(r + xu) - digamma(r) + np.log(alpha))) - sum_log_at
    g_r += float(_dot(ws, delta))
    sum_c_inv_at = r * float(_dot(data.t_weight, inv_at_u)) + float(_dot(data.t_weight_x, inv_at_u))
    g_alpha = r / alpha * data.total_weight - sum_c_inv_at
    g_alpha += float(_dot(ws * c, inv_at_u[data.t_code] - inv_atx_u[data.tx_code]))
    dig_ab = digamma(a + b)
    g_a = float(_dot(xw, dig_ab - digamma(a + b + xu + 1))) + float(ws.sum()) / a
    g_b = float(_dot(xw, dig_ab + digamma(b + xu + 1) - digamma(b) - digamma(a + b + xu + 1)))
    ws_by_x = np.bincount(code_x, weights=ws, minlength=len(xu)).astype(np.float64)
    g_b -= float(_dot(ws_by_x, inv_b_x))
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -loglik, -grad


class ModifiedBetaGeoModel(RepeatPurchaseModel):
    """MBG/NBD model, scikit-learn style, with the interface of :class:`BetaGeoModel`.

    Fitted attributes: ``r_``, ``alpha_``, ``a_``, ``b_``, ``params_``, ``loglik_``,
    ``covariance_`` and ``log_covariance_`` (order r, alpha, a, b), ``n_customers_``.

    Args:
        penalizer_coef: L2 penalty on the parameters added to the *mean* NLL, as lifetimes'.

    Example:
        A customer without a repeat purchase is no longer certainly alive:

        >>> m = ModifiedBetaGeoModel.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
        >>> m.p_alive([2, 0], [30.43, 0.0], [38.86, 38.86]).round(3).tolist()
        [0.706, 0.39]
    """

    PARAM_NAMES = PARAM_NAMES
    KEY = "mbg_nbd"
    LABEL = "MBG/NBD"
    #: below this mean drop-out probability per purchase, a/(a+b), the fit says nobody leaves
    NO_DROPOUT = 1e-4

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> ModifiedBetaGeoModel:
        """Fit by maximum likelihood on log-parameters (identical customers collapsed first)."""
        x, tx, big_t, w = fit_inputs(frequency, recency, T, sample_weight)
        penalty = self.penalizer_coef

        def objective_on(pick: NDArray[np.intp] | None) -> tuple[Objective, _Data]:
            data = _Data.build(*pick_rows(pick, x, tx, big_t, w))
            return penalized_mean(lambda theta: _neg_loglik(theta, data), data.total_weight, penalty), data

        objective, data = objective_on(None)
        theta0 = np.log(np.array([1.0, start_alpha(x, big_t, w), 1.0, 1.0]))
        theta0, hess0 = warm_start(
            lambda pick: objective_on(pick)[0], theta0, len(data.w), len(x), threshold=WARM_START_ROWS
        )
        theta, hess = maximise(
            objective, theta0, model="ModifiedBetaGeoModel", names=PARAM_NAMES, hess0=hess0
        )
        loglik = -_neg_loglik(theta, data)[0]
        self._store_fit(theta, hess, loglik, data.total_weight, float(big_t[w > 0].max()))
        return self

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> ModifiedBetaGeoModel:
        """A model with known parameters; no covariance, no loglik."""
        model = cls._from_values((r, alpha, a, b))
        assert isinstance(model, ModifiedBetaGeoModel)
        return model

    def degenerate(self) -> str | None:
        """Why the fit cannot be used for lifetime values, in words, or ``None``.

        As for the BG/NBD: a mean drop-out probability a/(a+b) that is practically zero says
        nobody ever leaves — the history is too short to show anyone leaving.

        Example:
            >>> ModifiedBetaGeoModel.from_params(2.0, 198.0, 4.3e-7, 1.1e5).degenerate()[:40]
            'MBG/NBD cannot tell when customers leave'
        """
        _, _, a, b = self._params()
        return _nobody_leaves(self.LABEL, a, b, self.NO_DROPOUT)

    # -- predictions ----------------------------------------------------------------------
    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that each customer is still active at ``T``."""
        x, tx, big_t = broadcast(frequency, recency, T)
        return self._p_alive_rows(self._params(), x, tx, big_t)

    def expected_transactions_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases of a new customer in ``(0, t]``.

        Example:
            >>> m = ModifiedBetaGeoModel.from_params(0.525, 6.183, 0.891, 1.614)
            >>> bool(m.expected_transactions_new([39.0])[0] > 0)
            True
        """
        r, alpha, a, b = self._params()
        (tt,) = broadcast(t)
        zero = np.zeros_like(tt)
        # alive after the first purchase with probability b/(a+b), then p ~ Beta(a, b+1)
        return b / (a + b) * _numerator(tt, zero, zero, r, alpha, a, b + 1.0)

    def predict_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Conditional expected purchases in the next ``t`` periods, ``E[Y(t)|x, t_x, T]``."""
        r, alpha, a, b = self._params()
        tt, x, tx, big_t = broadcast(t, frequency, recency, T)
        num = _numerator(tt, x, big_t, r, alpha, a, b + 1.0)
        return num * self._p_alive_rows((r, alpha, a, b), x, tx, big_t)

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
        p ~ Beta(a, b + x + 1), then ``min(Poisson(λ t), Geometric(p))`` purchases.
        """
        r, alpha, a, b = self._params()
        x, tx, big_t = broadcast(frequency, recency, T)
        shape = (size, len(x))
        alive = rng.random(shape) < self.p_alive(x, tx, big_t)
        rate = rng.gamma(r + x, 1.0 / (alpha + big_t), size=shape)
        p = np.clip(rng.beta(a, b + x + 1, size=shape), 1e-12, 1.0)
        count = np.minimum(rng.poisson(rate * t), rng.geometric(p))
        return np.where(alive, count, 0).astype(np.int64)

    # -- hooks for personae.clv.value ------------------------------------------------------
    @staticmethod
    def _p_alive_rows(
        params: tuple[float, ...], x: FloatArray, tx: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = params
        return np.asarray(expit(-_log_odds_dead(x, tx, big_t, r, alpha, a, b)), dtype=np.float64)

    @staticmethod
    def _cumulative_if_alive(
        params: tuple[float, ...],
        x_unique: FloatArray,
        code: NDArray[np.intp],
        big_t: FloatArray,
        horizons: FloatArray,
    ) -> FloatArray:
        """E[purchases in the next h | alive at T] per (x, T) pair (rows) and horizon (columns).

        The BG/NBD's with ``b`` replaced by ``b + 1`` (alive at T means p ~ Beta(a, b+x+1)).
        """
        r, alpha, a, b = params
        return BetaGeoModel._cumulative_if_alive((r, alpha, a, b + 1.0), x_unique, code, big_t, horizons)
