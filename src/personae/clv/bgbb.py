r"""BG/BB model of discrete-time repeat purchasing (Fader, Hardie & Shang 2010).

Reference: P. S. Fader, B. G. S. Hardie and J. Shang (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086-1108.

Setting: purchases can only happen at discrete *opportunities* — a yearly fund-raising
drive, a weekly event, a newsletter — at most one per opportunity. A customer's history
after their first purchase is ``x`` purchases in ``n`` opportunities, the last at
opportunity ``t_x`` (0 if none).

Model: while alive, a customer buys at each opportunity with probability
:math:`p \sim \mathrm{Beta}(\alpha, \beta)`; before each opportunity they die with
probability :math:`\theta \sim \mathrm{Beta}(\gamma, \delta)`. The likelihood (eq. 5) is

.. math::

    L = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma, \delta+n)}{B(\gamma,\delta)}
      + \sum_{i=0}^{n-t_x-1} \frac{B(\alpha+x, \beta+t_x-x+i)}{B(\alpha,\beta)}
        \frac{B(\gamma+1, \delta+t_x+i)}{B(\gamma,\delta)}

(alive through ``n``, or died right after opportunity ``t_x + i``). Every term is evaluated in
log space with ``betaln`` and the sum with a log-sum-exp, so long histories neither
overflow nor underflow; the gradient is analytic (digamma), once per distinct
``(x, t_x, n)`` row with its weight.

Predictions: :math:`P(\text{alive at } n+1) = \text{first term with } \delta+n+1 / L`
(eq. 11), and the expected purchases in the next :math:`n^*` opportunities (eq. 13) as the
sum over :math:`k = 1..n^*` of
:math:`\frac{B(\alpha+x+1, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma, \delta+n+k)}{B(\gamma,\delta)} / L`
— the paper's closed form divides by :math:`\gamma - 1`, which is 0/0 near
:math:`\gamma = 1`; the sum is the same number without that hazard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma

from personae.clv._base import RepeatPurchaseModel, broadcast
from personae.clv._fitting import (
    FloatArray,
    as_float_array,
    group_rows,
    maximise,
    penalized_mean,
    same_length,
    sample_weights,
)
from personae.clv._fitting import dot as _dot
from personae.errors import InputError, ModelError

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")


def check_bgbb_inputs(
    frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated ``(x, t_x, n)``: whole numbers with ``0 <= x <= t_x <= n`` and ``t_x = 0`` iff ``x = 0``."""
    x = as_float_array("frequency", frequency)
    tx = as_float_array("recency", recency)
    n = as_float_array("n_periods", n_periods)
    same_length(frequency=x, recency=tx, n_periods=n)
    for name, v in (("frequency", x), ("recency", tx), ("n_periods", n)):
        if np.any(v < 0) or np.any(v != np.round(v)):
            raise InputError(
                f"{name} must be non-negative whole numbers of opportunities",
                hint="BG/BB counts purchase opportunities (periods), not days",
            )
    if np.any(x > tx) or np.any(tx > n):
        raise InputError(
            "BG/BB needs frequency <= recency <= n_periods for every customer",
            hint="recency is the opportunity of the last purchase (1..n), frequency how many of "
            "the n opportunities after the first purchase had one",
        )
    if np.any((x == 0) & (tx != 0)) or np.any((x > 0) & (tx == 0)):
        raise InputError("recency must be 0 exactly for customers with frequency 0")
    return x, tx, n


