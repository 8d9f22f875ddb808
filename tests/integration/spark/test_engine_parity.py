"""Parity: the same build on DuckDB and on Spark (local[2]) gives the same results.

One generated shop is ingested into DuckDB (with every segment template), exported to a
warehouse, then built on both engines with the same steps and the same as-of date. Compared:
every trait, the affinities, the CLV summary and the ``clv`` table, and the segment
memberships (snapshots) and run counts. Floats are compared with a relative tolerance of 1e-6
only because sums run in a different order on each engine, which moves a maximum-likelihood
fit in its last digits; everything else must be equal.

Known engine difference (marked below): ``price_band`` affinities use ``approx_quantile``,
which is a t-digest on DuckDB and Greenwald-Khanna on Spark — lines near a cut can fall in
different bands, so those rows (and ``top_price_band*``) are compared separately, as xfail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from personae.app.clv import build_clv, clv_summary
from personae.app.reads import last_data_date
from personae.app.segments.run import evaluate_segments
from personae.app.traits import build_affinities, build_traits
from personae.config import load_settings
from personae.store import DuckDBStore, Store
from personae.store.export import export_to_warehouse
from personae.store.spark import SparkStore

pytestmark = [pytest.mark.slow, pytest.mark.spark]

APPROXIMATE = ["top_price_band", "top_price_band_strength"]


def core_build(store: Store, as_of: date) -> None:
    """The steps issue 11 names: identity (resolved tables), affinities, CLV, traits/RFM/lifecycle,
    batch segments — the library functions ``personae build`` runs, in its order."""
    s = load_settings()
    build_affinities(store, as_of, s.traits)
    build_clv(store, as_of, s.clv)
    build_traits(store, as_of, s.traits)
    evaluate_segments(store, as_of, s.traits)


@dataclass
class Built:
    duck: Store
    spark: Store
    as_of: date


@pytest.fixture(scope="module")
def built(spark: Any, shop_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("parity")
    db = root / "duck.duckdb"
    shutil.copy(shop_db, db)
    duck = DuckDBStore.open(db)
    export_to_warehouse(duck, root / "warehouse")  # the canonical tables, before any build
    as_of = last_data_date(duck)
    core_build(duck, as_of)
    sp = SparkStore.open(root / "warehouse", session=spark)
    assert last_data_date(sp) == as_of
    core_build(sp, as_of)
    yield Built(duck, sp, as_of)
    sp.close()
    duck.close()


def frame(store: Store, name: str, keys: list[str]) -> pd.DataFrame:
    df = store.execute(store.table(name))
    return df.sort_values(keys).reset_index(drop=True)


def assert_same(a: pd.DataFrame, b: pd.DataFrame, *, rtol: float = 1e-6) -> None:
    """Equal frames: same columns and rows; floats within ``rtol``; lists compared as lists."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            np.testing.assert_allclose(xs, ys, rtol=rtol, atol=1e-9, equal_nan=True, err_msg=col)
        else:
            xl = [_plain(v) for v in x]
            yl = [_plain(v) for v in y]
            bad = [(i, u, v) for i, (u, v) in enumerate(zip(xl, yl, strict=True)) if u != v]
            assert not bad, f"{col}: {len(bad)} rows differ, e.g. {bad[:3]}"


