"""Micro-segments: one customer's preference profile, with strength and evidence.

The ``affinities`` table (:mod:`personae.traits.affinities`) already scores every category,
brand, tag, price band, channel and time of day a customer bought in, separating a one-off
(weak: bought once) from a habit (strong: bought in 3 of the last 6 months). This module turns
one customer's rows into the profile personalization reads: per kind, the favourites in
order, each with its strength (0–1), signal (weak / medium / strong) and the evidence (orders,
months with a purchase, spend, last purchase, share of orders).

Pure: the caller passes the rows (from the store, or from the real-time profile state).

>>> p = preference_profile([
...     {"kind": "category", "value": "baby", "strength": 0.9, "signal": "strong", "orders": 6,
...      "months_recent": 6, "months_total": 6, "spend": 180.0, "share": 0.8, "last_at": None},
...     {"kind": "category", "value": "toys", "strength": 0.2, "signal": "weak", "orders": 1,
...      "months_recent": 1, "months_total": 1, "spend": 20.0, "share": 0.1, "last_at": None}])
>>> [(f.value, f.signal) for f in p.favourites("category")]
[('baby', 'strong'), ('toys', 'weak')]
>>> p.top("category").value, p.top("brand")
('baby', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from personae.traits.affinities import AFFINITY_KINDS

#: How the profile names each kind for people.
KIND_LABELS = {
    "category": "favourite categories",
    "brand": "favourite brands",
    "tag": "favourite tags",
    "price_band": "price band",
    "channel": "preferred channel",
    "daypart": "time of day",
}
EVIDENCE = ("orders", "months_recent", "months_total", "spend", "share", "last_at")


@dataclass(frozen=True)
class Preference:
    """One preference: what, how strongly, and why we think so."""

    kind: str
    value: str
    strength: float
    signal: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "strength": self.strength,
            "signal": self.signal,
            **self.evidence,
        }


@dataclass(frozen=True)
class PreferenceProfile:
    """A customer's preferences by kind, strongest first."""

    customer_id: str | None
    by_kind: dict[str, list[Preference]]

    def favourites(self, kind: str, n: int | None = None, min_strength: float = 0.0) -> list[Preference]:
        """The customer's preferences of one kind (strongest first)."""
        items = [p for p in self.by_kind.get(kind, []) if p.strength >= min_strength]
        return items if n is None else items[:n]

    def top(self, kind: str) -> Preference | None:
        items = self.by_kind.get(kind) or []
        return items[0] if items else None

    def as_dict(self, n: int = 3) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            **{kind: [p.as_dict() for p in self.favourites(kind, n)] for kind in AFFINITY_KINDS},
        }


def preference_profile(
    rows: Iterable[Mapping[str, Any]], customer_id: str | None = None
) -> PreferenceProfile:
    """The profile from ``affinities`` rows (``kind, value, strength, signal`` + evidence).

    Ties in strength are broken by spend, then by value, so the order is stable.
    """
    by_kind: dict[str, list[Preference]] = {k: [] for k in AFFINITY_KINDS}
    for r in rows:
        kind = str(r["kind"])
        strength = float(r.get("strength") or 0.0)
        pref = Preference(
            kind,
            str(r["value"]),
            strength,
            str(r.get("signal") or "weak"),
            {k: r.get(k) for k in EVIDENCE if k in r},
        )
        by_kind.setdefault(kind, []).append(pref)
    for items in by_kind.values():
        items.sort(key=lambda p: (-p.strength, -float(p.evidence.get("spend") or 0.0), p.value))
    return PreferenceProfile(customer_id, by_kind)