@dataclass(frozen=True)
class _Data:
    """Distinct ``(x, t_x, n)`` rows with weights, and the "died after t_x + i" terms flattened.

    Row ``k`` owns the terms ``start[k] : start[k] + (n - t_x)`` of the flat arrays
    (``term_x``, ``term_j`` = ``t_x + i``); rows with ``t_x = n`` own none.
    """

    total_weight: float
    x: FloatArray
    tx: FloatArray
    n: FloatArray
    w: FloatArray
    term_row: NDArray[np.intp]
    term_x: FloatArray
    term_j: FloatArray

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, n: FloatArray, w: FloatArray) -> _Data:
        rows = group_rows(x, tx, n, weight=w)
        xs, txs, ns = (rows.column(j) for j in range(3))
        counts = (ns - txs).astype(np.intp)
        term_row = np.repeat(np.arange(len(xs), dtype=np.intp), counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        i = np.arange(int(counts.sum()), dtype=np.intp) - np.repeat(starts, counts)
        return cls(
            total_weight=float(rows.weight.sum()),
            x=xs,
            tx=txs,
            n=ns,
            w=rows.weight,
            term_row=term_row,
            term_x=xs[term_row],
            term_j=txs[term_row] + i,
        )


def _grad_betaln(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(d/da, d/db) log B(a, b)``."""
    ab = digamma(a + b)
    return digamma(a) - ab, digamma(b) - ab


@dataclass(frozen=True)
class _Terms:
    """Each row's "alive through n" term and its "died after t_x + i" terms, scaled by the
    row's largest term (``top``): ``log L = top + log(total)``, nothing overflows."""

    top: FloatArray
    e_alive: FloatArray
    e_died: FloatArray
    total: FloatArray

    @classmethod
    def of(cls, data: _Data, alpha: float, beta: float, gamma: float, delta: float) -> _Terms:
        x, n, tj, tx_ = data.x, data.n, data.term_j, data.term_x
        alive = betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n)
        died = betaln(alpha + tx_, beta + tj - tx_) + betaln(gamma + 1.0, delta + tj)
        top = alive.copy()
        np.maximum.at(top, data.term_row, died)
        e_alive = np.exp(alive - top)
        e_died = np.exp(died - top[data.term_row])
        total = e_alive + np.bincount(data.term_row, weights=e_died, minlength=len(x))
        return cls(top, e_alive, e_died, total)

    def row_loglik(self) -> FloatArray:
        """``log`` of the sum, without the common ``- log B(α,β) - log B(γ,δ)``."""
        return np.asarray(self.top + np.log(self.total), dtype=np.float64)


def _neg_loglik(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its analytic gradient in log-parameters."""
    alpha, beta, gamma, delta = np.exp(theta)
    terms = _Terms.of(data, alpha, beta, gamma, delta)
    x, n, w, tj, tx_ = data.x, data.n, data.w, data.term_j, data.term_x
    common = betaln(alpha, beta) + betaln(gamma, delta)
    loglik = _dot(w, terms.row_loglik()) - data.total_weight * common
    if not np.isfinite(loglik):
        return float("inf"), np.zeros(4)
    # gradient: each row's terms weighted by their share of the row's likelihood
    share_alive = w * terms.e_alive / terms.total
    share_died = (w / terms.total)[data.term_row] * terms.e_died
    ga_a, ga_b = _grad_betaln(alpha + x, beta + n - x)
    gg_g, gg_d = _grad_betaln(np.full_like(n, gamma), delta + n)
    gd_a, gd_b = _grad_betaln(alpha + tx_, beta + tj - tx_)
    gh_g, gh_d = _grad_betaln(np.full_like(tj, gamma + 1.0), delta + tj)
    c_a, c_b = _grad_betaln(np.array(alpha), np.array(beta))
    c_g, c_d = _grad_betaln(np.array(gamma), np.array(delta))
    tw = data.total_weight
    g = np.array(
        [
            _dot(share_alive, ga_a) + _dot(share_died, gd_a) - tw * float(c_a),
            _dot(share_alive, ga_b) + _dot(share_died, gd_b) - tw * float(c_b),
            _dot(share_alive, gg_g) + _dot(share_died, gh_g) - tw * float(c_g),
            _dot(share_alive, gg_d) + _dot(share_died, gh_d) - tw * float(c_d),
        ]
    )
    return -float(loglik), -g * np.array([alpha, beta, gamma, delta])


def loglik_individual(
    x: FloatArray, tx: FloatArray, n: FloatArray, alpha: float, beta: float, gamma: float, delta: float
) -> FloatArray:
    """Per-customer BG/BB log-likelihood (eq. 5, log space), once per distinct ``(x, t_x, n)``."""
    x, tx, n = (np.asarray(v, dtype=np.float64) for v in (x, tx, n))
    ones = np.ones(len(x))
    rows = group_rows(x, tx, n, weight=ones)
    data = _Data.build(x, tx, n, ones)  # the same grouping, so rows.inverse points into it
    per_row = _Terms.of(data, alpha, beta, gamma, delta).row_loglik()
    per_row = per_row - betaln(alpha, beta) - betaln(gamma, delta)
    return np.asarray(per_row[rows.inverse], dtype=np.float64)


class BetaGeoBetaBinomModel(RepeatPurchaseModel):
    """BG/BB model, scikit-learn style: histories counted in discrete opportunities.

    ``frequency`` is the number of opportunities with a purchase among the ``n`` after the
    first purchase, ``recency`` the last of them (0 if none), ``T`` (here ``n_periods``) the
    number of opportunities. Fitted attributes: ``alpha_``, ``beta_``, ``gamma_``,
    ``delta_``, ``params_``, ``loglik_``, ``covariance_``, ``log_covariance_``,
    ``n_customers_``, ``max_T_`` (the most opportunities seen).

    Example:
        The published donation-data estimates: a donor who gave in 4 of the 6 years, the
        last in year 5 of 6 — and one who never gave again:

        >>> m = BetaGeoBetaBinomModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.p_alive([4, 0], [5, 0], [6, 6]).round(3).tolist()
        [0.697, 0.108]
        >>> m.predict_transactions(5, [4, 0], [5, 0], [6, 6]).round(3).tolist()
        [2.03, 0.073]
    """

    PARAM_NAMES = PARAM_NAMES
    KEY = "bg_bb"
    LABEL = "BG/BB"
    #: below this mean chance of dying before an opportunity, γ/(γ+δ), nobody leaves
    NO_DROPOUT = 1e-4

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> BetaGeoBetaBinomModel:
        """Fit by maximum likelihood on log-parameters (identical customers collapsed first).

        ``T`` is the number of opportunities after the first purchase; ``sample_weight``
        counts identical customers (the paper's table of 22 rows with counts fits directly).
        """
        x, tx, n = check_bgbb_inputs(frequency, recency, T)
        w = sample_weights(sample_weight, len(x))
        if w.sum() <= 0:
            raise InputError("no customers to fit (empty input or all weights 0)")
        data = _Data.build(x, tx, n, w)
        objective = penalized_mean(
            lambda theta: _neg_loglik(theta, data), data.total_weight, self.penalizer_coef
        )
        theta0 = np.zeros(4)  # Beta(1, 1) for both: uniform purchase and drop-out chances
        theta, hess = maximise(objective, theta0, model="BetaGeoBetaBinomModel", names=PARAM_NAMES)
        loglik = -_neg_loglik(theta, data)[0]
        if not np.isfinite(loglik):
            raise ModelError("BetaGeoBetaBinomModel: the log-likelihood is not finite at the optimum")
        self._store_fit(theta, hess, loglik, data.total_weight, float(n[w > 0].max()))
        return self

    @classmethod
    def from_params(cls, alpha: float, beta: float, gamma: float, delta: float) -> BetaGeoBetaBinomModel:
        """A model with known parameters (e.g. published ones); no covariance, no loglik."""
        model = cls._from_values((alpha, beta, gamma, delta))
        assert isinstance(model, BetaGeoBetaBinomModel)
        return model

    def degenerate(self) -> str | None:
        """Why the fit cannot be used for lifetime values, in words, or ``None``.

        A mean chance of dying before an opportunity, γ/(γ+δ), that is practically zero
        says nobody ever leaves.

        Example:
            >>> BetaGeoBetaBinomModel.from_params(1.2, 0.75, 1e-6, 3.0).degenerate()[:38]
            'BG/BB cannot tell when customers leave'
        """
        _, _, gamma, delta = self._params()
        dropout = gamma / (gamma + delta)
        if dropout < self.NO_DROPOUT:
            return (
                f"{self.LABEL} cannot tell when customers leave: the fit (gamma = {gamma:.2g}, "
                f"delta = {delta:.2g}) puts the chance of leaving before an opportunity at "
                f"{dropout:.1g}, i.e. nobody ever leaves — the history is too short to show it"
            )
        return None

    # -- predictions ----------------------------------------------------------------------
    def _log_l(self, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
        return loglik_individual(x, tx, n, *self._params())

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability of being alive at the next opportunity, ``n + 1`` (eq. 11)."""
        alpha, beta, gamma, delta = self._params()
        x, tx, n = broadcast(frequency, recency, T)
        shape = x.shape
        x, tx, n = check_bgbb_inputs(x.ravel(), tx.ravel(), n.ravel())
        log_num = (
            betaln(alpha + x, beta + n - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + n + 1)
            - betaln(gamma, delta)
        )
        return np.asarray(np.minimum(np.exp(log_num - self._log_l(x, tx, n)), 1.0)).reshape(shape)

    def expected_transactions_new(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in their first ``t`` opportunities (eq. 7).

        Example:
            >>> m = BetaGeoBetaBinomModel.from_params(1.204, 0.750, 0.657, 2.783)
            >>> m.expected_transactions_new([1, 6]).round(3).tolist()
            [0.498, 2.22]
        """
        alpha, beta, gamma, delta = self._params()
        (tt,) = broadcast(t)
        k_max = int(np.max(tt, initial=0))
        k = np.arange(1, k_max + 1, dtype=np.float64)
        per_k = alpha / (alpha + beta) * np.exp(betaln(gamma, delta + k) - betaln(gamma, delta))
        cum = np.concatenate([[0.0], np.cumsum(per_k)])
        return np.asarray(cum[np.clip(np.floor(tt), 0, k_max).astype(np.intp)], dtype=np.float64)

    def predict_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected purchases in the next ``t`` opportunities given the history (eq. 13).

        ``t`` is a whole number of opportunities (a fraction is rounded down).
        """
        alpha, beta, gamma, delta = self._params()
        tt, x, tx, n = broadcast(t, frequency, recency, T)
        shape = x.shape
        tt = np.floor(np.maximum(tt.ravel(), 0.0))
        x, tx, n = check_bgbb_inputs(x.ravel(), tx.ravel(), n.ravel())
        log_front = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta) - betaln(gamma, delta)
        log_front -= self._log_l(x, tx, n)
        k_max = int(tt.max(initial=0))
        out = np.zeros(len(x))
        for k in range(1, k_max + 1):  # n* is a few opportunities: a short loop, vectorised over customers
            term = np.exp(log_front + betaln(gamma, delta + n + k))
            out += np.where(tt >= k, term, 0.0)
        return out.reshape(shape)

    def loglik_individual(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood under the fitted parameters."""
        x, tx, n = check_bgbb_inputs(frequency, recency, T)
        return self._log_l(x, tx, n)

    def sample_transactions(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        size: int,
        rng: np.random.Generator,
    ) -> NDArray[np.int64]:
        """``size`` draws of each customer's purchases in the next ``t`` opportunities.

        Alive at ``n + 1`` with :meth:`p_alive`; if alive, ``p ~ Beta(α + x, β + n - x)`` and
        ``θ ~ Beta(γ, δ + n + 1)`` (the posteriors given survival to ``n + 1``), the opportunities
        survived ~ Geometric(θ), and Binomial(min(survived, t), p) purchases.
        """
        alpha, beta, gamma, delta = self._params()
        x, tx, n = broadcast(frequency, recency, T)
        shape = (size, len(x))
        alive = rng.random(shape) < self.p_alive(x, tx, n)
        p = rng.beta(alpha + x, beta + n - x, size=shape)
        theta = np.clip(rng.beta(gamma, delta + n + 1, size=shape), 1e-12, 1.0)
        survived = rng.geometric(theta)  # opportunities n+1, n+2, … reached before dying
        count = rng.binomial(np.minimum(survived, int(t)), p)
        return np.where(alive, count, 0).astype(np.int64)
