"""The strongest affinity per kind: ties are broken by spend, then alphabetically."""

from __future__ import annotations

import ibis
import pandas as pd

from personae.traits.affinities import top_affinities


def test_ties_go_to_spend_then_to_the_first_value() -> None:
    rows = pd.DataFrame(
        [
            # c1: "shoes" and "bags" tie on strength; "shoes" has more spend
            ("c1", "category", "bags", 0.5, 10.0),
            ("c1", "category", "shoes", 0.5, 30.0),
            ("c1", "category", "toys", 0.2, 99.0),
            # c1: two brands tie on strength and spend: the alphabetically first wins
            ("c1", "brand", "Zeta", 0.7, 5.0),
            ("c1", "brand", "Alpha", 0.7, 5.0),
            # c2: only a tag
            ("c2", "tag", "team:Lakers", 0.9, 1.0),
        ],
        columns=["customer_id", "kind", "value", "strength", "spend"],
    )
    con = ibis.duckdb.connect()
    out = con.execute(top_affinities(ibis.memtable(rows))).set_index("customer_id")
    c1, c2 = out.loc["c1"], out.loc["c2"]
    assert (c1.top_category, c1.top_category_strength) == ("shoes", 0.5)
    assert (c1.top_brand, c1.top_brand_strength) == ("Alpha", 0.7)
    assert pd.isna(c1.top_tag) and pd.isna(c1.top_tag_strength)
    assert (c2.top_tag, c2.top_tag_strength) == ("team:Lakers", 0.9)
    assert pd.isna(c2.top_category)
