"""Affinities against a plain reference implementation, on random small order histories.

The engine computes affinities kind by kind with nested group-bys over staged order lines
(for speed and memory); the reference below is the definition in docs/traits.md written the
obvious way with pandas. Both must agree on every row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personae.app.traits import build_affinities
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore, Store

AS_OF = date(2025, 6, 30)
PRODUCTS = pd.DataFrame(
    {
        "product_id": ["p1", "p2", "p3", "p4"],
        "category": ["shoes", "shoes", "toys", "home"],
        "brand": ["acme", "zeta", "acme", None],
        "tags": [["team:A"], None, ["team:A", "eco"], ["eco"]],
    }
)
CHANNELS = ["web", "app", "store"]

order_strategy = st.fixed_dictionaries(
    {
        "customer": st.sampled_from(["c1", "c2", "c3"]),
        "days_before": st.integers(min_value=0, max_value=500),
        "hour": st.sampled_from([0, 8, 13, 19, 23]),
        "channel": st.sampled_from(CHANNELS),
        "lines": st.lists(
            st.tuples(
                st.sampled_from(["p1", "p2", "p3", "p4"]),
                st.integers(min_value=1, max_value=50),
                st.booleans(),
            ),
            min_size=1,
            max_size=3,
        ),
    }
)


def _lines(orders: list[dict]) -> pd.DataFrame:
    rows = []
    for i, o in enumerate(orders):
        at = datetime.combine(AS_OF, datetime.min.time()) - timedelta(days=o["days_before"])
        at = at.replace(hour=o["hour"])
        for j, (product, amount, returned) in enumerate(o["lines"]):
            rows.append(
                {
                    "order_id": f"o{i}",
                    "customer_id": o["customer"],
                    "ordered_at": at,
                    "channel": o["channel"],
                    "product_id": product,
                    "amount": float(amount),
                    "quantity": 1,
                    "returned": returned,
                    "_row_key": f"o{i}-{j}",
                    "_identity": f"customer_id:{o['customer']}",
                }
            )
    return pd.DataFrame(rows)


def _daypart(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def reference(lines: pd.DataFrame, s: TraitSettings) -> pd.DataFrame:
    """docs/traits.md's definition, row by row (category, brand, tag, channel, daypart)."""
    df = lines.merge(PRODUCTS, on="product_id", how="left")
    df["net"] = df.amount.where(~df.returned, 0.0)
    long = []
    for _, r in df.iterrows():
        base = {"customer_id": r.customer_id, "order": r.order_id, "when": r.ordered_at, "net": r.net}
        long.append({**base, "kind": "category", "value": r.category})
        if r.brand is not None and not pd.isna(r.brand):
            long.append({**base, "kind": "brand", "value": r.brand})
        for tag in r.tags if isinstance(r.tags, list) else []:
            long.append({**base, "kind": "tag", "value": tag})
        long.append({**base, "kind": "channel", "value": r.channel})
        if r.ordered_at.hour or r.ordered_at.minute:
            long.append({**base, "kind": "daypart", "value": _daypart(r.ordered_at.hour)})
    ln = pd.DataFrame(long)
    ln["month"] = ln["when"].dt.to_period("M")
    first_recent = pd.Period(AS_OF, "M") - (s.affinity_recent_months - 1)
    totals = df.groupby("customer_id").order_id.nunique()
    out = []
    for (customer, kind, value), g in ln.groupby(["customer_id", "kind", "value"]):
        months = set(g.month)
        recent = {m for m in months if m >= first_recent}
        orders = g.order.nunique()
        share = orders / totals[customer]
        strong = s.affinity_strong_months
        consistency = max(min(len(recent), strong) / strong, min(len(months), 6) / 12)
        out.append(
            {
                "customer_id": customer,
                "kind": kind,
                "value": value,
                "orders": orders,
                "spend": round(g.net.sum(), 6),
                "months_recent": len(recent),
                "months_total": len(months),
                "last_at": g["when"].max(),
                "strength": round(consistency * (0.5 + 0.5 * share), 4),
                "signal": "strong" if len(recent) >= strong else "medium" if len(months) >= 2 else "weak",
            }
        )
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = DuckDBStore.open(Path(tmp_path_factory.mktemp("aff")) / "aff.duckdb")
    s.raw.register("p", PRODUCTS.assign(_row_key=PRODUCTS.product_id))
    s.raw.execute("INSERT INTO products (product_id, category, brand, tags, _row_key) SELECT * FROM p")
    s.raw.unregister("p")
    return s


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(order_strategy, min_size=1, max_size=12))
def test_affinities_match_the_reference(store: Store, orders: list[dict]) -> None:
    lines = _lines(orders)
    store.raw.execute("DELETE FROM orders")
    store.raw.register("l", lines)
    cols = ", ".join(lines.columns)
    store.raw.execute(f"INSERT INTO orders ({cols}) SELECT {cols} FROM l")
    store.raw.unregister("l")
    s = TraitSettings()
    build_affinities(store, AS_OF, s)
    got = store.execute(store.table("affinities"))
    got = got[got.kind != "price_band"]  # approximate quantiles: not a plain definition
    want = reference(lines, s)
    key = ["customer_id", "kind", "value"]
    cols = ["orders", "spend", "months_recent", "months_total", "last_at", "strength", "signal"]
    got = got.assign(spend=got.spend.round(6)).set_index(key).sort_index()[cols]
    want = want.set_index(key).sort_index()[cols]
    assert got.index.tolist() == want.index.tolist()
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False)
