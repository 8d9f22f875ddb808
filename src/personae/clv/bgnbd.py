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

``scipy.special.hyp2f1`` still breaks down for large parameters (e.g. fits that land near
the boundary with ``a`` and ``b`` in the millions, where Beta(a, b) is nearly a point mass)
and is slow exactly there. The numerator of eq. 10 is the Beta(a, b+x) average of
:math:`h(p) = (1 - (1+ps)^{-(r+x)})/p`, :math:`s = t/(\alpha+T)`, which
:mod:`~personae.clv._beta_quadrature` integrates for any parameters with one vectorised
rule per distinct frequency; it replaces hyp2f1 wherever the rule is as cheap (concentrated
Beta laws) and recomputes every hyp2f1 value that fails the checks. When many customers share a
frequency, the numerator is a smooth function of :math:`\log s` alone, and a verified
piecewise Chebyshev interpolant (:mod:`~personae.clv._chebyshev`) built from a few dozen
quadrature values per frequency serves all of them and every horizon.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, digamma, expit, gammaln, hyp2f1, log_expit, logit

from personae.clv import _chebyshev as chebyshev
from personae.clv._base import RepeatPurchaseModel, fit_inputs
from personae.clv._base import broadcast as _broadcast
from personae.clv._beta_quadrature import BetaRules, apply_rules, beta_rules
from personae.clv._fitting import (
    FloatArray,
    Objective,
    group_rows,
    maximise,
    penalized_mean,
    pick_rows,
    warm_start,
)
from personae.clv._fitting import dot as _dot

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class _Data:
    """Customers prepared for fast likelihood evaluations.

    Identical (x, t_x, T) rows are collapsed into weights; terms that depend on one of
    x, t_x or T only are evaluated once per distinct value and summed with precomputed
    weights, so per-row work is left for the customers with x > 0 (the others' likelihood
    has no per-row term besides ``(r+x) log(α+T)``, which is summed per distinct T).
    """

    total_weight: float
    x_unique: FloatArray  # distinct frequencies
    x_weight: FloatArray  # total weight per distinct frequency
    t_unique: FloatArray  # distinct T
    t_weight: FloatArray  # Σ w per distinct T
    t_weight_x: FloatArray  # Σ w x per distinct T
    tx_unique: FloatArray  # distinct recency among x > 0
    # rows with x > 0: frequency, weight, and codes into x_unique / t_unique / tx_unique
    xp: FloatArray
    wp: FloatArray
    xp_code: NDArray[np.intp]
    tp_code: NDArray[np.intp]
    txp_code: NDArray[np.intp]

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> _Data:
        rows = group_rows(x, tx, T, weight=w)
        (x_unique, tx_all, t_unique), (x_code, tx_code, t_code) = rows.uniques, rows.codes
        w = rows.weight
        x = x_unique[x_code]
        pos = x > 0
        # recency values present among x > 0 rows, re-coded densely (O(n), no sort)
        present = np.zeros(len(tx_all), dtype=bool)
        present[tx_code[pos]] = True
        txp_code = (np.cumsum(present) - 1)[tx_code[pos]]
        return cls(
            total_weight=float(w.sum()),
            x_unique=x_unique,
            x_weight=np.bincount(x_code, weights=w, minlength=len(x_unique)).astype(np.float64),
            t_unique=t_unique,
            t_weight=np.bincount(t_code, weights=w, minlength=len(t_unique)).astype(np.float64),
            t_weight_x=np.bincount(t_code, weights=w * x, minlength=len(t_unique)).astype(np.float64),
            tx_unique=tx_all[present],
            xp=x[pos],
            wp=w[pos],
            xp_code=x_code[pos],
            tp_code=t_code[pos],
            txp_code=txp_code,
        )


