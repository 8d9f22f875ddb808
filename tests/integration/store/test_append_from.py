"""``Store.append_from``: the rows of a view in another DuckDB file, in one statement."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from personae.store import DuckDBStore
from personae.store.base import Store


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "scratch.duckdb"
    con = duckdb.connect(str(path))
    # columns in another order than the store's, and one row the view leaves out
    con.execute(
        "CREATE TABLE staged AS SELECT 'C' || range AS customer_id, 'x' || range || '@e.com' AS email "
        "FROM range(5000)"
    )
    con.execute("CREATE VIEW to_add AS SELECT email, customer_id FROM staged WHERE customer_id <> 'C7'")
    con.close()
    return path


def _attached(store: DuckDBStore) -> list[str]:
    return [r[0] for r in store.raw.execute("SELECT database_name FROM duckdb_databases()").fetchall()]


def test_rows_go_in_by_name_and_the_file_is_let_go(tmp_path: Path, source: Path) -> None:
    with DuckDBStore.open(tmp_path / "p.duckdb") as store:
        seen: list[float] = []
        with store.transaction():
            assert store.append_from("customers", source, "to_add", progress=seen.append) == 4999
        assert store.count("customers") == 4999
        assert not [d for d in _attached(store) if d.startswith("_src_")]
        row = store.raw.execute("SELECT email FROM customers WHERE customer_id = 'C3'").fetchone()
        assert row == ("x3@e.com",)
        assert all(0.0 <= f <= 1.0 for f in seen)
    source.unlink()  # nothing holds the scratch file any more


def test_a_rolled_back_transaction_takes_the_rows_back(tmp_path: Path, source: Path) -> None:
    with DuckDBStore.open(tmp_path / "p.duckdb") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.append_from("customers", source, "to_add")
            raise RuntimeError("the machine fell over")
        assert store.count("customers") == 0
        assert not [d for d in _attached(store) if d.startswith("_src_")]
        # and the store goes on working
        with store.transaction():
            store.append_from("customers", source, "to_add")
        assert store.count("customers") == 4999


def test_the_default_streams_the_rows_for_engines_that_cannot_read_the_file(
    tmp_path: Path, source: Path
) -> None:
    with DuckDBStore.open(tmp_path / "p.duckdb") as store:
        assert Store.append_from(store, "customers", source, "to_add") == 4999
        assert store.count("customers") == 4999


def test_no_connection_draws_duckdbs_progress_bar_on_standard_output(tmp_path: Path) -> None:
    # DuckDB's Python client draws a bar on stdout for any statement over two seconds: on a
    # large store that put bars into `--json` and CSV output (found by the 100M-line benchmark)
    from personae.store.scratch import scratch

    settings = "SELECT value FROM duckdb_settings() WHERE name = 'enable_progress_bar'"
    with DuckDBStore.open(tmp_path / "p.duckdb") as store:
        assert store.raw.execute(settings).fetchone() == ("false",)
    with scratch() as work:
        assert work.con.execute(settings).fetchone() == ("false",)
