"""Explicit feedback: the stars people gave, as verdicts that steer their recommendations.

Stars come on many scales (0.5–5 film stars, 1–10 review scores, 0–5 order-line ratings); each
is read as a share of its scale's top and put on five stars (:func:`five_stars`), so one rule
holds for all of them. A person's latest rating of an item is their verdict on it:

* **disliked** — at most :data:`DISLIKED_UP_TO` (2 of 5): never recommended to them again,
  never cited as a reason ("because you liked …");
* **liked** — at least :data:`LIKED_FROM` (4 of 5): cited as liked;
* **neutral** (in between).

How much each rated item weighs in what people are scored from (a dislike negatively, so the
items an item-item model finds similar to it are pulled down; a like more than a purchase) is
:func:`personae.personalize.models.star_weights`' job: the item models learn from and score on
that one input, in serving and in ``evaluate`` alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: on five stars: a rating at or below this is a dislike
DISLIKED_UP_TO = 2.0
#: on five stars: a rating at or above this is a like
LIKED_FROM = 4.0


def five_stars(score: np.ndarray, scale_max: np.ndarray) -> np.ndarray:
    """Scores on five stars: ``5 × score / scale_max``, clipped to [0, 5] (NaN where unknown).

    >>> five_stars(np.array([1.0, 4.5, 2.0, 8.0]), np.array([5.0, 5.0, 10.0, 10.0])).tolist()
    [1.0, 4.5, 1.0, 4.0]
    """
    score = np.asarray(score, dtype=np.float64)
    top = np.asarray(scale_max, dtype=np.float64)
    ok = np.isfinite(score) & np.isfinite(top) & (top > 0)
    out = np.full(np.broadcast(score, top).shape, np.nan)
    np.divide(5.0 * score, top, out=out, where=ok)
    return np.clip(out, 0.0, 5.0)


@dataclass(frozen=True)
class Feedback:
    """Each customer's verdict on the items they rated (customer × item, boolean matrices).

    Attributes:
        liked: rated at least :data:`LIKED_FROM` of 5 (latest rating).
        disliked: rated at most :data:`DISLIKED_UP_TO` of 5 (latest rating).
        rated: rated at all (``liked``, ``disliked`` and the neutral ones).
    """

    liked: sp.csr_matrix
    disliked: sp.csr_matrix
    rated: sp.csr_matrix

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Feedback:
        """No ratings at all (a shop without stars)."""
        z = sp.csr_matrix(shape, dtype=bool)
        return cls(z, z.copy(), z.copy())

    @classmethod
    def of(
        cls,
        customer: np.ndarray,
        item: np.ndarray,
        stars: np.ndarray,
        at: np.ndarray,
        shape: tuple[int, int],
    ) -> Feedback:
        """Verdicts from ratings on five stars (:func:`five_stars`); the latest per pair wins.

        Ratings without stars (NaN) are ignored. Among ratings of a pair at the same time the
        lowest wins: a dislike is never overlooked.

        >>> f = Feedback.of(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]),
        ...                 np.array([1.0, 5.0, 3.0, 2.0]), np.array([1, 2, 1, 1]), (2, 2))
        >>> f.liked.toarray().tolist(), f.disliked.toarray().tolist()
        ([[True, False], [False, False]], [[False, False], [False, True]])
        """
        customer = np.asarray(customer, dtype=np.int64)
        item = np.asarray(item, dtype=np.int64)
        stars = np.asarray(stars, dtype=np.float64)
        at = np.asarray(at, dtype=np.int64)
        ok = np.isfinite(stars) & (customer >= 0) & (item >= 0)
        customer, item, stars, at = customer[ok], item[ok], stars[ok], at[ok]
        if len(stars) == 0:
            return cls.empty(shape)
        # last of (customer, item, time, -stars): the latest rating, the lowest at a tie
        order = np.lexsort((-stars, at, item, customer))
        c, i, s = customer[order], item[order], stars[order]
        last = np.ones(len(c), dtype=bool)
        last[:-1] = (c[1:] != c[:-1]) | (i[1:] != i[:-1])
        c, i, s = c[last], i[last], s[last]

        def matrix(mask: np.ndarray) -> sp.csr_matrix:
            return sp.csr_matrix(
                (np.ones(int(mask.sum()), dtype=bool), (c[mask], i[mask])), shape=shape, dtype=bool
            )

        return cls(matrix(s >= LIKED_FROM), matrix(s <= DISLIKED_UP_TO), matrix(np.ones(len(s), dtype=bool)))

    @classmethod
    def of_stars(cls, stars: sp.csr_matrix) -> Feedback:
        """Verdicts from a customer × item matrix of latest ratings on five stars (0 = none).

        >>> f = Feedback.of_stars(sp.csr_matrix(np.array([[5.0, 0.0, 2.0, 3.0]])))
        >>> f.liked.toarray().tolist(), f.disliked.toarray().tolist(), int(f.rated.sum())
        ([[True, False, False, False]], [[False, False, True, False]], 3)
        """
        s = sp.csr_matrix(stars, dtype=np.float64)
        s.eliminate_zeros()

        def where(mask: np.ndarray) -> sp.csr_matrix:
            m = s.copy()
            m.data = mask.astype(np.float64)
            m.eliminate_zeros()
            return m.astype(bool)

        return cls(where(s.data >= LIKED_FROM), where(s.data <= DISLIKED_UP_TO), where(s.data > 0))

    def rows(self, rows: np.ndarray) -> Feedback:
        """The verdicts of the customers at ``rows`` (``-1``: a customer with none)."""
        safe = np.where(rows >= 0, rows, 0)
        keep = sp.diags((rows >= 0).astype(np.float32))

        def take(m: sp.csr_matrix) -> sp.csr_matrix:
            out = (keep @ m[safe].astype(np.float32)).tocsr()
            out.eliminate_zeros()
            return out.astype(bool)

        return Feedback(take(self.liked), take(self.disliked), take(self.rated))