def _neg_loglik(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its gradient with respect to the log-parameters.

    With ``l1 = -(r+x) log(α+T)`` and ``l2 = log(a/(b+x-1)) - (r+x) log(α+t_x)``,
    ``log L = per_x + l1 + log(1 + e^d)``, ``d = l2 - l1`` (``d = -inf`` when x = 0); the
    gradient weights the two branches by ``1 - σ(d)`` and ``σ(d)``.
    """
    r, alpha, a, b = np.exp(theta)
    xu, xw = data.x_unique, data.x_weight
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
    positive = xu > 0
    inv_b = np.zeros_like(xu)
    inv_b[positive] = 1.0 / (b + xu[positive] - 1)
    log_ratio = np.log(a) + np.log(inv_b, where=positive, out=np.zeros_like(xu))
    # l1 summed per distinct T
    log_at_u = np.log(alpha + data.t_unique)
    inv_at_u = 1.0 / (alpha + data.t_unique)
    sum_log_at = _dot(data.t_weight, log_at_u)
    sum_l1 = -(r * sum_log_at + _dot(data.t_weight_x, log_at_u))
    # per-row part, customers with x > 0 only
    log_at = log_at_u[data.tp_code]
    delta = np.log(alpha + data.tx_unique)[data.txp_code] - log_at  # log((α+t_x)/(α+T)) <= 0
    c = r + data.xp
    d = log_ratio[data.xp_code] - c * delta
    # softplus(d) = log(1 + e^d) and w2 = σ(d), the weight of the "dropped out right after
    # t_x" branch, from one exp (scipy's expit/log_expit are several times slower)
    e = np.exp(-np.abs(d))
    softplus = np.maximum(d, 0.0) + np.log1p(e)
    w2 = np.where(d > 0, 1.0, e) / (1.0 + e)
    loglik = float(_dot(xw, per_x) + sum_l1 + _dot(data.wp, softplus))

    ww2 = data.wp * w2
    inv_atx = (1.0 / (alpha + data.tx_unique))[data.txp_code]
    g_r = _dot(xw, digamma(r + xu) - digamma(r) + np.log(alpha)) - sum_log_at - _dot(ww2, delta)
    g_alpha = (
        r / alpha * data.total_weight
        - r * _dot(data.t_weight, inv_at_u)
        - _dot(data.t_weight_x, inv_at_u)
        - _dot(ww2 * c, inv_atx - inv_at_u[data.tp_code])
    )
    dig_ab = digamma(a + b)
    g_a = _dot(xw, dig_ab - digamma(a + b + xu)) + ww2.sum() / a
    ww2_by_x = np.bincount(data.xp_code, weights=ww2, minlength=len(xu)).astype(np.float64)
    g_b = _dot(xw, digamma(b + xu) - digamma(a + b + xu) - digamma(b) + dig_ab) - _dot(ww2_by_x, inv_b)
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -loglik, -grad


def _h(p: FloatArray, s: FloatArray, c: FloatArray) -> FloatArray:
    """``h(p) = (1 - (1 + p s)^-c) / p``: E[purchases in the next t | alive, p], λ integrated out.

    Convex and decreasing in ``p``, with ``h(0) = c s``; ``s = t/(α+T)``, ``c = r + x``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-c * np.log1p(p * s)) / p
    return np.where(p > 0, out, c * s)


def _numerator_hyp2f1(s: FloatArray, x: FloatArray, r: float, a: float, b: float) -> FloatArray:
    """Closed form: ``(a+b+x-1)/(a-1) (1 - K)`` with ``K`` from Euler's transformation.

    ``K = (1+s)^-(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) F`` with
    ``F = 2F1(a+b-1-r, a-1; a+b+x-1; z)``, ``s = t/(α+T)`` and ``z = s/(1+s)``;
    ``log(1-z) = -log1p(s)`` (exact for tiny s) and ``1 - K`` is ``-expm1(log K)`` when
    ``K > 0``. May return NaN/inf or wrong values where ``scipy.special.hyp2f1`` breaks down
    (large parameters with z near 1): :func:`_numerator` checks and repairs those.
    """
    log_1mz = -np.log1p(s)
    z = s / (1.0 + s)
    f = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    with np.errstate(all="ignore"):
        log_abs_k = (a - 1) * log_1mz + np.log(np.abs(f))
        one_minus_k = np.where(f > 0, -np.expm1(log_abs_k), 1.0 + np.exp(log_abs_k))
        # Pfaff's transformation gives K a second way, K = 2F1(r+x, a-1; a+b+x-1; -s);
        # scipy's failure modes differ between the two, so disagreement flags a bad value
        check = 1.0 - hyp2f1(r + x, a - 1, a + b + x - 1, -s)
        agree = np.abs(check - one_minus_k) <= 1e-11 * np.abs(one_minus_k)
        return np.where(agree, (a + b + x - 1) / (a - 1) * one_minus_k, np.nan)


#: 8-point Gauss-Legendre rule on [0, 1] for the quadrature fallback
_GL_NODES, _GL_WEIGHTS = (
    (np.polynomial.legendre.leggauss(8)[0] + 1) / 2,
    np.polynomial.legendre.leggauss(8)[1] / 2,
)


