"""Small Ibis table helpers shared by the domain and application code (no I/O)."""

from __future__ import annotations

from typing import Literal

import ibis


def join_on_customer(t: ibis.Table, other: ibis.Table, how: Literal["left", "inner"] = "left") -> ibis.Table:
    """``t`` with ``other``'s columns joined on ``customer_id``, keeping ``t``'s of any name both have.

    Ibis suffixes the right side's clashing columns with ``_right`` (the key among them on a left
    join); they are dropped, so the result has one ``customer_id`` and ``t``'s values win.
    """
    j = t.left_join(other, "customer_id") if how == "left" else t.join(other, "customer_id")
    return j.drop(*[c for c in j.columns if c.endswith("_right")])
