"""Traits on a small hand-made shop whose every number can be checked by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from personae.app.ingest import ingest_file
from personae.app.traits import build_affinities, build_traits
from personae.config.traits import RfmSettings, TraitSettings
from personae.store import DuckDBStore
from personae.traits.registry import ALL

AS_OF = date(2025, 6, 30)


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def traits(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    d = tmp_path_factory.mktemp("shop")
    store = DuckDBStore.open(d / "t.duckdb")
    files = {
        "products": """
product_id,name,category,brand,price,tags
P1,Jersey,apparel,Nike,80,team:Lakers;premium
P2,Diapers,baby,Pampers,20,
P3,Shoes,shoes,Adidas,100,
""",
        "customers": """
customer_id,created_at,first_name,email,birth_date,gender,region,interests
A,2024-01-01,Ann,ann@example.com,1990-07-02,f,North,outdoor;fitness
B,2025-06-01,Bob,bob@example.com,2000-02-29,m,South,
C,2023-03-15,Cid,CID@example.com ,1980-06-30,m,East,
D,2025-01-01,Dee,dee@example.com,,,West,
""",
        "orders": """
order_id,customer_id,ordered_at,channel,product_id,amount,quantity,returned,discount
O1,A,2025-01-10,web,P2,20,1,false,0
O2,A,2025-02-10,web,P2,20,1,false,0
O3,A,2025-03-10,store,P2,20,1,false,0
O4,A,2025-04-10,web,P2,20,1,false,0
O5,A,2025-05-10,web,P2,20,1,false,0
O6,A,2025-06-10,app,P2,20,1,false,0
O6,A,2025-06-10,app,P1,80,1,true,0
O7,B,2025-06-20,web,P3,90,1,false,10
O8,C,2024-12-01,store,P1,80,1,false,0
O9,A,2025-07-05,web,P3,100,1,false,0
""",
        "events": """
event_id,customer_id,occurred_at,type,channel,product_id,category
E1,D,2025-06-25,add_to_cart,web,P3,shoes
E2,D,2025-06-26,product_view,web,P3,shoes
E3,D,2025-06-27,product_view,web,P3,shoes
E4,B,2025-06-15,product_view,web,P3,shoes
E5,B,2025-06-28,add_to_cart,web,P1,apparel
E6,C,2025-05-01,support_contact,chat,,
E7,C,2025-05-02,support_contact,phone,,
E8,C,2025-05-03,support_contact,chat,,
E9,A,2025-06-01,review,web,P2,baby
""",
        "surveys": """
response_id,customer_id,answered_at,kind,score,scale_max,touchpoint
R1,A,2025-05-01,nps,6,,checkout
R2,A,2025-06-01,nps,10,,checkout
R3,C,2025-05-05,ces,5,5,support
R4,C,2025-05-05,csat,2,,support
""",
        "consents": """
