"""A generated shop (1,500 customers, seed 3), built and clustered once per run; copies per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personae.app.clusters import build_clusters
from personae.app.clv import build_clv
from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.app.segments.run import evaluate_segments
from personae.app.traits import build_affinities, build_traits
from personae.config import load_settings
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore, Store

KINDS = ("stores", "products", "customers", "consents", "orders", "events", "surveys")


def build(store: Store) -> None:
    """The build steps these tests need (traits, CLV, segments)."""
    s = load_settings()
    as_of = last_data_date(store)
    build_affinities(store, as_of, s.traits)
    build_clv(store, as_of, s.clv)
    build_traits(store, as_of, s.traits)
    evaluate_segments(store, as_of, s.traits)


@pytest.fixture(scope="session")
def clustered_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("clusters")
    files = generate_dataset(1500, 3, folder / "data")
    db = folder / "clustered.duckdb"
    with DuckDBStore.open(db) as store:
        for kind in KINDS:
            ingest_file(store, kind, files[kind])
        build(store)
        result = build_clusters(store, k=6, seed=0, resamples=2)
    return {"db": db, "truth": files["truth"], "result": result}


@pytest.fixture
def clustered(clustered_files: dict[str, Any], tmp_path: Path) -> Iterator[Store]:
    """A fresh copy of the clustered shop."""
    target = tmp_path / "copy.duckdb"
    shutil.copy(clustered_files["db"], target)
    store = DuckDBStore.open(target)
    try:
        yield store
    finally:
        store.close()
