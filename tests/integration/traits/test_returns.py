"""A tiny shop with a purchase and a partial return, ingested the way a shop export is (UCI
"Online Retail": invoice numbers starting with C and negative quantities), through the traits,
segments, CLV transactions and recommendations on real DuckDB: every number checked by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personae.app.clv import clv_transactions
from personae.app.ingest import ingest_file
from personae.app.recommend import load_interactions
from personae.app.traits import build_affinities, build_traits
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore, Store

AS_OF = date(2011, 1, 31)

# A buys 6 mugs at 2.10 and 2 lamps at 10 (one invoice), returns 2 mugs later (a C invoice);
# B only buys. Columns as the UCI file has them: mapping alone (--map, --date-format).
RETAIL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,MUG,6,12/1/2010 8:26,2.10,17850.0,United Kingdom
536365,71053,LAMP,2,12/1/2010 8:26,10.00,17850.0,United Kingdom
C536379,85123A,MUG,-2,12/9/2010 9:41,2.10,17850.0,United Kingdom
536400,71053,LAMP,1,12/20/2010 10:00,10.00,13047.0,United Kingdom
"""
MAP = {
    "order_id": "InvoiceNo",
    "product_id": "StockCode",
    "quantity": "Quantity",
    "ordered_at": "InvoiceDate",
    "unit_price": "UnitPrice",
    "customer_id": "CustomerID",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Store:
    d: Path = tmp_path_factory.mktemp("retail")
    (d / "online_retail.csv").write_text(RETAIL, encoding="utf-8")
    store = DuckDBStore.open(d / "r.duckdb")
    s = ingest_file(store, "orders", d / "online_retail.csv", mapping=MAP, date_format="%m/%d/%Y %H:%M")
    assert (s.read, s.accepted, s.rejected) == (4, 4, 0)
    build_affinities(store, AS_OF, TraitSettings())
    build_traits(store, AS_OF, TraitSettings())
    yield store
    store.close()


def test_the_return_line_is_stored_negative_and_returned(shop: Store) -> None:
    o = shop.execute(shop.table("orders").order_by("_source_line"))
    assert o["amount"].tolist() == pytest.approx([12.6, 20.0, -4.2, 10.0])  # quantity × unit_price
    assert o["quantity"].tolist() == [6, 2, -2, 1]
    assert o["returned"].tolist() == [None, None, True, None]
    assert o["customer_id"].tolist() == ["17850", "17850", "17850", "13047"]
    assert o["unit_price"].tolist() == pytest.approx([2.1, 10.0, 2.1, 10.0])


def test_a_return_nets_spend_but_is_no_order(shop: Store) -> None:
    t = shop.execute(shop.table("traits")).set_index("customer_id")
    a = t.loc["17850"]
    assert a.frequency == 1  # the C invoice is not an order
    assert a.monetary == pytest.approx(12.6 + 20.0 - 4.2)
    assert a.gross_revenue == pytest.approx(32.6)
    assert a.aov == pytest.approx(28.4)
    assert a.recency_days == (AS_OF - date(2010, 12, 1)).days  # the purchase, not the return
    assert a.returns_ratio == pytest.approx(1 / 2)  # one return line per two purchase lines
    b = t.loc["13047"]
    assert (b.frequency, b.monetary) == (1, pytest.approx(10.0))


def test_affinities_count_purchases_only(shop: Store) -> None:
    a = shop.execute(shop.table("affinities"))
    a = a[a["customer_id"] == "17850"]
    # the return's order key (C536379) is no order: shares are out of one order
    assert set(a.loc[a["kind"] == "daypart", "orders"]) == {1}


def test_clv_and_recommendations_leave_the_return_out(shop: Store) -> None:
    tx = shop.execute(clv_transactions(shop, exclude_returned=False))
    assert len(tx) == 3 and (tx["amount"] >= 0).all()
    inter = load_interactions(shop, AS_OF)
    assert len(inter.customer) == 3  # two purchase lines of A, one of B; the return is no purchase
