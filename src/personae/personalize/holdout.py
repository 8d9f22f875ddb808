"""Control groups: a stable, seeded random holdout per customer and playbook.

A customer is held out of a playbook when a hash of ``salt / playbook / customer id`` falls
below the playbook's share. No state to store and nothing to look up: the same customer is in
the same group of the same playbook at every run, on every machine, whatever else changes —
and a different playbook (or salt) draws an independent group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

_SCALE = float(2**64)


def unit(customer_id: str, playbook: str, salt: str = "personae") -> float:
    """A uniform number in [0, 1) fixed by the customer, the playbook and the salt.

    Example:
        >>> round(unit("C1", "winback"), 6), round(unit("C1", "winback", salt="2025"), 6)
        (0.619763, 0.228644)
    """
    digest = hashlib.blake2b(f"{salt}/{playbook}/{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def in_holdout(customer_id: str, playbook: str, share: float, salt: str = "personae") -> bool:
    """Whether the customer is in the playbook's control group.

    Example:
        >>> [in_holdout(f"C{i}", "winback", share=0.5) for i in range(6)]
        [True, False, True, False, True, False]
        >>> in_holdout("C0", "winback", share=0.0)
        False
    """
    return share > 0 and unit(customer_id, playbook, salt) < share


def holdout_mask(
    customer_ids: Iterable[str], playbook: str, share: float, salt: str = "personae"
) -> np.ndarray:
    """:func:`in_holdout` for many customers.

    Example:
        About a tenth of 10,000 customers are held out of a 10 % holdout:

        >>> int(holdout_mask([f"C{i}" for i in range(10_000)], "winback", share=0.1).sum())
        979
    """
    return np.array([in_holdout(c, playbook, share, salt) for c in customer_ids], dtype=bool)
