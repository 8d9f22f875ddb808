"""Micro-segments: a customer's preference profile from their affinity rows."""

from __future__ import annotations

import doctest

from personae.clusters import preferences
from personae.clusters.preferences import preference_profile


def row(kind: str, value: str, strength: float, signal: str, spend: float = 10.0) -> dict[str, object]:
    return {
        "kind": kind,
        "value": value,
        "strength": strength,
        "signal": signal,
        "orders": 2,
        "months_recent": 2,
        "months_total": 3,
        "spend": spend,
        "share": 0.5,
        "last_at": None,
    }


def test_doctests() -> None:
    assert doctest.testmod(preferences).failed == 0


def test_profile_orders_by_strength_then_spend() -> None:
    p = preference_profile(
        [
            row("price_band", "premium", 0.4, "medium"),
            row("price_band", "budget", 0.8, "strong"),
            row("daypart", "evening", 0.5, "medium", spend=5),
            row("daypart", "morning", 0.5, "medium", spend=50),
            row("channel", "app", 0.9, "strong"),
        ],
        "C1",
    )
    assert p.top("price_band").value == "budget"  # type: ignore[union-attr]
    assert [x.value for x in p.favourites("daypart")] == ["morning", "evening"]
    assert [x.value for x in p.favourites("price_band", min_strength=0.5)] == ["budget"]
    d = p.as_dict(1)
    assert d["customer_id"] == "C1"
    assert d["channel"] == [
        {
            "kind": "channel",
            "value": "app",
            "strength": 0.9,
            "signal": "strong",
            "orders": 2,
            "months_recent": 2,
            "months_total": 3,
            "spend": 10.0,
            "share": 0.5,
            "last_at": None,
        }
    ]
    assert d["category"] == []