def _numerator_quadrature(
    t: float, x: float, big_t: float, r: float, alpha: float, a: float, b: float
) -> float:
    """Slow, robust path: ``E_p[h(p)]`` with ``p ~ Beta(a, b+x)`` by numerical integration.

    The conditional expectation for a customer alive at ``T`` is the Beta(a, b+x) average of
    :func:`_h` (λ ~ Gamma(r+x, α+T) integrated out in closed form). We integrate over
    ``v = logit(p)`` with composite 8-point Gauss-Legendre panels (width 0.5, refined to a
    third of the Beta bulk's width where that is narrower), and add both tails analytically
    with the regularised incomplete beta function: below ``p_L`` (where ``h`` is linear to
    1e-14) and above ``1 - 1e-12`` (where ``h`` is constant). The middle part is the mass
    between the tails times the ratio of two quadratures (of ``density * h`` and of
    ``density``), so ``betaln(a, b+x)``, which loses digits when ``a`` and ``b`` are in the
    millions, is not needed.

    Kept as an independent reference for tests: :func:`_numerator` uses the vectorised
    :mod:`~personae.clv._beta_quadrature` instead.
    """
    EVALUATIONS["scalar_quadrature"] += 1
    s, c, bp = t / (alpha + big_t), r + x, b + x
    if s <= 0:
        return 0.0
    mean_p = a / (a + bp)
    p_left = min(1e-7 / ((c + 1) * s), 1e-3)
    p_right = 1.0 - 1e-12
    left_mass, right_mass = betainc(a, bp, p_left), betainc(bp, a, 1.0 - p_right)
    left_tail = c * s * (left_mass - (c + 1) * s / 2 * mean_p * betainc(a + 1, bp, p_left))
    h_one = float(_h(np.array(1.0), np.array(s), np.array(c)))
    right_tail = h_one * right_mass
    v_left, v_right = float(logit(p_left)), float(logit(p_right))
    breaks = np.arange(v_left, v_right, 0.5)
    width = np.sqrt(1 / a + 1 / bp)
    if width < 1.5:
        centre = np.log(a / bp)
        fine = np.arange(centre - 12 * width, centre + 12 * width, width / 3)
        breaks = np.concatenate([breaks, fine[(fine > v_left) & (fine < v_right)]])
    breaks = np.unique(np.concatenate([breaks, [v_left, v_right]]))
    lo, hi = breaks[:-1, None], breaks[1:, None]
    v = (lo + (hi - lo) * _GL_NODES).ravel()
    weights = ((hi - lo) * _GL_WEIGHTS).ravel()
    log_density = a * log_expit(v) + bp * log_expit(-v)
    density = weights * np.exp(log_density - log_density.max())
    ratio = np.dot(density, _h(expit(v), np.array(s), np.array(c))) / density.sum()
    return float(left_tail + (1.0 - left_mass - right_mass) * ratio + right_tail)


def _starting_values(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray, n_rows: int
) -> tuple[FloatArray, FloatArray | None]:
    """Log-parameters to start from and, for big inputs, a Hessian estimate there.

    Default: r = 1, alpha = 1 / (mean purchase rate), a = b = 1, no Hessian. With many
    distinct customers we first fit a fixed-seed subsample of 50,000: its estimate is within
    sampling error of the full optimum and its (mean-NLL) Hessian is close to the full one,
    so a few cheap Newton steps on the full data finish the job.
    """
    rate = (np.dot(w, x) + 1.0) / (np.dot(w, big_t) + 1.0)
    theta0 = np.log(np.array([1.0, max(1.0 / rate, 1e-3), 1.0, 1.0]))

    def objective_on(pick: NDArray[np.intp] | None) -> Objective:
        # the subsample's plain mean NLL (no penalty: fit() adds it to the Hessian)
        sub = _Data.build(*pick_rows(pick, x, tx, big_t, w))
        return penalized_mean(lambda theta: _neg_loglik(theta, sub), sub.total_weight, 0.0)

    return warm_start(objective_on, theta0, n_rows, len(x), threshold=200_000, size=50_000)


