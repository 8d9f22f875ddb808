"""Hand-made touch streams whose funnels, paths and touch counts are known by hand.

The domain functions take Ibis tables, so the fixtures are memtables executed on a real
(in-memory) DuckDB through the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest

from personae.store import DuckDBStore, Store

T0 = datetime(2025, 6, 1, 10, 0, 0)

SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("at", pa.timestamp("us")),
        ("step", pa.string()),
        ("channel", pa.string()),
        ("value", pa.float64()),
        ("is_order", pa.int8()),
        ("device", pa.string()),
    ]
)


def touches(
    rows: list[tuple[str, float, str] | tuple[str, float, str, str]], value: float = 100.0
) -> ibis.Table:
    """``(customer, hours after T0, step[, channel])`` rows as a touch stream (orders worth ``value``)."""
    data: dict[str, list[Any]] = {f.name: [] for f in SCHEMA}
    for r in rows:
        cust, hours, step = r[0], r[1], r[2]
        channel = r[3] if len(r) > 3 else "web"
        data["customer_id"].append(cust)
        data["at"].append(T0 + timedelta(hours=hours))
        data["step"].append(step)
        data["channel"].append(channel)
        data["value"].append(value if step == "order" else None)
        data["is_order"].append(1 if step == "order" else 0)
        data["device"].append(channel)
    return ibis.memtable(pa.table(data, schema=SCHEMA))


@pytest.fixture(scope="module")
def mem_store() -> Iterator[Store]:
    s = DuckDBStore.open(":memory:")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def run(mem_store: Store) -> Callable[[ibis.Table], list[dict[str, Any]]]:
    """Execute an expression, rows as dicts."""

    def execute(expr: ibis.Table) -> list[dict[str, Any]]:
        return mem_store.to_arrow(expr).to_pylist()

    return execute
