"""One Spark session for the whole test run (starting a JVM takes seconds), and one small shop.

Every test here needs Java 17+ and pyspark (``make install`` installs pyspark; Java is part of
the machine). Without Java they are skipped with that reason; nothing else skips them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personae.app.demo import INGEST_ORDER
from personae.app.ingest import ingest_file
from personae.app.segments.library import install_templates
from personae.config import load_settings
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java 17+ (`java` is not on PATH)")
    pytest.importorskip("pyspark", reason="pyspark is not installed (make install adds it)")
    from personae.store.spark import spark_session

    # two cores and two shuffle partitions: small data, least overhead
    session = spark_session("local[2]", conf={"spark.sql.shuffle.partitions": "2"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated shop (60 customers) ingested into DuckDB, with every segment template installed."""
    root = tmp_path_factory.mktemp("spark-shop")
    files = generate_dataset(60, 11, root / "files", fmt="csv")
    db = root / "shop.duckdb"
    identity = load_settings().identity
    with DuckDBStore.open(db) as store:
        for kind in INGEST_ORDER:
            ingest_file(store, kind, files[kind], identity=identity)
        install_templates(store)
    return db
