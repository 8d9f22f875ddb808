"""A shop export with a return line through the front door: ingest, build, traits show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RETAIL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,MUG,6,12/1/2010 8:26,2.10,17850.0,United Kingdom
536365,71053,LAMP,2,12/1/2010 8:26,10.00,17850.0,United Kingdom
C536379,85123A,MUG,-2,12/9/2010 9:41,2.10,17850.0,United Kingdom
"""


def test_a_return_nets_monetary_but_is_no_order(main_in_process, tmp_path: Path) -> None:
    db = str(tmp_path / "shop.duckdb")
    path = tmp_path / "online_retail.csv"
    path.write_text(RETAIL, encoding="utf-8")
    maps = [
        *("--map", "order_id=InvoiceNo", "--map", "product_id=StockCode", "--map", "unit_price=UnitPrice"),
        *("--map", "ordered_at=InvoiceDate", "--map", "customer_id=CustomerID"),
    ]
    code, out, err = main_in_process(
        "--db", db, "ingest", "orders", str(path), *maps, "--date-format", "%m/%d/%Y %H:%M", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["accepted"] == 3
    code, _, err = main_in_process("--db", db, "build", "--as-of", "2011-01-31")
    assert code == 0, err
    code, out, err = main_in_process("--db", db, "traits", "show", "17850", "--json")
    assert code == 0, err
    shown = json.loads(out)
    traits = shown.get("traits", shown)
    assert traits["frequency"] == 1
    assert traits["monetary"] == pytest.approx(12.6 + 20.0 - 4.2)
    assert traits["gross_revenue"] == pytest.approx(32.6)
