"""A small generated shop, built once per session for the personalization tests (copied per test
module that writes)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from personae.store import DuckDBStore, Store


@pytest.fixture(scope="session")
def shop_db(tmp_path_factory: pytest.TempPathFactory, make_shop: Callable[..., Path]) -> Path:
    return make_shop(tmp_path_factory.mktemp("personalize_shop"), 800, 3)


@pytest.fixture
def shop(shop_db: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the built shop."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(shop_db, path)
    with DuckDBStore.open(path) as store:
        yield store
