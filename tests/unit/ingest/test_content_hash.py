"""The row hash is stored (``_row_hash``, and in fact keys): a faster computation must give
exactly the numbers pandas' ``hash_pandas_object`` gave, or re-ingesting a file stored by an
older personae would find new rows instead of duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.app.ingest.keys import content_hash
from personae.schema import TABLES


def _pandas_hash(frame: pd.DataFrame, kind: str) -> list[str]:
    """The original definition: pandas' frame hash, the late columns dropped where empty."""
    spec = TABLES[kind]
    cols = {}
    for c in spec.columns:
        s = frame[c.name]
        if c.type == "list":
            s = s.map(lambda v: ";".join(v) if isinstance(v, list) else None)
        cols[c.name] = s
    table = pd.DataFrame(cols)
    hashed = pd.util.hash_pandas_object(table, index=False).to_numpy()
    late = [c.name for c in spec.columns if c.late]
    if late:
        with_late = table[late].notna().any(axis=1).to_numpy()
        early = table[[c.name for c in spec.columns if not c.late]]
        hashed = np.where(with_late, hashed, pd.util.hash_pandas_object(early, index=False).to_numpy())
    return [f"{h:016x}" for h in hashed]


def _frame(kind: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = {}
    for c in TABLES[kind].columns:
        if c.type in ("float", "int"):
            v = rng.choice([1.0, -0.0, 0.0, 2.5, 1e12, np.nan], n)
        elif c.type in ("timestamp", "date"):
            v = pd.Series(pd.to_datetime(rng.choice(["2024-01-05 00:00:00", "2023-12-31 10:00:00", None], n)))
        elif c.type == "bool":
            v = pd.Series(rng.choice(np.array([True, False, None], dtype=object), n), dtype=object)
        elif c.type == "list":
            v = pd.Series([[["a", "b"], None, ["é"]][i % 3] for i in rng.integers(0, 3, n)], dtype=object)
        else:
            texts = np.array(["x", "Ünïcode 中", "", None, "1"], dtype=object)
            v = pd.Series(rng.choice(texts, n), dtype=object)
        out[c.name] = v
    return pd.DataFrame(out)


@pytest.mark.parametrize("kind", ["orders", "customers", "events", "texts", "consents"])
def test_content_hash_is_pandas_frame_hash(kind: str) -> None:
    for seed in range(3):
        frame = _frame(kind, 500, seed)
        assert content_hash(frame, TABLES[kind]).tolist() == _pandas_hash(frame, kind)


def test_all_null_and_boolean_text_columns_hash_as_pandas_does() -> None:
    frame = _frame("orders", 50, 7)
    frame["channel"] = pd.Series([None] * 50, dtype=object)  # no value at all
    frame["store_id"] = pd.Series([True, False] * 25, dtype=object)  # not strings: pandas' path
    assert content_hash(frame, TABLES["orders"]).tolist() == _pandas_hash(frame, "orders")
