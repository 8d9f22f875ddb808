"""A small hand-made shop whose segment members can be worked out by hand (as of 2025-06-30).

=====  ======================================================================================
A      North, 29 (birthday 5 July), outdoor + fitness, emails OK; web orders of shoes 20 June
       and 10 May, a tent 1 April → recent repeat buyer, shoe spend 130 in 90 days, web-only
B      South, 25; first and only order (web, shoes 90) 29 June; viewed shoes twice and added to
       cart — but bought → after first shop, web-only; not a cart or browse abandoner
C      North, 35, outdoor + cooking, emails refused; a Lakers jersey in Feb (store), Mar, May
       (web) → Lakers fan (strength 1.0); not web-only
D      West, 30; no order; added to cart 26 June, viewed shoes 25 and 27 June → cart and browse
       abandoner
E      no region or age; added to cart 20 June (10 days: too old)
F      only events after the as-of date (ignored)
=====  ======================================================================================

CLV is injected (``clv`` table) so the value rules are exact: A top10 with P(alive) 0.3,
B top10 with 0.9, C rest with 0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from personae.app.ingest import ingest_file
from personae.app.segments.run import evaluate_segments
from personae.app.traits import build_affinities, build_traits
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore, Store

AS_OF = date(2025, 6, 30)

FILES = {
    "products": """
product_id,name,category,brand,price,tags
P1,Jersey,apparel,Nike,80,team:Lakers
P2,Shoes,shoes,Adidas,90,
P3,Tent,outdoor,Camp,30,
""",
    "customers": """
customer_id,created_at,birth_date,gender,region,city,occupation,interests
A,2023-01-01,1995-07-05,f,North,New York,nurse,outdoor;fitness
B,2025-06-01,2000-06-01,m,South,Houston,student,
C,2022-01-01,1990-01-01,m,North,Chicago,chef,outdoor;cooking
D,2024-01-01,1995-01-01,f,West,Phoenix,,
E,2024-01-01,,,,,,
F,2024-01-01,,,East,,,
""",
    "orders": """
order_id,customer_id,ordered_at,channel,store_id,product_id,category,amount,returned
O1,A,2025-06-20,web,,P2,shoes,80,false
O2,A,2025-05-10,web,,P2,shoes,50,false
O3,A,2025-04-01,web,,P3,outdoor,30,false
O4,B,2025-06-29,web,,P2,shoes,90,false
O5,C,2025-02-15,store,S1,P1,apparel,80,false
O6,C,2025-03-15,web,,P1,apparel,80,false
O7,C,2025-05-01,web,,P1,apparel,80,false
O8,A,2025-07-03,store,S1,P2,shoes,80,false
""",
    "events": """
event_id,customer_id,occurred_at,type,channel,product_id,category
E1,D,2025-06-26,add_to_cart,web,P2,shoes
E2,D,2025-06-25,product_view,web,P2,shoes
E3,D,2025-06-27,product_view,web,P2,shoes
E4,B,2025-06-20,product_view,web,P2,shoes
E5,B,2025-06-22,product_view,web,P2,shoes
E6,B,2025-06-28,add_to_cart,web,P2,shoes
E7,E,2025-06-20,add_to_cart,web,P2,shoes
E8,F,2025-07-02,add_to_cart,web,P2,shoes
E9,F,2025-07-01,product_view,web,P2,shoes
E10,F,2025-07-01,product_view,web,P2,shoes
""",
    "consents": """
customer_id,purpose,granted,recorded_at,source
A,email,true,2024-01-01,signup
C,email,false,2024-01-01,signup
""",
}

CLV = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C"],
        "p_alive": [0.3, 0.9, 0.1],
        "value_tier": ["top10", "top10", "rest"],
        "clv_12m": [500.0, 400.0, 50.0],
    }
)


def load_shop(store: Store, folder: Path) -> None:
    for kind in ("products", "customers", "orders", "events", "consents"):
        path = folder / f"{kind}.csv"
        path.write_text(FILES[kind].strip() + "\n", encoding="utf-8")
        summary = ingest_file(store, kind, path)
        assert summary.rejected == 0, (kind, summary)


def build(store: Store, as_of: date = AS_OF, clv: pd.DataFrame | None = CLV) -> dict[str, object]:
    """The traits steps of ``personae build`` (with the injected CLV), then the segments step."""
    settings = TraitSettings()
    build_affinities(store, as_of, settings)
    if clv is not None:
        store.replace("clv", clv)
    build_traits(store, as_of, settings)
    return evaluate_segments(store, as_of, settings)


@pytest.fixture
def build_shop() -> object:
    """``build_shop(store, as_of=AS_OF, clv=CLV)``: rebuild traits and segments."""
    return build


@pytest.fixture(scope="session")
def build_shop_once() -> object:
    """:func:`build`, for fixtures with a wider scope."""
    return build


@pytest.fixture(scope="session")
def _shop_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two database files made once per run: the shop ingested, and the shop built."""
    folder = tmp_path_factory.mktemp("shop")
    ingested, built = folder / "ingested.duckdb", folder / "built.duckdb"
    with DuckDBStore.open(ingested) as store:
        load_shop(store, folder)
    shutil.copy(ingested, built)
    with DuckDBStore.open(built) as store:
        build(store)
    return ingested, built


def _open_copy(source: Path, target: Path) -> Iterator[Store]:
    shutil.copy(source, target)
    store = DuckDBStore.open(target)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def shop(_shop_files: tuple[Path, Path], tmp_path: Path) -> Iterator[Store]:
    """The shop, ingested into a fresh database (a copy), traits not built yet."""
    yield from _open_copy(_shop_files[0], tmp_path / "shop.duckdb")


@pytest.fixture
def built_shop(_shop_files: tuple[Path, Path], tmp_path: Path) -> Iterator[Store]:
    """The shop built as of 2025-06-30 (traits, affinities, segments), a fresh copy."""
    yield from _open_copy(_shop_files[1], tmp_path / "built.duckdb")
