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

Numerics. ``scipy.special.hyp2f1`` with a large first parameter (large frequencies) and
:math:`z` near 1 (long periods, very different α and β) loses accuracy or overflows, and the
difference in :math:`A_0` is of two huge numbers. We evaluate every piece in log space:
Euler's transformation :math:`{}_2F_1(c, t; c+1; z) = (1-z)^{1-t}\,{}_2F_1(1, c+1-t; c+1; z)`
turns each function into a series :math:`\sum_n \frac{(B)_n}{(C)_n} z^n` with
:math:`0 < B < C` (``B`` is ``r+x`` or ``s+1``, ``C = r+s+x+1``), whose terms are positive and
fall by a ratio below :math:`z` each: it is summed to full precision with a bound on the rest
and never overflows (:func:`log_hyp2f1_a_plus_one`); :math:`\log(1-z)` is
:math:`\log\frac{\min(\alpha,\beta)+y}{\max(\alpha,\beta)+y}` exactly, and
:math:`\log A_0 = \ell_1 + \log(1 - e^{\ell_2 - \ell_1})`. The series is evaluated once
per distinct :math:`(x, t_x)` and :math:`(x, T)` pair, the gradient by central differences
(the Gauss function's parameter derivatives have no convenient closed form).

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
from scipy.special import digamma, expit, gammaln, hyp2f1

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
#: most series terms per value (z up to ~0.9 needs fewer); the rest go to scipy's hyp2f1 of
#: the short form 2F1(1, B; C; z), which is reliable there (first parameter 1, value <= 1/(1-z))
_MAX_TERMS = 400


def log_hyp2f1_a_plus_one(c: FloatArray, t: FloatArray, z: FloatArray, log_1mz: FloatArray) -> FloatArray:
    """``log 2F1(c, t; c+1; z)`` for ``c > 0``, ``0 < t < c + 1`` and ``0 <= z < 1``, in log space.

    Euler's transformation gives ``(1-z)^(1-t) S`` with ``S = Σ (B)_n/(C)_n z^n``,
    ``B = c+1-t > 0``, ``C = c+1``: positive terms, each the last times
    ``(B+n)/(C+n) z < z``, so after a term ``u`` the rest is below ``u z/(1-z)``; the sum
    stops when that bound is under 1e-17 of it. Values still unfinished after
    ``_MAX_TERMS`` terms (``z`` near 1) come from ``scipy.special.hyp2f1(1, B; C; z)``,
    accepted only if finite and at least 1 (every term is positive), else NaN. ``log_1mz``
    is ``log(1-z)``, passed in because callers know it exactly (it is a ratio of sums, not
    ``log1p(-z)``).

    Example:
        ``2F1(1, 1; 2; z) = -log(1-z)/z``:

        >>> z = np.array([0.5, 0.99])
        >>> got = np.exp(log_hyp2f1_a_plus_one(np.ones(2), np.ones(2), z, np.log1p(-z)))
        >>> bool(np.allclose(got, -np.log1p(-z) / z, rtol=1e-14))
        True
    """
    c, t, z, log_1mz = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (c, t, z, log_1mz)))
    big_b, big_c = c + 1.0 - t, c + 1.0
    total = np.ones(c.shape)
    # Term n is at least ((B/C) z)^n and the stopping test needs term * z <= 1e-17 (the
    # accumulated sum times 1 - z is at most 1): values failing that at n = _MAX_TERMS can
    # never finish in the loop, so they go to scipy at once instead of after _MAX_TERMS
    # wasted terms (z near 1: a Pareto/NBD with beta >> alpha spends most of its time here).
    with np.errstate(divide="ignore"):
        hopeless = _MAX_TERMS * np.log(big_b / big_c * z) + np.log(z) > np.log(1e-17)
    active = np.flatnonzero((z > 0) & ~hopeless)
    b_a, c_a, z_a = big_b[active], big_c[active], z[active]
    term, acc = np.ones(len(active)), np.ones(len(active))
    n = 0
    while len(active) and n < _MAX_TERMS:
        term *= (b_a + n) / (c_a + n) * z_a
        acc += term
        n += 1
        if n % 4 == 0 or n < 4:
            done = term * z_a <= 1e-17 * acc * (1.0 - z_a)
            if done.any():
                total[active[done]] = acc[done]
                keep = ~done
                active, term, acc = active[keep], term[keep], acc[keep]
                b_a, c_a, z_a = b_a[keep], c_a[keep], z_a[keep]
    slow = np.concatenate([active, np.flatnonzero((z > 0) & hopeless)])
    if len(slow):  # z near 1 (very different alpha and beta): slow series, use scipy
        short = hyp2f1(1.0, big_b[slow], big_c[slow], z[slow])
        total[slow] = np.where(np.isfinite(short) & (short >= 1.0), short, np.nan)
    return (1.0 - t) * log_1mz + np.log(total)


