"""A small generated shop, built once per session for the personalization tests (copied per test
module that writes)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from personae.build_steps import build_affinities, build_traits, last_data_date
from personae.demo import INGEST_ORDER
from personae.generate import generate_dataset
from personae.ingest import ingest_file
from personae.segments.run import evaluate_segments
from personae.store import Store
from personae.traits.settings import TraitSettings


@pytest.fixture(scope="session")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("personalize_shop")
    files = generate_dataset(800, 3, root / "shop")
    path = root / "shop.duckdb"
    with Store.open(path) as store:
        for kind in INGEST_ORDER:
            ingest_file(store, kind, files[kind])
        as_of = last_data_date(store)
        build_affinities(store, as_of, TraitSettings())
        build_traits(store, as_of, TraitSettings())
        evaluate_segments(store, as_of, TraitSettings())
    return path


@pytest.fixture
def shop(shop_db: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the built shop."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(shop_db, path)
    with Store.open(path) as store:
        yield store
