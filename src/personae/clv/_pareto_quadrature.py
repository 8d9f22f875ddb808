r"""The Pareto/NBD likelihood's Gauss terms for many ``(x, y)`` pairs at once, by quadrature.

:mod:`personae.clv.pareto_nbd` needs, for every distinct pair of a frequency ``x`` and a
time ``y`` (a customer's ``t_x`` or ``T``), the integral

.. math::

    J_x(y) = \int_y^\infty (\alpha+\tau)^{-(r+x)} (\beta+\tau)^{-(s+1)}\,d\tau
           = \frac{{}_2F_1(r+s+x, t; r+s+x+1; z)}{(r+s+x)\,(\max(\alpha,\beta)+y)^{r+s+x}}

(the hypergeometric form of :mod:`~personae.clv.pareto_nbd`; ``z = |α-β|/(max(α,β)+y)``).
Summing its series, or SciPy's ``hyp2f1``, costs the most where ``z`` is near 1 — a
purchase-rate scale ``α`` far below the lifetime scale ``β``, which is where a fit on data
with few visible drop-outs goes (the benchmark's generated shop: ``β ≈ 3·10^5`` days against
``α ≈ 130``), up to tens of microseconds a value and six values a gradient.

Here the integral is instead accumulated along ``y``: for each frequency, its pairs sorted
by ``y``, the largest ``y`` has the *tail* :math:`[y_{\max}, \infty)`, and every other
``J_x(y)`` is the next pair's plus the integral over the gap :math:`[y, y_{\text{next}}]`.
Gaps and tails are integrated by Gauss-Legendre panels in ``u = log(min(α,β) + τ)``, in
which the log-integrand (with the Jacobian)

.. math::

    \varphi(u) = (1 - P_{lo})\,u - P_{hi}\log(|\alpha-\beta| + e^u)

(``P_lo`` the exponent of the smaller scale, ``P_hi`` of the larger) is concave, with
slope between ``1 - P_lo`` and ``-(r+s+x)`` and singularities only at distance π from the
real line. Each segment is cut into pieces at most 1 wide in ``u``; pieces where ``φ`` is
more than :data:`DROP` below the segment's top are left out (by concavity they hold less than
``e^-DROP`` of it); a tail ends where ``|α-β| e^-u`` is negligible, beyond which the integral
is ``e^{-(r+s+x)u}/(r+s+x)`` in closed form. Panels are narrow enough that ``φ`` changes by at
most :data:`MAX_RISE` across one, so that :data:`NODES` Gauss-Legendre nodes integrate each
to double precision (against SciPy's ``hyp2f1`` where that is reliable: relative 1e-13, see
the tests). All sums are of positive terms and are done in log space
(``logaddexp.accumulate``), so nothing overflows or cancels; the derivatives in
``(r, α, s, β)`` are integrals over the same nodes (differentiation under the integral sign),
so the gradient is analytic and costs no extra evaluations. The work is a few nodes per
pair, whatever ``z`` is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from personae.clv._fitting import FloatArray

#: Gauss-Legendre nodes per panel
NODES = 8
#: most change of the log-integrand across one panel (8 nodes: error below 1e-16 relative)
MAX_RISE = 2.0
#: widest panel in u (the integrand's singularities are π away from the real line)
MAX_WIDTH = 1.0
#: pieces of a segment where the log-integrand is this far below its top are left out
DROP = 46.0
#: most panels in one piece; beyond (parameters no fit goes near), the value is NaN
MAX_SEGMENT_PANELS = 4096
#: the tail is integrated up to ``u = log(|α-β|) + FAR + log(max(P_hi, 1))``, beyond which
#: ``|α-β| e^-u`` is below 1e-17 and its integral has a closed form
FAR = 40.0

_XI, _WEIGHT = np.polynomial.legendre.leggauss(NODES)


@dataclass(frozen=True)
class Plan:
    """How the distinct pairs chain into gaps; depends on the data only, built once a fit.

    Pairs are grouped by ``x``; within a group they are ordered by decreasing ``y``, the first
    being the tail. ``gap_lo``/``gap_hi`` are the gap ``[y, y_next]`` of every non-tail pair
    (in pair order ``gap_pair``). ``buckets`` lays the groups out as 2-d tables, one row per
    group and the tail in column 0, for the running sums along each group: groups of similar
    length share a table (``index`` into the ordered values, ``-1`` for padding) so that the
    padding stays below half of it.
    """

    tail_pair: NDArray[np.intp]
    tail_y: FloatArray
    tail_pos: NDArray[np.intp]
    gap_pair: NDArray[np.intp]
    gap_pos: NDArray[np.intp]
    gap_lo: FloatArray
    gap_hi: FloatArray
    order: NDArray[np.intp]
    buckets: tuple[NDArray[np.intp], ...]

    @classmethod
    def build(cls, pair_x: FloatArray, pair_y: FloatArray) -> Plan:
        order = np.lexsort((-pair_y, pair_x)).astype(np.intp)
        xs, ys = pair_x[order], pair_y[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = xs[1:] != xs[:-1]
        starts = np.flatnonzero(first)
        lengths = np.diff(np.append(starts, len(order)))
        gap = ~first
        gap_hi = np.empty(len(order))
        gap_hi[1:] = ys[:-1]
        # the running sums are over `order`; a position's group and column
        column = np.arange(len(order)) - np.repeat(starts, lengths)
        buckets = []
        size_class = np.ceil(np.log2(lengths)).astype(np.int64)
        for k in np.unique(size_class):
            groups = np.flatnonzero(size_class == k)
            width = int(lengths[groups].max())
            index = np.full((len(groups), width), -1, dtype=np.intp)
            rows = np.repeat(np.arange(len(groups)), lengths[groups])
            pos = np.concatenate([np.arange(starts[g], starts[g] + lengths[g]) for g in groups])
            index[rows, column[pos]] = pos
            buckets.append(index)
        return cls(
            tail_pair=order[first],
            tail_y=ys[first],
            tail_pos=starts.astype(np.intp),
            gap_pair=order[gap],
            gap_pos=np.flatnonzero(gap).astype(np.intp),
            gap_lo=ys[gap],
            gap_hi=gap_hi[gap],
            order=order,
            buckets=tuple(buckets),
        )


def log_integrals_with_gradient(
    plan: Plan, pair_x: FloatArray, params: tuple[float, float, float, float]
) -> tuple[FloatArray, FloatArray]:
    """``log J_x(y)`` for every pair and its derivatives in ``(r, α, s, β)`` (shape ``(4, n)``).

    NaN where a segment would need more than :data:`MAX_SEGMENT_PANELS` panels (parameters
    far outside any fit's range, which a line search may probe: it then backs off).
    """
    r, alpha, s, beta = params
    small_alpha = alpha < beta
    lo, hi = (alpha, beta) if small_alpha else (beta, alpha)
    diff = hi - lo

    def exponents(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        p_x, p_s = r + x, np.full(len(x), s + 1.0)
        return (p_x, p_s) if small_alpha else (p_s, p_x)

    # gaps: [y, y_next]
    x_gap = pair_x[plan.gap_pair]
    gap_lo, gap_hi = exponents(x_gap)
    log_gap, mean_gap = _segments(
        np.log(lo + plan.gap_lo), np.log(lo + plan.gap_hi), gap_lo, gap_hi, diff, small_alpha
    )
    # tails: [y_max, U], then beyond U, where D e^-u is negligible, in closed form
    tail_lo, tail_hi = exponents(pair_x[plan.tail_pair])
    c = tail_lo + tail_hi - 1.0
    u_tail = np.log(lo + plan.tail_y)
    far = np.log(diff) + FAR + np.log(np.maximum(tail_hi, 1.0)) if diff > 0 else u_tail
    u_far = np.maximum(u_tail, far)
    log_near, mean_near = _segments(u_tail, u_far, tail_lo, tail_hi, diff, small_alpha)
    log_far = -c * u_far - np.log(c)
    mean_far = np.empty((4, len(c)))
    log_mean = -(u_far + 1.0 / c)
    shrink = c / (c + 1.0) * np.exp(-u_far)
    lo_scale, hi_scale = -tail_lo * shrink, -tail_hi * shrink
    if small_alpha:
        mean_far[:] = log_mean, lo_scale, log_mean, hi_scale
    else:
        mean_far[:] = log_mean, hi_scale, log_mean, lo_scale
    with np.errstate(invalid="ignore"):
        log_tail = np.logaddexp(log_near, log_far)
        near_share = np.exp(log_near - log_tail)
        mean_tail = np.where(near_share > 0, near_share * mean_near + (1.0 - near_share) * mean_far, mean_far)

    # values along `order`: each tail, then its group's gaps; J(y) = sum from the tail down
    n = len(plan.order)
    log_v = np.empty(n)
    mean = np.empty((4, n))
    log_v[plan.tail_pos], mean[:, plan.tail_pos] = log_tail, mean_tail
    log_v[plan.gap_pos], mean[:, plan.gap_pos] = log_gap, mean_gap
    log_j = np.empty(n)
    d_log_j = np.empty((4, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        for index in plan.buckets:
            pad = index < 0
            lv = np.where(pad, -np.inf, log_v[index])
            running = np.logaddexp.accumulate(lv, axis=1)
            keep = index[~pad]
            log_j[keep] = running[~pad]
            for i in range(4):
                m = mean[i][index]
                plus = np.logaddexp.accumulate(lv + np.log(np.maximum(m, 0.0)), axis=1)
                minus = np.logaddexp.accumulate(lv + np.log(np.maximum(-m, 0.0)), axis=1)
                d_log_j[i, keep] = (np.exp(plus - running) - np.exp(minus - running))[~pad]
    out_value = np.empty(n)
    out_grad = np.empty((4, n))
    out_value[plan.order] = log_j
    out_grad[:, plan.order] = d_log_j
    return out_value, out_grad


def _segments(
    u_a: FloatArray, u_b: FloatArray, p_lo: FloatArray, p_hi: FloatArray, diff: float, small_alpha: bool
) -> tuple[FloatArray, FloatArray]:
    """``log ∫ e^φ du`` over each ``[u_a, u_b]`` and the mean of ``∂φ/∂(r, α, s, β)`` there.

    Each segment is cut into pieces at most :data:`MAX_WIDTH` wide; pieces where ``φ`` stays
    more than :data:`DROP` below the segment's largest value are left out (``φ`` is concave,
    so what they hold is below ``e^-DROP`` of the segment's integral); each piece kept gets
    as many panels as keep ``φ``'s change across one within :data:`MAX_RISE` (its slope is
    largest at one end of the piece, ``φ'`` being monotone).
    """
    n = len(u_a)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        c = p_lo + p_hi - 1.0

        def phi(u: FloatArray, plo: FloatArray, phi_: FloatArray) -> FloatArray:
            return np.asarray((1.0 - plo) * u - phi_ * (np.logaddexp(np.log(diff), u) if diff > 0 else u))

        def slope(u: FloatArray, plo: FloatArray, phi_: FloatArray) -> FloatArray:
            return np.asarray(1.0 - plo - phi_ * expit(u - np.log(diff)) if diff > 0 else 1.0 - plo - phi_)

        # the largest value: at the mode e^u = D (1 - P_lo) / c, clipped to the segment
        if diff > 0:
            mode = np.where(p_lo < 1.0, np.log(diff) + np.log(np.maximum(1.0 - p_lo, 1e-300) / c), -np.inf)
        else:
            mode = np.full(n, -np.inf)
        u_top = np.clip(mode, u_a, u_b)
        phi_top = phi(u_top, p_lo, p_hi)
        width = u_b - u_a
        n_piece = np.maximum(np.ceil(width / MAX_WIDTH), 1).astype(np.intp)
        seg = np.repeat(np.arange(n), n_piece)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
        step = (width / n_piece)[seg]
        a = u_a[seg] + k * step
        b = np.where(k == n_piece[seg] - 1, u_b[seg], a + step)
        plo, phh = p_lo[seg], p_hi[seg]
        phi_a, phi_b = phi(a, plo, phh), phi(b, plo, phh)
        holds_top = (a <= u_top[seg]) & (u_top[seg] <= b)
        kept = holds_top | (np.maximum(phi_a, phi_b) >= phi_top[seg] - DROP)
        seg, a, b, plo, phh = seg[kept], a[kept], b[kept], plo[kept], phh[kept]
        steep = np.maximum(np.abs(slope(a, plo, phh)), np.abs(slope(b, plo, phh)))
        panels = np.maximum(np.ceil((b - a) * steep / MAX_RISE), 1)
        too_many = np.bincount(seg, weights=panels > MAX_SEGMENT_PANELS, minlength=n) > 0
        panels = np.where(panels > MAX_SEGMENT_PANELS, 1, panels).astype(np.intp)
        piece = np.repeat(np.arange(len(panels)), panels)
        j = np.arange(len(piece)) - np.repeat(np.cumsum(panels) - panels, panels)
        h = ((b - a) / panels)[piece]
        left = a[piece] + j * h
        u = left[:, None] + (h[:, None] / 2) * (1.0 + _XI[None, :])
        log_hi = np.logaddexp(np.log(diff), u) if diff > 0 else u
        pl, ph = plo[piece][:, None], phh[piece][:, None]
        integrand = (1.0 - pl) * u - ph * log_hi
        owner = seg[piece]
        top = phi_top[owner][:, None]
        weight = np.exp(integrand - top) * ((h / 2)[:, None] * _WEIGHT[None, :])
        mass = np.bincount(owner, weights=weight.sum(axis=1), minlength=n)
        g_lo_log, g_hi_log = -u, -log_hi
        g_lo_scale, g_hi_scale = -pl * np.exp(-u), -ph * np.exp(-log_hi)
        g = (
            (g_lo_log, g_lo_scale, g_hi_log, g_hi_scale)
            if small_alpha
            else (g_hi_log, g_hi_scale, g_lo_log, g_lo_scale)
        )
        mean = (
            np.stack([np.bincount(owner, weights=(weight * gk).sum(axis=1), minlength=n) for gk in g]) / mass
        )
        log_mass = phi_top + np.log(mass)
    log_mass[too_many] = np.nan
    mean[:, too_many] = np.nan
    return log_mass, mean
