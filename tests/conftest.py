"""Fixtures shared by the whole suite: a real store, and writers for small input files.

Rows are written from Python values so the same rows can be written as CSV, JSON Lines or
Parquet: CSV gets text (lists ``a;b``, dicts as JSON, booleans ``true``/``false``), JSON Lines
gets JSON (dates as ISO text) and Parquet gets typed columns (timestamps, dates, lists).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import settings

from personae.store import DuckDBStore, Store

# Speed is measured in benchmarks, never asserted in tests: Hypothesis's default 200 ms
# deadline per example failed tests on the shared 2-core machine under load.
settings.register_profile("personae", deadline=None)
settings.load_profile("personae")

Rows = list[dict[str, Any]]
WriteRows = Callable[..., Path]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "personae.duckdb"


@pytest.fixture
def store() -> Iterator[Store]:
    """A freshly migrated in-memory database (real DuckDB, nothing on disk: fast)."""
    s = DuckDBStore.open(":memory:")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def file_store(db_path: Path) -> Iterator[Store]:
    """A freshly migrated database in a real DuckDB file (commits go to disk)."""
    s = DuckDBStore.open(db_path)
    try:
        yield s
    finally:
        s.close()


def _columns(rows: Rows) -> list[str]:
    names: dict[str, None] = {}
    for r in rows:
        for k in r:
            names.setdefault(k, None)
    return list(names)


def csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def _quote_csv(text: str, delimiter: str) -> str:
    if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime | date) else v


def write_rows_to(
    path: Path, rows: Rows, fmt: str | None = None, *, delimiter: str = ",", bom: bool = False
) -> Path:
    """Write ``rows`` (dicts of Python values) to ``path`` as csv, jsonl or parquet."""
    fmt = fmt or path.suffix.lstrip(".")
    cols = _columns(rows)
    if fmt == "csv":
        lines = [delimiter.join(_quote_csv(c, delimiter) for c in cols)]
        lines += [delimiter.join(_quote_csv(csv_cell(r.get(c)), delimiter) for c in cols) for r in rows]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    elif fmt == "jsonl":
        text = "".join(json.dumps({k: _jsonable(v) for k, v in r.items()}) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")
    elif fmt == "parquet":
        full = [{c: r.get(c) for c in cols} for r in rows]
        pq.write_table(pa.Table.from_pylist(full), path)
    else:
        raise ValueError(fmt)
    return path


@pytest.fixture
def write_rows(tmp_path: Path) -> WriteRows:
    """``write_rows("orders.csv", rows, fmt=None, delimiter=",", bom=False) -> Path``."""

    def write(name: str, rows: Rows, fmt: str | None = None, **kw: Any) -> Path:
        return write_rows_to(tmp_path / name, rows, fmt, **kw)

    return write


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file verbatim (text as UTF-8, or raw bytes) — for hand-made broken files."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return write


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every base table's full contents (rows as text, sorted) — to prove nothing changed."""
    names = [
        r[0]
        for r in store.raw.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]
    return {
        n: sorted(repr(row) for row in store.raw.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names
    }


def counts(store: Store) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(store).items()}


@pytest.fixture
def take_snapshot() -> Callable[[Store], dict[str, list[str]]]:
    return snapshot


@pytest.fixture
def table_counts() -> Callable[[Store], dict[str, int]]:
    return counts


def build_shop(
    root: Path,
    customers: int,
    seed: int,
    *,
    segments: bool = True,
    full_build: bool = False,
    kinds: Sequence[str] | None = None,
) -> Path:
    """A generated shop, ingested and built (affinities, traits and, by default, segments).

    The one way tests make a realistic built store; callers cache it with a session- or
    module-scoped fixture and copy the file when they write. ``full_build`` runs every step of
    ``personae build`` (CLV, experience, journeys …) instead; ``kinds`` ingests only those files.
    """
    from personae.app.demo import INGEST_ORDER
    from personae.app.ingest import ingest_file
    from personae.app.reads import last_data_date
    from personae.app.segments.run import evaluate_segments
    from personae.app.traits import build_affinities, build_traits
    from personae.config.traits import TraitSettings
    from personae.devtools.generate import generate_dataset

    files = generate_dataset(customers, seed, root / "shop")
    path = root / "shop.duckdb"
    with DuckDBStore.open(path) as store:
        for kind in INGEST_ORDER if kinds is None else kinds:
            ingest_file(store, kind, files[kind])
        if full_build:
            from personae.app.build import run_build

            run_build(store, quiet=True)
            return path
        as_of = last_data_date(store)
        build_affinities(store, as_of, TraitSettings())
        build_traits(store, as_of, TraitSettings())
        if segments:
            evaluate_segments(store, as_of, TraitSettings())
    return path


@pytest.fixture(scope="session")
def make_shop() -> Callable[..., Path]:
    """:func:`build_shop`, for fixtures in any test package (``make_shop(root, 800, seed=3)``)."""
    return build_shop
