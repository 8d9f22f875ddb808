"""Answer scales: put every answer on the standard scale of its kind, and say which it was.

NPS and trust are asked 0–10, CSAT 1–5 and CES 1–7 ("it was easy to …", CES 2.0). Answers on
another scale (``scale_max``) are rescaled linearly onto the standard one, exactly as the
experience traits do (:func:`personae.traits.experience.normalised_score`), so a CSAT asked
1–10 and one asked 1–5 land on the same 1–5 line and can be pooled. Reports label such answers
``rescaled`` so nobody mistakes them for native answers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from personae.traits.experience import STANDARD_SCALES

#: The survey kinds with a standard scale (``custom`` questions have none).
KINDS: tuple[str, ...] = tuple(STANDARD_SCALES)

#: How each kind is reported, for labels in tables and docs.
SCALE_LABELS = {
    "nps": "0–10 likelihood to recommend",
    "trust": "0–10 trust, asked like NPS",
    "csat": "1–5 satisfaction",
    "ces": "1–7 'it was easy' (CES 2.0)",
}


def normalise(kind: str, score: ArrayLike, scale_max: ArrayLike) -> NDArray[np.float64]:
    """Scores of one ``kind`` on its standard scale (linear rescale from ``0..scale_max`` or
    ``1..scale_max``, the bottom being the standard scale's bottom).

    Example:
        CSAT asked 1–10 lands on 1–5; an NPS asked 0–5 on 0–10; a missing ``scale_max``
        means the standard scale:

        >>> normalise("csat", [1, 10, 5.5], 10).tolist()
        [1.0, 5.0, 3.0]
        >>> normalise("nps", [3, 3], [10, 5]).tolist()
        [3.0, 6.0]
        >>> normalise("csat", [4], float("nan")).tolist()
        [4.0]
    """
    if kind not in STANDARD_SCALES:
        raise ValueError(f"no standard scale for survey kind {kind!r}")
    lo, hi = STANDARD_SCALES[kind]
    s = np.asarray(score, dtype=float)
    top = np.broadcast_to(np.asarray(scale_max, dtype=float), s.shape)
    top = np.where(np.isnan(top), hi, top)
    with np.errstate(divide="ignore", invalid="ignore"):
        rescaled = lo + (s - lo) * (hi - lo) / (top - lo)
    return np.where(top == hi, s, rescaled)
