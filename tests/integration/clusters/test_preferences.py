"""Micro-segments on the generated shop: price band, channel and time-of-day affinities."""

from __future__ import annotations

import pytest

from personae.app.clusters import customer_preferences
from personae.app.segments.library import add_segments
from personae.app.segments.run import preview
from personae.errors import NotFoundError
from personae.segments.check import check_rule
from personae.segments.definitions import SegmentDefinition
from personae.store import Store


def test_new_affinity_kinds(clustered: Store) -> None:
    a = clustered.execute(clustered.table("affinities"))
    kinds = set(a.kind)
    assert {"price_band", "channel", "daypart"} <= kinds
    assert set(a[a.kind == "price_band"].value) == {"budget", "mid", "premium"}
    assert set(a[a.kind == "daypart"].value) <= {"morning", "afternoon", "evening", "night"}
    assert a.strength.between(0, 1).all()
    # a customer's orders per band add up to at least their orders (an order can mix bands)
    traits = clustered.execute(clustered.table("traits")).set_index("customer_id")
    per = a[a.kind == "channel"].groupby("customer_id").orders.sum()
    assert (per >= traits.loc[per.index, "frequency"]).all()


def test_top_traits_are_the_strongest_rows(clustered: Store) -> None:
    a = clustered.execute(clustered.table("affinities"))
    traits = clustered.execute(clustered.table("traits")).set_index("customer_id")
    for kind in ("price_band", "channel", "daypart"):
        best = a[a.kind == kind].groupby("customer_id").strength.max()
        got = traits.loc[best.index, f"top_{kind}_strength"]
        assert (got.round(4) == best.round(4)).all(), kind


def test_preferences_profile_and_rules(clustered: Store) -> None:
    traits = clustered.execute(clustered.table("traits"))
    row = traits.sort_values("frequency", ascending=False).iloc[0]
    profile = customer_preferences(clustered, row.customer_id)
    assert profile.top("price_band").value == row.top_price_band  # type: ignore[union-attr]
    assert profile.top("price_band").strength == pytest.approx(row.top_price_band_strength)  # type: ignore[union-attr]
    assert profile.top("daypart").evidence["orders"] >= 1  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        customer_preferences(clustered, "nobody")
    assert check_rule('affinity("price_band:premium") >= 0.5').expr is not None
    add_segments(
        clustered,
        [
            SegmentDefinition(
                "Premium habit", 'affinity("price_band:premium") >= 0.5 and top_daypart == "evening"'
            )
        ],
    )
    a = clustered.execute(clustered.table("affinities"))
    premium = set(a[(a.kind == "price_band") & (a.value == "premium") & (a.strength >= 0.5)].customer_id)
    evening = set(traits[traits.top_daypart == "evening"].customer_id)
    assert preview(clustered, ["Premium habit"]) == {"Premium habit": len(premium & evening)}