def _log_series_with_gradient(
    big_b: FloatArray, big_c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log S`` and its derivatives in ``B``, ``C`` and ``z``, ``S = Σ (B)_n/(C)_n z^n``.

    The series of :func:`log_hyp2f1_a_plus_one` (same terms, same stopping rule, so the same
    value), carrying each term's derivatives along: ``∂ log term_n/∂B = Σ_{k<n} 1/(B+k)``,
    ``∂/∂C = -Σ_{k<n} 1/(C+k)``, ``∂/∂z = n/z``. The values that go to scipy (``z`` near 1)
    get ``∂S/∂z = (B/C) 2F1(2, B+1; C+1; z)`` and central differences in ``B`` and ``C``.
    """
    n_all = len(z)
    total, d_b, d_c, d_z = np.ones(n_all), np.zeros(n_all), np.zeros(n_all), np.zeros(n_all)
    with np.errstate(divide="ignore"):
        hopeless = _MAX_TERMS * np.log(big_b / big_c * z) + np.log(z) > np.log(1e-17)
    zero = z <= 0
    d_z[zero] = (big_b / big_c)[zero]  # S = 1 + (B/C) z + …: slope B/C at z = 0
    active = np.flatnonzero(~zero & ~hopeless)
    b_a, c_a, z_a = big_b[active], big_c[active], z[active]
    ones = np.ones(len(active))
    term, acc = ones.copy(), ones.copy()
    u, v = np.zeros(len(active)), np.zeros(len(active))
    acc_b, acc_c, acc_n = np.zeros(len(active)), np.zeros(len(active)), np.zeros(len(active))
    n = 0
    while len(active) and n < _MAX_TERMS:
        u += 1.0 / (b_a + n)
        v += 1.0 / (c_a + n)
        term *= (b_a + n) / (c_a + n) * z_a
        acc += term
        acc_b += term * u
        acc_c -= term * v
        acc_n += term * (n + 1)
        n += 1
        if n % 4 == 0 or n < 4:
            done = term * z_a <= 1e-17 * acc * (1.0 - z_a)
            if done.any():
                idx = active[done]
                total[idx], d_b[idx], d_c[idx] = acc[done], acc_b[done], acc_c[done]
                d_z[idx] = acc_n[done] / z_a[done]
                keep = ~done
                active, term, acc, u, v = active[keep], term[keep], acc[keep], u[keep], v[keep]
                acc_b, acc_c, acc_n = acc_b[keep], acc_c[keep], acc_n[keep]
                b_a, c_a, z_a = b_a[keep], c_a[keep], z_a[keep]
    slow = np.concatenate([active, np.flatnonzero(~zero & hopeless)])
    if len(slow):  # z near 1: scipy, as log_hyp2f1_a_plus_one does
        b_s, c_s, z_s = big_b[slow], big_c[slow], z[slow]
        short = hyp2f1(1.0, b_s, c_s, z_s)
        total[slow] = np.where(np.isfinite(short) & (short >= 1.0), short, np.nan)
        d_z[slow] = b_s / c_s * hyp2f1(2.0, b_s + 1.0, c_s + 1.0, z_s)
        h = 1e-6 * np.maximum(b_s, 1.0)
        d_b[slow] = (hyp2f1(1.0, b_s + h, c_s, z_s) - hyp2f1(1.0, b_s - h, c_s, z_s)) / (2 * h)
        h = 1e-6 * np.maximum(c_s, 1.0)
        d_c[slow] = (hyp2f1(1.0, b_s, c_s + h, z_s) - hyp2f1(1.0, b_s, c_s - h, z_s)) / (2 * h)
    return np.log(total), d_b / total, d_c / total, d_z / total


def _log_gauss_terms_with_gradient(
    x: FloatArray, y: FloatArray, r: float, alpha: float, s: float, beta: float
) -> tuple[FloatArray, FloatArray]:
    """:func:`_log_gauss_terms` and its derivatives in ``(r, α, s, β)`` (shape ``(4, len(x))``).

    ``log 2F1 = (1-t) log(1-z) + log S(B, C, z)`` with ``C = r+s+x+1``, and for ``α < β``
    ``t = r+x``, ``B = s+1``, ``z = (β-α)/(β+y)``; for ``α >= β`` ``t = s+1``, ``B = r+x``,
    ``z = (α-β)/(α+y)``; minus ``(r+s+x) log(max(α,β)+y)``.
    """
    small_alpha = alpha < beta
    hi, lo = (beta, alpha) if small_alpha else (alpha, beta)
    c = r + s + x
    t = r + x if small_alpha else np.full(np.shape(x), s + 1.0)
    big_b = c + 1.0 - t
    inv_hi, inv_lo = 1.0 / (hi + y), 1.0 / (lo + y)
    log_hi = np.log(hi + y)
    log_1mz = np.log(lo + y) - log_hi
    z = (hi - lo) * inv_hi
    log_s, g_b, g_c, g_z = _log_series_with_gradient(big_b, c + 1.0, z)
    value = (1.0 - t) * log_1mz + log_s - c * log_hi
    d_hi = -(1.0 - t) * inv_hi + g_z * (lo + y) * inv_hi**2 - c * inv_hi
    d_lo = (1.0 - t) * inv_lo - g_z * inv_hi
    # r and s move c (and C = c + 1); one of them moves t, the other B = C - t
    d_r = g_c - log_hi + (-log_1mz if small_alpha else g_b)
    d_s = g_c - log_hi + (g_b if small_alpha else -log_1mz)
    d_alpha, d_beta = (d_lo, d_hi) if small_alpha else (d_hi, d_lo)
    return value, np.stack([d_r, d_alpha, d_s, d_beta])


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
        return cls(
            total_weight=float(w.sum()),
            x=x_unique[x_code],
            big_t=t_u[t_code],
            w=w,
            x_unique=x_unique,
            x_weight=np.bincount(x_code, weights=w, minlength=len(x_unique)).astype(np.float64),
            pair_x=x_unique[pair_key // len(y_all)],
            pair_y=y_all[pair_key % len(y_all)],
            tx_pair=np.asarray(pair_of[:n], dtype=np.intp),
            t_pair=np.asarray(pair_of[n:], dtype=np.intp),
        )


def _log_gauss_terms(
    x: FloatArray, y: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """``log[2F1(r+s+x, t; r+s+x+1; z(y)) / (max(α,β)+y)^(r+s+x)]`` — the two halves of ``A_0``."""
    hi, lo = max(alpha, beta), min(alpha, beta)
    c = r + s + x
    # np.full, not full_like: an integer x must not truncate s + 1
    t = r + x if alpha < beta else np.full(np.shape(x), s + 1.0)
    log_hi = np.log(hi + y)
    log_1mz = np.log(lo + y) - log_hi
    z = (hi - lo) / (hi + y)
    return log_hyp2f1_a_plus_one(c, t, z, log_1mz) - c * log_hi


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
    l1 = _log_gauss_terms(x, tx, r, alpha, s, beta) if log_gauss_tx is None else log_gauss_tx
    l2 = _log_gauss_terms(x, big_t, r, alpha, s, beta) if log_gauss_t is None else log_gauss_t
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
    """Total negative log-likelihood at log-parameters ``theta``."""
    r, alpha, s, beta = np.exp(theta)
    gauss = _log_gauss_terms(data.pair_x, data.pair_y, r, alpha, s, beta)
    alive, died = _log_terms(
        data.x,
        data.big_t,
        data.big_t,
        r,
        alpha,
        s,
        beta,
        log_gauss_tx=gauss[data.tx_pair],
        log_gauss_t=gauss[data.t_pair],
    )
    front = _front(data.x_unique, r, alpha, s, beta)
    loglik = float(_dot(data.x_weight, front) + _dot(data.w, np.logaddexp(alive, died)))
    return -loglik if np.isfinite(loglik) else float("inf")


def _neg_loglik_with_gradient(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Total negative log-likelihood and its analytic gradient in log-parameters.

    Per customer ``log L = front + logaddexp(alive, died)``; the gradient of each branch is
    in closed form but for the Gauss terms in ``died``, whose derivatives come with their
    series (:func:`_log_gauss_terms_with_gradient`), once per distinct ``(x, y)`` pair.
    ``died = log s - log(r+s+x) + log(e^{l1} - e^{l2})``, so its derivative is
    ``dl1 + (dl1 - dl2) e^d/(1 - e^d)`` (``d = l2 - l1 <= 0``) plus the first two terms'.
    """
    r, alpha, s, beta = np.exp(theta)
    gauss, d_gauss = _log_gauss_terms_with_gradient(data.pair_x, data.pair_y, r, alpha, s, beta)
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


#: Hessian step: near z = 1 the gradient's B and C parts are themselves central differences
#: (see :func:`~personae.clv._fitting.maximise`), and a 1e-6 step of such a gradient is noise
#: enough that the covariance (so the CLV interval) changed with the last bits of the inputs:
#: the same shop on DuckDB and on Spark got CLV lower bounds 11% apart.
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
