"""The buy-till-you-die story behind the generated repeat purchases (the BG/NBD process).

Fader, Hardie and Lee's BG/NBD ("Counting your customers the easy way", 2005) tells how a
customer buys and stops buying, and the generator follows it, so the lifetime-value models
fitted on generated data have the story they assume and a right answer to recover:

1. while alive, a customer buys as a Poisson process of rate λ (repeat purchases per day);
   λ varies across customers as Gamma(shape r, rate α) — mean r/α;
2. right after each repeat purchase the customer drops out for good with probability p;
   p varies across customers as Beta(a, b) — mean a/(a + b);
3. λ and p are independent.

We chose this dropout story (a chance to leave after each purchase) over the Pareto/NBD's
exponential lifetime because it is the one ``personae build`` fits by default, and a
generator that follows it lets a test check that the fit recovers the parameters the data
was drawn with (tests/unit/devtools/generate/test_btyd.py). :func:`repeat_purchases` draws
the purchases in "process time" (days of a flat calendar); the generator then places them on
the shop's seasonal calendar (sales, Christmas) with :meth:`Timeline.warp`, a time change
that keeps the counts and the dropout exactly as drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BtydStory:
    """The parameters of the BG/NBD story for a group of customers (rates per day).

    Attributes:
        r: shape of the Gamma distribution of purchase rates.
        alpha: its rate (days); the mean purchase rate is ``r / alpha`` per day.
        a: first shape of the Beta distribution of the dropout probability.
        b: its second shape; the mean chance to drop out after a purchase is ``a / (a + b)``.
        loyal_for: repeat purchases made before the dropout chance applies (0: the BG/NBD
            story; more: customers who were regulars before they could leave).
    """

    r: float
    alpha: float
    a: float
    b: float
    loyal_for: int = 0

    @classmethod
    def around(
        cls, days_between: float, r: float, dropout: tuple[float, float], loyal_for: int = 0
    ) -> BtydStory:
        """The story whose mean purchase rate is one every ``days_between`` days.

        >>> story = BtydStory.around(40, r=10, dropout=(2, 10))
        >>> story.alpha, round(story.a / (story.a + story.b), 3)
        (400, 0.167)
        """
        return cls(r=r, alpha=r * days_between, a=dropout[0], b=dropout[1], loyal_for=loyal_for)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each of ``n`` customers' purchase rate λ (per day) and dropout probability p."""
        lam = rng.gamma(self.r, 1.0 / self.alpha, n)
        p = rng.beta(self.a, self.b, n)
        return lam, p


def repeat_purchases(
    rng: np.random.Generator,
    lam: np.ndarray,
    p: np.ndarray,
    span: np.ndarray,
    max_repeats: int | None = None,
    loyal_for: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases of customers who bought first at time 0 and are watched for ``span`` days.

    Args:
        rng: the random generator.
        lam: purchase rate per day of each customer while alive.
        p: chance each customer drops out right after each repeat purchase.
        span: days from the first purchase to the end of the observation.
        max_repeats: stop a customer after this many repeat purchases (``None``: no cap).
        loyal_for: repeat purchases after which nobody drops out yet (0: the BG/NBD story;
            more: customers who were regulars before they could leave).

    Returns:
        ``(owner, t)``: for every repeat purchase, its customer's index and its time in days
        after the first purchase, sorted by customer, then time.

    >>> rng = np.random.default_rng(0)
    >>> owner, t = repeat_purchases(rng, np.array([0.0, 1.0]), np.array([0.5, 0.0]), np.array([10.0, 3.0]))
    >>> bool((owner == 1).all()), bool((t <= 3.0).all())
    (True, True)
    """
    n = len(lam)
    t = np.zeros(n)
    alive = np.flatnonzero(lam > 0)
    owners: list[np.ndarray] = []
    times: list[np.ndarray] = []
    made = 0
    while len(alive) and (max_repeats is None or made < max_repeats):
        t[alive] += rng.exponential(1.0, len(alive)) / lam[alive]
        bought = alive[t[alive] <= span[alive]]
        owners.append(bought)
        times.append(t[bought])
        made += 1
        alive = bought
        if made > loyal_for:  # a regular's first repeat purchases carry no dropout
            alive = bought[rng.random(len(bought)) >= p[bought]]  # drop out after the purchase
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    owner = np.concatenate(owners).astype(np.int64)
    when = np.concatenate(times)
    order = np.lexsort((when, owner))
    return owner[order], when[order]