def _nobody_leaves(label: str, a: float, b: float, no_dropout: float) -> str | None:
    """Why a fit with drop-out law Beta(a, b) says nobody leaves, or ``None`` (BG and MBG/NBD).

    That is, the mean drop-out probability per purchase a/(a+b) is below ``no_dropout``.
    """
    mean_dropout = a / (a + b)
    if mean_dropout < no_dropout:
        return (
            f"{label} cannot tell when customers leave: the fit (a = {a:.2g}, b = {b:.2g}) puts "
            f"the chance of leaving after a purchase at {mean_dropout:.1g}, i.e. nobody ever "
            "leaves — the history is too short to show anyone leaving"
        )
    return None


class BetaGeoModel(RepeatPurchaseModel):
    """BG/NBD model, scikit-learn style.

    ``KEY`` names it in JSON output (``"bg_nbd"``; ``personae clv fit`` also keeps the older
    ``"bgnbd"`` key), ``LABEL`` for people.

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

    KEY = "bg_nbd"
    LABEL = "BG/NBD"
    PARAM_NAMES = PARAM_NAMES

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> BetaGeoModel:
        """Fit by maximum likelihood (identical customers are collapsed into weights first)."""
        x, tx, big_t, w = fit_inputs(frequency, recency, T, sample_weight)
        data = _Data.build(x, tx, big_t, w)
        total = data.total_weight
        penalty = self.penalizer_coef

        objective = penalized_mean(lambda theta: _neg_loglik(theta, data), total, penalty)
        theta0, hess0 = _starting_values(x, tx, big_t, w, len(data.wp) + len(data.t_unique))
        if hess0 is not None and penalty > 0:
            hess0 = hess0 + np.diag(4 * penalty * np.exp(2 * theta0))
        theta, hess = maximise(objective, theta0, model="BetaGeoModel", names=PARAM_NAMES, hess0=hess0)
        loglik = -_neg_loglik(theta, data)[0]
        self._store_fit(theta, hess, loglik, total, float(big_t[w > 0].max()))
        return self

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
        """A model with known parameters (e.g. published ones); no covariance, no loglik.

        Example:
            The parameters Fader, Hardie and Lee (2005) estimated on CDNOW (weeks):

            >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
            >>> m
            BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426, loglik=nan)
            >>> m.expected_transactions_new([39.0, 78.0]).round(3).tolist()
            [1.197, 1.861]
        """
        model = cls._from_values((r, alpha, a, b))
        assert isinstance(model, BetaGeoModel)
        return model

    #: below this mean drop-out probability per purchase, a/(a+b), the fit says nobody leaves
    NO_DROPOUT = 1e-4

    def degenerate(self) -> str | None:
        """Why the fit cannot be used for lifetime values, in words, or ``None``.

        A fit whose mean drop-out probability a/(a+b) is practically zero (e.g. a = 4e-7,
        b = 1.4e5) says customers never leave: the history is too short to show anyone
        leaving, and valuing customers on it would count every one of them as alive for ever.
        (a and b both very large is different and fine: everyone has the same drop-out
        probability, a limit of the model that the data can support.)

        Example:
            >>> BetaGeoModel.from_params(2.0, 198.0, 4.3e-7, 1.1e5).degenerate()[:39]
            'BG/NBD cannot tell when customers leave'
            >>> BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426).degenerate() is None
            True
        """
        _, _, a, b = self._params()
        return _nobody_leaves(self.LABEL, a, b, self.NO_DROPOUT)

    def weakly_identified(self) -> str | None:
        """Why the normal approximation of the parameters cannot be trusted, or ``None``.

        Either the Hessian is not positive definite (``log_covariance_`` is NaN), or a and b
        are both very large: everyone has the same drop-out probability a/(a+b), a limit of
        the model where the likelihood barely changes along a/(a+b) fixed, so a and b
        separately are not pinned down and a Hessian there says little. The lifetime values
        are still fine; their interval then comes from a bootstrap of customers.
        """
        _, _, a, b = self._params()
        if not np.all(np.isfinite(self.log_covariance_)):
            return "the Hessian at the optimum is not positive definite"
        if min(a, b) > self.HOMOGENEOUS:
            return (
                f"a = {a:.2g} and b = {b:.2g} are both very large: every customer has the same "
                f"chance of leaving after a purchase ({a / (a + b):.1%}), a limit of the model "
                "where a and b themselves are not pinned down"
            )
        return None

    def sample_transactions(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        size: int,
        rng: np.random.Generator,
    ) -> NDArray[np.int64]:
        """``size`` draws of each customer's number of purchases in the next ``t`` periods.

        The customer's own purchase process at the fitted parameters: alive with probability
        :meth:`p_alive`; if alive, a purchase rate λ ~ Gamma(r + x, α + T) and a drop-out
        probability p ~ Beta(a, b + x) (the posteriors given the history), then
        ``min(Poisson(λ t), Geometric(p))`` purchases (they drop out after the Geometric-th).
        Their mean is :meth:`predict_transactions`. Shape ``(size, customers)``.

        Example:
            >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
            >>> y = m.sample_transactions(39.0, [2], [30.43], [38.86], 100_000, np.random.default_rng(0))
            >>> round(float(y.mean()), 2)  # FHL's worked example: 1.226
            1.23
        """
        r, alpha, a, b = self._params()
        x, tx, big_t = _broadcast(frequency, recency, T)
        alive = rng.random((size, len(x))) < self.p_alive(x, tx, big_t)
        rate = rng.gamma(r + x, 1.0 / (alpha + big_t), size=(size, len(x)))
        p = np.clip(rng.beta(a, b + x, size=(size, len(x))), 1e-12, 1.0)
        count = np.minimum(rng.poisson(rate * t), rng.geometric(p))
        return np.where(alive, count, 0).astype(np.int64)

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

        Example:
            FHL (2005)'s worked example: 2 repeat purchases, the last in week 30.43 of 38.86,
            expects 1.226 purchases in the next 39 weeks; the same customer gone quiet since
            week 10 expects far fewer:

            >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
            >>> m.predict_transactions(39.0, [2, 2], [30.43, 10.0], [38.86, 38.86]).round(3).tolist()
            [1.226, 0.453]
        """
        r, alpha, a, b = self._params()
        tt, x, tx, big_t = _broadcast(t, frequency, recency, T)
        num = _numerator(tt, x, big_t, r, alpha, a, b)
        return num * np.exp(-np.logaddexp(0.0, _log_odds_dead(x, tx, big_t, r, alpha, a, b)))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that each customer is still active at ``T``.

        Example:
            A customer without a repeat purchase is alive by the model's assumptions (dropping
            out can only follow a purchase):

            >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
            >>> m.p_alive([2, 2, 0], [30.43, 10.0, 0.0], [38.86, 38.86, 38.86]).round(3).tolist()
            [0.727, 0.268, 1.0]
        """
        r, alpha, a, b = self._params()
        x, tx, big_t = _broadcast(frequency, recency, T)
        return expit(-_log_odds_dead(x, tx, big_t, r, alpha, a, b))

    def loglik_individual(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood under the fitted parameters."""
        r, alpha, a, b = self._params()
        x, tx, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        return loglik_individual(x, tx, big_t, r, alpha, a, b)

    # -- hooks for personae.clv.value (parameters passed in: draws reuse them) -------------
    @staticmethod
    def _p_alive_rows(
        params: tuple[float, ...], x: FloatArray, tx: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = params
        return np.exp(-np.logaddexp(0.0, _log_odds_dead(x, tx, big_t, r, alpha, a, b)))

    @staticmethod
    def _cumulative_if_alive(
        params: tuple[float, ...],
        x_unique: FloatArray,
        code: NDArray[np.intp],
        big_t: FloatArray,
        horizons: FloatArray,
    ) -> FloatArray:
        """E[purchases in the next h | alive at T] per (x, T) pair (rows) and horizon (columns)."""
        r, alpha, a, b = params
        s = (horizons[None, :] / (alpha + big_t[:, None])).ravel()
        groups = (x_unique, np.repeat(code, len(horizons)))
        return _expected_if_alive(s, None, r, a, b, groups=groups).reshape(-1, len(horizons))


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


#: values of :func:`_numerator` by how they were obtained: ``"closed_form"`` (hyp2f1,
#: accepted), ``"quadrature"`` (vectorised :mod:`~personae.clv._beta_quadrature`),
#: ``"interpolated"`` (verified Chebyshev interpolant, :mod:`~personae.clv._chebyshev`),
#: ``"scalar_quadrature"`` (calls of the slow reference :func:`_numerator_quadrature`, which
#: :func:`_numerator` never makes); ``"quadrature"`` includes the interpolation tables and
#: ``"rules"`` counts the quadrature rules built.
#: Diagnostics for tests and profiling; reset with ``EVALUATIONS.clear()``.
EVALUATIONS: Counter[str] = Counter()

#: a frequency whose quadrature rule has at most this many nodes skips hyp2f1 altogether
#: (the rule is then about as cheap as the closed form, and always reliable)
CHEAP_RULE_NODES = 80
#: rough costs (ns per value, one core) behind the choice between exact values and an
#: interpolant: a quadrature node, the closed form (hyp2f1 twice, at its fastest), and an
#: interpolated value. Only speed depends on them, never accuracy.
_NODE_NS, _CLOSED_FORM_NS, _INTERPOLATED_NS = 13.0, 400.0, 120.0


def _numerator(
    t: FloatArray, x: FloatArray, big_t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """E[purchases in the next ``t`` | alive at ``T``, x] — the top of FHL eq. 10.

    Depends on ``t`` and ``T`` through ``s = t/(α+T)`` only; see :func:`_expected_if_alive`.
    """
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(big_t))
    t, x, big_t = (np.broadcast_to(v, shape).ravel() for v in (t, x, big_t))
    out = np.zeros(t.shape)
    # NaN/inf inputs give NaN (not garbage from the fast paths), t <= 0 gives 0
    out[~(np.isfinite(t) & np.isfinite(x) & np.isfinite(big_t))] = np.nan
    live = np.flatnonzero((t > 0) & ~np.isnan(out))
    if len(live):
        out[live] = _expected_if_alive(t[live] / (alpha + big_t[live]), x[live], r, a, b)
    return out.reshape(shape)


def _factorize(x: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Distinct values (sorted) and codes; hash-based, ~10x faster than ``np.unique``."""
    code, unique = pd.factorize(x, sort=True)
    return np.asarray(unique, dtype=np.float64), np.asarray(code, dtype=np.intp)


def _expected_if_alive(
    s: FloatArray,
    x: FloatArray | None,
    r: float,
    a: float,
    b: float,
    interpolate: bool = True,
    groups: tuple[FloatArray, NDArray[np.intp]] | None = None,
) -> FloatArray:
    """``E_p[h(p)]`` for each ``(s, x)``, finite ``x``; vectorised, for any parameters.

    One quadrature rule (:func:`~personae.clv._beta_quadrature.beta_rules`) is built per
    distinct frequency. Frequencies with enough values that it pays off (by a rough cost
    model) go through a verified piecewise Chebyshev interpolant of ``N/s`` in ``log s``
    whose table comes from the rule (:mod:`~personae.clv._chebyshev`); values in segments
    that fail its checks, and all other values, are computed exactly by
    :func:`_expected_exact`. ``groups`` may give ``x``'s distinct values and codes instead
    of ``x``. ``s = 0`` gives 0 and a negative or non-finite ``s`` NaN.
    """
    if groups is None:
        assert x is not None
        x_unique, code = _factorize(x)
    else:
        x_unique, code = groups
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.log(s)
    if not np.all(np.isfinite(u)):
        usable = np.isfinite(u)
        out = np.where(s == 0, 0.0, np.nan)
        if np.any(usable):
            out[usable] = _expected_if_alive(
                s[usable], None, r, a, b, interpolate, groups=(x_unique, code[usable])
            )
        return out
    u_min, u_max = np.full(len(x_unique), np.inf), np.full(len(x_unique), -np.inf)
    np.minimum.at(u_min, code, u)
    np.maximum.at(u_max, code, u)
    present = np.flatnonzero(u_max >= u_min)
    plan = chebyshev.plan(u_min[present], u_max[present])
    # the rules serve the tables too, which reach the end of the last segment
    s_max = np.zeros(len(x_unique))
    s_max[present] = np.exp(plan.low + plan.count * chebyshev.SEGMENT_WIDTH)
    rules = beta_rules(a, b + x_unique, r + x_unique, s_max)
    EVALUATIONS["rules"] += len(x_unique)
    out = np.empty(len(s))
    exact = np.ones(len(s), dtype=bool)
    if interpolate:
        counts = np.bincount(code, minlength=len(x_unique))[present]
        size = rules.size[present]
        by_rule = (size <= CHEAP_RULE_NODES) | (abs(a - 1.0) < 1e-6)
        exact_ns = np.where(by_rule, size * _NODE_NS, _CLOSED_FORM_NS)
        table_ns = plan.points_per_group * size * _NODE_NS
        big = np.flatnonzero(counts * (exact_ns - _INTERPOLATED_NS) > table_ns)
        if len(big):
            plan = chebyshev.plan(u_min[present[big]], u_max[present[big]])
            u_table, group_table = chebyshev.sample_points(plan)
            s_table = np.exp(u_table)
            # tables by quadrature: smooth to ~1e-13, where hyp2f1 can be off by 1e-10
            table = apply_rules(rules, present[big][group_table], s_table)
            EVALUATIONS["quadrature"] += len(s_table)
            coef, ok = chebyshev.fit(table / s_table)
            group_of_x = np.full(len(x_unique), -1, dtype=np.intp)
            group_of_x[present[big]] = np.arange(len(big))
            group = group_of_x[code]
            if len(big) == len(present):  # every value is in an interpolated group
                approx, valid = chebyshev.evaluate(plan, coef, ok, group, u)
                out = approx * s
                exact = ~valid
            else:
                idx = np.flatnonzero(group >= 0)
                approx, valid = chebyshev.evaluate(plan, coef, ok, group[idx], u[idx])
                out[idx] = approx * s[idx]
                exact[idx] = ~valid
            EVALUATIONS["interpolated"] += len(s) - int(exact.sum())
    todo = np.flatnonzero(exact)
    if len(todo):
        out[todo] = _expected_exact(s[todo], code[todo], x_unique, rules, r, a, b)
    return out


def _closed_form_checked(s: FloatArray, x: FloatArray, r: float, a: float, b: float) -> FloatArray:
    """:func:`_numerator_hyp2f1`, NaN where it fails the Jensen bounds of :func:`_expected_exact`."""
    values = np.asarray(_numerator_hyp2f1(s, x, r, a, b), dtype=np.float64)
    c, bp = r + x, b + x
    mean_p = a / (a + bp)
    lower = _h(mean_p, s, c)
    upper = (1 - mean_p) * c * s + mean_p * _h(np.ones_like(s), s, c)
    slack = 1e-9 * upper + 1e-300
    good = np.isfinite(values) & (values >= lower - slack) & (values <= upper + slack)
    return np.where(good, values, np.nan)


#: closed-form candidates are probed with every PROBE_STRIDE-th value first; a frequency
#: whose probes mostly fail goes to quadrature without trying the rest
PROBE_STRIDE = 8


def _expected_exact(
    s: FloatArray,
    code: NDArray[np.intp],
    x_unique: FloatArray,
    rules: BetaRules,
    r: float,
    a: float,
    b: float,
) -> FloatArray:
    """``E_p[h(p)]`` for each ``s`` with frequency ``x_unique[code]``, by closed form or rule.

    Where a frequency's rule is small (concentrated Beta laws, e.g. huge ``a`` and ``b``
    where hyp2f1 breaks down) or ``a`` is within 1e-6 of 1 (a removable singularity of the
    closed form), every value comes from the rule. Elsewhere the closed form with ``hyp2f1``
    goes first and every value is checked against bounds that hold because :func:`_h` is
    convex and decreasing (Jensen: ``h(E p) <= value <= (1-E p) h(0) + E p h(1)``) and
    against Pfaff's form (:func:`_numerator_hyp2f1`); values that fail are recomputed with
    the rule. hyp2f1 is slowest exactly where it fails (large parameters, ``z`` near 1), so
    with many candidates a sample is tried first and frequencies where most of it fails
    skip the closed form.
    """
    out = np.full(len(s), np.nan)
    if abs(a - 1.0) >= 1e-6:
        closed = np.flatnonzero((rules.size > CHEAP_RULE_NODES)[code])
        if len(closed) > 4 * PROBE_STRIDE:
            probe = closed[::PROBE_STRIDE]
            out[probe] = _closed_form_checked(s[probe], x_unique[code[probe]], r, a, b)
            tried = np.bincount(code[probe], minlength=len(x_unique))
            failed = np.bincount(code[probe], weights=np.isnan(out[probe]), minlength=len(x_unique))
            rest = np.ones(len(s), dtype=bool)
            rest[probe] = False
            closed = closed[rest[closed] & ~(failed > tried / 2)[code[closed]]]
        out[closed] = _closed_form_checked(s[closed], x_unique[code[closed]], r, a, b)
    todo = np.flatnonzero(np.isnan(out))
    EVALUATIONS["closed_form"] += len(s) - len(todo)
    EVALUATIONS["quadrature"] += len(todo)
    if len(todo):
        out[todo] = apply_rules(rules, code[todo], s[todo])
    return out


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
