"""Parity: ingesting the same files on DuckDB and on Spark (local[2]) stores the same rows.

Compared: each ingest's summary, every stored row of the table (but ``_ingested_at``, the
clock), the rejects (file, line, reason, raw), the identity links and map. The files are a
generated shop with broken, repeated and conflicting order lines added; then a re-ingest (adds
nothing), a folder of two CSV files (Spark reads it at once, DuckDB file by file), and the
same orders as JSON Lines and Parquet.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from personae.app.demo import INGEST_ORDER
from personae.app.ingest import IngestSummary, ingest_file
from personae.app.privacy import erase_customer, find_subject
from personae.config import load_settings
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore, Store
from personae.store.spark import SparkStore

pytestmark = [pytest.mark.slow, pytest.mark.spark]

COUNTS = ("read", "accepted", "rejected", "duplicates", "updated", "merges", "conflicts")


def counts(s: IngestSummary) -> tuple[int, ...]:
    return tuple(getattr(s, c) for c in COUNTS)


def rows(
    store: Store, table: str, drop: tuple[str, ...] = ("_ingested_at", "rejected_at", "ingest_id", "seen_at")
) -> pd.DataFrame:
    """The table's rows in a canonical order, every value as text (lists included)."""
    frame = store.to_arrow(store.table(table)).to_pandas()
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    frame = frame.map(
        lambda v: json.dumps(list(v)) if hasattr(v, "__len__") and not isinstance(v, str) else v
    )
    frame = frame.astype(str)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def with_trouble(files: dict[str, Path]) -> None:
    """Orders: an exact duplicate, a bad date, a wrong field count, a blank line. Events: the
    same event id with other content (a conflict) and an exact duplicate."""
    orders = files["orders"].read_text().splitlines()
    bad_date = orders[2].replace('"2023-', '"20x3-', 1)
    orders += [orders[1], bad_date, "garbage,,,", "", orders[3]]
    files["orders"].write_text("\n".join(orders) + "\n")
    events = files["events"].read_text().splitlines()
    later = re.sub(r'"(\d{4})-', lambda m: f'"{int(m[1]) + 1}-', events[4], count=1)
    events += [later, events[6]]
    files["events"].write_text("\n".join(events) + "\n")


@dataclass
class Pair:
    duck: Store
    spark: SparkStore
    files: dict[str, Path]
    root: Path


@pytest.fixture(scope="module")
def pair(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("spark-ingest")
    files = generate_dataset(50, 5, root / "files", fmt="csv")
    with_trouble(files)
    with DuckDBStore.open(root / "shop.duckdb") as duck, SparkStore.open(root / "wh", session=spark) as sp:
        yield Pair(duck, sp, files, root)


@pytest.fixture(scope="module")
def ingested(pair: Pair) -> dict[str, tuple[IngestSummary, IngestSummary]]:
    identity = load_settings().identity
    out = {}
    for kind in INGEST_ORDER:
        a = ingest_file(pair.duck, kind, pair.files[kind], identity=identity)
        b = ingest_file(pair.spark, kind, pair.files[kind], identity=identity)
        out[kind] = (a, b)
    return out


def test_same_summaries(ingested: dict[str, tuple[IngestSummary, IngestSummary]]) -> None:
    for kind, (a, b) in ingested.items():
        assert counts(b) == counts(a), kind
        assert b.read == b.accepted + b.rejected + b.duplicates
    orders, events = ingested["orders"][1], ingested["events"][1]
    assert orders.rejected == 2 and orders.duplicates == 2
    assert events.conflicts == 1 and events.duplicates == 1


@pytest.mark.parametrize("table", [*INGEST_ORDER, "identity_links", "identity_map"])
def test_same_rows(pair: Pair, ingested: dict[str, Any], table: str) -> None:
    pd.testing.assert_frame_equal(rows(pair.spark, table), rows(pair.duck, table))


def test_same_rejects(pair: Pair, ingested: dict[str, Any]) -> None:
    spark_rejects = rows(pair.spark, "rejects")
    assert len(spark_rejects) == 3  # a bad date, a wrong field count, a conflict
    pd.testing.assert_frame_equal(spark_rejects, rows(pair.duck, "rejects"))
    reasons = " | ".join(spark_rejects["reason"])
    assert "wrong number of fields" in reasons and "different content" in reasons


def test_reingest_adds_nothing(pair: Pair, ingested: dict[str, Any]) -> None:
    identity = load_settings().identity
    before = pair.spark.count("orders"), pair.spark.count("rejects")
    a = ingest_file(pair.duck, "orders", pair.files["orders"], identity=identity)
    b = ingest_file(pair.spark, "orders", pair.files["orders"], identity=identity)
    assert counts(b) == counts(a)
    assert b.accepted == 0 and b.duplicates == b.read - b.rejected
    assert (pair.spark.count("orders"), pair.spark.count("rejects")) == before


def test_folder_is_its_files(spark: Any, pair: Pair, tmp_path: Path) -> None:
    """A folder on Spark stores what its files ingested one by one on DuckDB store."""
    folder = tmp_path / "orders"
    folder.mkdir()
    lines = pair.files["orders"].read_text().splitlines()
    header, body = lines[0], lines[1:]
    half = len(body) // 2
    (folder / "a.csv").write_text("\n".join([header, *body[:half]]) + "\n")
    (folder / "b.csv").write_text("\n".join([header, *body[half:], body[0]]) + "\n")  # b repeats a's line
    (folder / "notes.txt.bak").write_text("not an order file")
    identity = load_settings().identity
    with (
        DuckDBStore.open(tmp_path / "d.duckdb") as duck,
        SparkStore.open(tmp_path / "wh", session=spark) as sp,
    ):
        one_by_one = [ingest_file(duck, "orders", folder / n, identity=identity) for n in ("a.csv", "b.csv")]
        at_once = ingest_file(sp, "orders", folder, identity=identity)
        for field in ("read", "accepted", "rejected", "duplicates"):
            assert getattr(at_once, field) == sum(getattr(s, field) for s in one_by_one), field
        pd.testing.assert_frame_equal(rows(sp, "orders"), rows(duck, "orders"))
        spark_rejects = rows(sp, "rejects")
        assert set(spark_rejects["file"]) <= {str(folder / "a.csv"), str(folder / "b.csv")}
        assert sorted(spark_rejects["line"]) == sorted(rows(duck, "rejects")["line"])


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_formats(spark: Any, pair: Pair, tmp_path: Path, fmt: str) -> None:
    clean = tmp_path / "orders.csv"
    shutil.copy(pair.files["orders"], clean)
    table = pacsv.read_csv(pair.root / "files" / "customers.csv")  # a file with no trouble added
    path = tmp_path / f"customers.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        lines = [
            json.dumps({k: v for k, v in r.items() if v is not None}, default=str) for r in table.to_pylist()
        ]
        path.write_text("\n".join([*lines, "{not json", "[1, 2]"]) + "\n")
    identity = load_settings().identity
    with (
        DuckDBStore.open(tmp_path / "d.duckdb") as duck,
        SparkStore.open(tmp_path / "wh", session=spark) as sp,
    ):
        a = ingest_file(duck, "customers", path, identity=identity)
        b = ingest_file(sp, "customers", path, identity=identity)
        assert counts(b) == counts(a)
        pd.testing.assert_frame_equal(rows(sp, "customers"), rows(duck, "customers"))
        pd.testing.assert_frame_equal(rows(sp, "rejects"), rows(duck, "rejects"))


