"""Verified piecewise Chebyshev interpolation, one piecewise interpolant per group.

Used by :func:`personae.clv.bgnbd._numerator` when many customers share a frequency: their
expected purchases are a smooth function of one variable, ``u = log(t/(α+T))``, so a few
dozen exact evaluations per group give an interpolant that is then evaluated for every
customer (and every horizon) at a small fraction of the cost of an exact evaluation.

Each group's range ``[u_min, u_max]`` is cut into segments of width at most
:data:`SEGMENT_WIDTH`; on each segment the function is sampled at :data:`NODES` Chebyshev
points (first kind) and at :data:`CHECKS` further points. A segment is accepted only if its
interpolant reproduces the function at the check points to :data:`TOLERANCE` (relative)
and its last Chebyshev coefficients are below the same tolerance; callers evaluate the
points of rejected segments exactly instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from personae.clv._fitting import FloatArray

#: Chebyshev points per segment
NODES = 16
#: extra points per segment where the interpolant is checked against exact values
CHECKS = 4
#: widest segment, in units of ``u``; the functions interpolated here are analytic within
#: about π/2 of the real axis, so 16 points on a half-unit segment resolve them to ~1e-15
SEGMENT_WIDTH = 0.5
#: accepted relative error (check points and coefficient tail)
TOLERANCE = 1e-12

_K = np.arange(NODES)
#: Chebyshev points of the first kind on [-1, 1]
_Y = np.cos(np.pi * (_K + 0.5) / NODES)
#: values at _Y -> coefficients (with the first one halved, so f = Σ c_k T_k)
_TO_COEF = (2.0 / NODES) * np.cos(np.pi * np.outer(_K, _K + 0.5) / NODES)
_TO_COEF[0] /= 2
#: check points: between Chebyshev points, spread over the segment
_Y_CHECK = np.array([-0.9, -0.35, 0.25, 0.8])
_Y_ALL = np.concatenate([_Y, _Y_CHECK])


@dataclass(frozen=True)
class Plan:
    """Segments of each group's range, on the grid ``[k, k+1)`` of integers ``k``.

    Group ``g`` has ``count[g]`` segments, starting with ``[low[g], low[g] + 1)``; they are
    numbered ``first[g], first[g] + 1, ...`` across all groups.
    """

    low: FloatArray
    count: NDArray[np.intp]
    first: NDArray[np.intp]

    @property
    def points_per_group(self) -> NDArray[np.intp]:
        return self.count * (NODES + CHECKS)


def plan(u_min: FloatArray, u_max: FloatArray) -> Plan:
    """Segments covering ``[u_min[g], u_max[g]]`` for each group ``g`` (finite bounds)."""
    low = np.floor(u_min / SEGMENT_WIDTH)
    count = (np.floor(u_max / SEGMENT_WIDTH) - low + 1).astype(np.intp)
    first = (np.cumsum(count) - count).astype(np.intp)
    return Plan(low=low * SEGMENT_WIDTH, count=count, first=first)


def sample_points(p: Plan) -> tuple[FloatArray, NDArray[np.intp]]:
    """The points where the function must be evaluated: (u, group) arrays.

    Points are ordered segment by segment, :data:`NODES` interpolation points then
    :data:`CHECKS` check points, as :func:`fit` expects.
    """
    group_of_segment = np.repeat(np.arange(len(p.count)), p.count)
    within = np.arange(int(p.count.sum())) - p.first[group_of_segment]
    lo = p.low[group_of_segment] + within * SEGMENT_WIDTH
    u = lo[:, None] + SEGMENT_WIDTH * (_Y_ALL + 1.0) / 2.0
    return u.ravel(), np.repeat(group_of_segment, NODES + CHECKS)


def fit(values: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Coefficients (``NODES x segments``) from :func:`sample_points` values, and which
    segments pass the checks."""
    v = values.reshape(-1, NODES + CHECKS)
    at_nodes, at_checks = v[:, :NODES], v[:, NODES:]
    coef = _TO_COEF @ at_nodes.T
    with np.errstate(all="ignore"):
        scale = np.min(np.abs(v), axis=1)
        approx = _clenshaw(coef[:, :, None], _Y_CHECK[None, :])  # segments x checks
        check_error = np.max(np.abs(approx - at_checks), axis=1)
        tail = np.max(np.abs(coef[-2:]), axis=0)
        ok = np.all(np.isfinite(v), axis=1) & (check_error <= TOLERANCE * scale) & (tail <= TOLERANCE * scale)
    return coef, ok


def _clenshaw(coef: FloatArray, y: FloatArray) -> FloatArray:
    """``Σ_k coef[k] T_k(y)``, ``coef`` with the polynomial degree along the first axis."""
    shape = np.broadcast_shapes(coef.shape[1:], y.shape)
    b1, b2, tmp = np.zeros(shape), np.zeros(shape), np.empty(shape)
    two_y = 2.0 * y
    for k in range(len(coef) - 1, 0, -1):
        np.multiply(two_y, b1, out=tmp)
        tmp -= b2
        tmp += coef[k]
        b1, b2, tmp = tmp, b1, b2
    np.multiply(y, b1, out=tmp)
    tmp -= b2
    tmp += coef[0]
    return tmp


#: values evaluated per block (small enough for the Clenshaw temporaries to stay in cache)
_BLOCK = 1 << 13


def evaluate(
    p: Plan, coef: FloatArray, ok: NDArray[np.bool_], groups: NDArray[np.intp], u: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Interpolated values at ``u`` (each within its group's range), and whether each one
    lies in a segment that passed the checks (``ok`` from :func:`fit`)."""
    out = np.empty(len(u))
    valid = np.empty(len(u), dtype=bool)
    coef_rows = np.ascontiguousarray(coef.T)  # one row of coefficients per segment
    last = len(ok) - 1
    # segment number = grid index of u + (first - low) of its group
    shift = (p.first - p.low / SEGMENT_WIDTH).astype(np.intp)
    for start in range(0, len(u), _BLOCK):
        part = slice(start, start + _BLOCK)
        scaled = u[part] / SEGMENT_WIDTH
        grid = np.floor(scaled)
        y = 2.0 * (scaled - grid) - 1.0
        seg = np.clip(grid.astype(np.intp) + shift[groups[part]], 0, last)
        out[part] = _clenshaw(coef_rows[seg].T, y)
        valid[part] = ok[seg]
    return out, valid