customer_id,purpose,granted,recorded_at,source
A,email,true,2024-01-01,signup
A,email,false,2025-03-01,unsubscribe_link
B,email,true,2025-06-01,signup
""",
    }
    for kind in ("products", "customers", "orders", "events", "surveys", "consents"):
        s = ingest_file(store, kind, write(d / f"{kind}.csv", files[kind]))
        assert s.rejected == 0, (kind, s)
    build_affinities(store, AS_OF, TraitSettings())
    build_traits(store, AS_OF, TraitSettings())
    df = store.execute(store.table("traits")).set_index("customer_id")
    df.attrs["affinity_schema"] = dict(store.table("affinities").schema().items())
    build_traits(store, AS_OF, TraitSettings(rfm=RfmSettings(scoring="absolute")))
    absolute = store.execute(store.table("traits")).set_index("customer_id")
    df.attrs["absolute"] = absolute[["r_score", "rfm_segment", "lifecycle_stage"]]
    store.close()
    return df


def test_one_row_per_customer(traits: pd.DataFrame) -> None:
    assert sorted(traits.index) == ["A", "B", "C", "D"]


def test_value_traits_ignore_orders_after_as_of(traits: pd.DataFrame) -> None:
    a = traits.loc["A"]
    assert a.frequency == 6  # O9 is after the as-of date
    assert a.monetary == pytest.approx(120.0)  # returned jersey excluded
    assert a.gross_revenue == pytest.approx(200.0)
    assert a.recency_days == 20
    assert a.days_since_first_order == (AS_OF - date(2025, 1, 10)).days
    assert a.tenure_days == (AS_OF - date(2024, 1, 1)).days
    assert a.aov == pytest.approx(20.0)
    assert a.returns_ratio == pytest.approx(1 / 7)


def test_channels(traits: pd.DataFrame) -> None:
    a = traits.loc["A"]
    assert a.orders_web == 4 and a.orders_store == 1 and a.orders_app == 1
    assert sorted(a.channels) == ["app", "store", "web"]
    assert a.n_channels == 3 and not a.single_channel
    assert a.preferred_channel == "web"
    b = traits.loc["B"]
    assert b.single_channel and b.preferred_channel == "web"
    assert traits.loc["C"].preferred_service_channel == "chat"
    assert traits.loc["D"].n_channels == 0


def test_journey_stage(traits: pd.DataFrame) -> None:
    assert traits.loc["A"].journey_stage == "advocacy"  # latest NPS 10 and a review
    assert traits.loc["B"].journey_stage == "purchase"
    assert traits.loc["C"].journey_stage == "purchase"
    assert traits.loc["D"].journey_stage == "consideration"
    assert traits.loc["D"].interactions_before_first_purchase == 3
    assert traits.loc["B"].interactions_before_first_purchase == 1  # view on 15 June, bought 20 June


def test_occasions(traits: pd.DataFrame) -> None:
    assert traits.loc["A"].age == 34  # born 1990-07-02, birthday not yet reached on 30 June
    assert traits.loc["A"].days_until_birthday == 2
    assert traits.loc["C"].age == 45 and traits.loc["C"].days_until_birthday == 0
    assert traits.loc["B"].days_until_birthday == (date(2026, 2, 28) - AS_OF).days  # 29 Feb
    assert traits.loc["B"].age == 25
    assert pd.isna(traits.loc["D"].age)
    assert traits.loc["C"].days_until_join_anniversary == (date(2026, 3, 15) - AS_OF).days


def test_behaviour(traits: pd.DataFrame) -> None:
    assert traits.loc["D"].cart_abandoned  # added, never ordered
    assert traits.loc["B"].cart_abandoned  # added after the last order
    assert not traits.loc["A"].cart_abandoned
    assert traits.loc["D"].browse_abandoned_category == "shoes"
    assert pd.isna(traits.loc["B"].browse_abandoned_category)  # viewed shoes and bought them
    assert traits.loc["C"].support_contacts_90d == 3
    assert traits.loc["A"].support_contacts_90d == 0


def test_experience_uses_latest_answer_on_standard_scales(traits: pd.DataFrame) -> None:
    assert traits.loc["A"].latest_nps == 10 and traits.loc["A"].nps_category == "promoter"
    assert traits.loc["C"].latest_ces == pytest.approx(7.0)  # 5 on a 1–5 scale is 7 on 1–7
    assert traits.loc["C"].latest_csat == 2
    assert pd.isna(traits.loc["B"].nps_category)


def test_consent_latest_decision_wins_and_absence_is_no(traits: pd.DataFrame) -> None:
    assert not traits.loc["A"].consent_email
    assert traits.loc["B"].consent_email
    assert not traits.loc["C"].consent_email
    assert not traits.loc["B"].consent_sms


def test_affinity_strength_separates_habit_from_one_off(traits: pd.DataFrame) -> None:
    a = traits.loc["A"]
    assert a.top_category == "baby" and a.top_brand == "Pampers"
    assert a.top_category_strength >= 0.5
    c = traits.loc["C"]
    assert c.top_tag in ("team:Lakers", "premium")
    assert c.top_tag_strength <= 1 / 3 + 1e-9


def test_rfm_and_lifecycle(traits: pd.DataFrame) -> None:
    buyers = traits[traits.frequency > 0]
    assert buyers.r_score.between(1, 5).all() and buyers.rfm_segment.notna().all()
    assert pd.isna(traits.loc["D"].r_score) and traits.loc["D"].lifecycle_stage == "prospect"
    assert traits.loc["B"].lifecycle_stage == "new"
    assert traits.loc["A"].lifecycle_stage == "active"
    assert traits.loc["A"].r_score >= traits.loc["C"].r_score


def test_absolute_rfm_scores_recency_against_the_shops_rhythm(traits: pd.DataFrame) -> None:
    """A buys every 30.2 days (Jan 10 – Jun 10, 5 gaps), the only repeat buyer: the shop's
    typical gap. Quantiles rank A's 20 days behind B's 10 (R = 3); absolutely, 20 days is
    within one gap (R = 5). C, one order 211 days ago (7 gaps), is R = 1 either way."""
    absolute = traits.attrs["absolute"]
    assert traits.loc["A"].r_score == 3 and absolute.loc["A"].r_score == 5
    assert absolute.loc["B"].r_score == 5 and absolute.loc["C"].r_score == 1
    assert pd.isna(absolute.loc["D"].r_score)
    # scoring leaves the stage alone (aligned by customer: the two builds need not list them in one order)
    assert absolute.lifecycle_stage.sort_index().equals(traits.lifecycle_stage.sort_index())
    assert traits.loc["C"].lifecycle_stage == "lapsed"


def test_every_column_is_documented(traits: pd.DataFrame) -> None:
    undocumented = [c for c in traits.columns if c not in ALL and c != "as_of"]
    assert undocumented == []


def test_affinity_counts_are_integers(traits: pd.DataFrame) -> None:
    # a SUM of counts is a 128-bit integer in DuckDB; it must come back as a plain int64
    schema = traits.attrs["affinity_schema"]
    assert str(schema["orders"]) == "int64"
    assert str(schema["months_recent"]) == "int64"