def _file_text(path: Path) -> str:
    """A warehouse file's bytes, and for a Parquet file its values too (pages are compressed)."""
    data = path.read_bytes().decode("latin-1")
    if path.suffix == ".parquet":
        data += pq.read_table(path).to_pandas().astype(str).to_string()
    return data


def test_erasure_parity_and_no_byte_left(pair: Pair, ingested: dict[str, Any]) -> None:
    """Erasing one person on both engines leaves the same rows; no warehouse file, live or
    not, holds their id or email afterwards (the old parts are deleted at the commit)."""
    identity = load_settings().identity
    customers = rows(pair.duck, "customers")
    orders = rows(pair.duck, "orders")
    person = customers[customers["customer_id"].isin(orders["customer_id"]) & (customers["email"] != "None")]
    cid, email = person["customer_id"].iloc[0], person["email"].iloc[0]
    wh = pair.root / "wh"
    assert any(email in _file_text(f) for f in wh.rglob("*") if f.is_file())
    tokens = []
    for store in (pair.duck, pair.spark):
        subject = find_subject(store, cid, default_country_code=identity.default_country_code)
        result = erase_customer(store, subject, reason=f"request from {email}", actor="test")
        tokens.append(result["token"])
    for table in [*INGEST_ORDER, "identity_links", "identity_map", "rejects", "erasures"]:
        drop = ("_ingested_at", "rejected_at", "ingest_id", "seen_at", "erased_at")
        a = rows(pair.duck, table, drop).replace(tokens[0], "TOKEN", regex=True)
        b = rows(pair.spark, table, drop).replace(tokens[1], "TOKEN", regex=True)
        pd.testing.assert_frame_equal(
            b.sort_values(list(b.columns)).reset_index(drop=True),
            a.sort_values(list(a.columns)).reset_index(drop=True),
            obj=table,
        )
    leaks = [
        str(f)
        for f in wh.rglob("*")
        if f.is_file() and (email in (t := _file_text(f)) or f'"{cid}"' in t or cid in t)
    ]
    assert not leaks
    live = {p for parts in pair.spark.warehouse.load().values() for p in parts}
    on_disk = {f"{d.parent.name}/{d.name}" for d in wh.glob("*/*") if d.is_dir()}
    assert on_disk == live  # no orphaned part


def test_a_failed_ingest_leaves_the_warehouse_as_it_was(
    spark: Any, pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: a failure at the last write (the run record) publishes no row, no reject,
    and leaves no part or staging file behind."""
    with SparkStore.open(tmp_path / "wh", session=spark) as sp:
        before = sp.warehouse.load()
        files_before = sorted(str(f) for f in (tmp_path / "wh").rglob("*") if f.is_file())
        original = SparkStore.append

        def failing(self: SparkStore, name: str, data: Any, **kw: Any) -> int:
            if name == "ingest_runs":
                raise RuntimeError("disk full")
            return original(self, name, data, **kw)

        monkeypatch.setattr(SparkStore, "append", failing)
        with pytest.raises(RuntimeError, match="disk full"):
            ingest_file(sp, "orders", pair.files["orders"], identity=load_settings().identity)
        assert sp.warehouse.load() == before
        assert sp.count("orders") == 0 and sp.count("rejects") == 0
        after = sorted(str(f) for f in (tmp_path / "wh").rglob("*") if f.is_file())
        assert after == files_before