def accept_float_ties(store: Store, duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Where ``top_<kind>`` differs, accept Spark's pick if it ties with DuckDB's within 1e-9.

    The top affinity is the highest strength, then the highest spend, then the first value
    alphabetically. Spend is a float sum; summed in another order it can differ in the last
    bit, and an exact tie on one engine becomes a 1-ulp win on the other. Anything more than
    that is a real difference and fails the test.
    """
    a = store.execute(store.table("affinities"))
    for col in [c for c in duck.columns if c.startswith("top_") and not c.endswith("_strength")]:
        kind = col.removeprefix("top_")
        for i in np.flatnonzero((duck[col].fillna("") != spark[col].fillna("")).to_numpy()):
            cid, ours, theirs = duck.customer_id[i], duck[col][i], spark[col][i]
            rows = a[(a.customer_id == cid) & (a.kind == kind) & a.value.isin([ours, theirs])]
            assert len(rows) == 2, f"{col} of {cid}: {ours!r} vs {theirs!r}"
            (s1, s2), (m1, m2) = rows.strength.tolist(), rows.spend.tolist()
            assert abs(s1 - s2) < 1e-9 and abs(m1 - m2) <= 1e-9 * max(abs(m1), 1), f"{col} of {cid}"
            spark.loc[i, col] = ours


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray | list):
        return [_plain(x) for x in v]
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        return v.item()
    return v


def test_the_spark_build_wrote_to_the_warehouse_not_duckdb(built: Built) -> None:
    assert isinstance(built.spark, SparkStore)
    assert built.spark.count("traits") == built.duck.count("traits") > 40


def test_traits_are_the_same_on_both_engines(built: Built) -> None:
    duck = frame(built.duck, "traits", ["customer_id"]).drop(columns=APPROXIMATE)
    spark = frame(built.spark, "traits", ["customer_id"]).drop(columns=APPROXIMATE)
    accept_float_ties(built.duck, duck, spark)
    assert_same(duck, spark)
    assert duck["rfm_segment"].notna().all() and duck["lifecycle_stage"].notna().all()


def test_affinities_are_the_same_on_both_engines(built: Built) -> None:
    keys = ["customer_id", "kind", "value"]
    duck, spark = frame(built.duck, "affinities", keys), frame(built.spark, "affinities", keys)
    duck = duck[duck.kind != "price_band"].reset_index(drop=True)
    spark = spark[spark.kind != "price_band"].reset_index(drop=True)
    assert len(duck) > 100
    assert_same(duck, spark)


@pytest.mark.xfail(
    reason="approx_quantile differs by engine (DuckDB t-digest, Spark Greenwald-Khanna): price-band "
    "cuts, hence price_band affinities, can differ near a cut",
    strict=False,
)
def test_price_band_affinities_match(built: Built) -> None:
    keys = ["customer_id", "kind", "value"]
    duck, spark = frame(built.duck, "affinities", keys), frame(built.spark, "affinities", keys)
    assert_same(
        duck[duck.kind == "price_band"].reset_index(drop=True),
        spark[spark.kind == "price_band"].reset_index(drop=True),
    )


def test_clv_summary_and_model_outputs_are_the_same(built: Built) -> None:
    for unit in ("D", "W"):
        a = clv_summary(built.duck, as_of=built.as_of, time_unit=unit)
        b = clv_summary(built.spark, as_of=built.as_of, time_unit=unit)
        assert len(a) > 40
        assert_same(a.reset_index(drop=True), b.reset_index(drop=True), rtol=1e-12)
    assert_same(frame(built.duck, "clv", ["customer_id"]), frame(built.spark, "clv", ["customer_id"]))
    params_duck = built.duck.execute(built.duck.table("clv_params")).drop(columns=["as_of"])
    params_spark = built.spark.execute(built.spark.table("clv_params")).drop(columns=["as_of"])
    assert_same(params_duck, params_spark)


def test_segment_memberships_are_identical(built: Built) -> None:
    keys = ["segment", "as_of", "customer_id"]
    duck, spark = frame(built.duck, "segment_snapshots", keys), frame(built.spark, "segment_snapshots", keys)
    assert duck.segment.nunique() >= 20 and len(duck) > 100  # built-in and every template
    assert_same(duck, spark)
    cols = ["segment", "as_of", "version", "rule", "builtin", "members"]
    runs_duck = frame(built.duck, "segment_runs", ["segment"])[cols]
    runs_spark = frame(built.spark, "segment_runs", ["segment"])[cols]
    assert_same(runs_duck, runs_spark)
