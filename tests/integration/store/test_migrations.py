"""Schema versions: new databases are current, old ones are migrated, newer ones refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from personae.app.ingest import ingest_file
from personae.config import load_settings
from personae.errors import SchemaVersionError, StoreError
from personae.schema import TABLES
from personae.store import CURRENT_VERSION, DuckDBStore, Store, default_db_path
from personae.store.migrations import MIGRATIONS, current_version

V2_V3_TABLES = ("ingest_runs", "rejects", "identity_links", "identity_map", "identity_merges")


def versions(store: Store) -> list[int]:
    return [
        r[0] for r in store.raw.execute("SELECT version FROM _personae_schema ORDER BY version").fetchall()
    ]


def test_new_database_gets_the_current_version(db_path: Path) -> None:
    with DuckDBStore.open(db_path) as store:
        assert current_version(store.raw) == CURRENT_VERSION
        assert versions(store) == [m.version for m in MIGRATIONS]
        for name in (*TABLES, *V2_V3_TABLES):
            assert store.has_table(name), name


def test_in_memory_database_is_migrated_too() -> None:
    with DuckDBStore.open(":memory:") as store:
        assert current_version(store.raw) == CURRENT_VERSION


def test_reopening_a_current_database_applies_nothing(db_path: Path) -> None:
    DuckDBStore.open(db_path).close()
    with DuckDBStore.open(db_path) as store:
        assert versions(store) == [m.version for m in MIGRATIONS]  # no step recorded twice


def test_version_1_database_is_migrated_on_open(db_path: Path, write_rows) -> None:
    with DuckDBStore.open(db_path) as store:
        ingest_file(
            store,
            "orders",
            write_rows("o.csv", [{"customer_id": "C1", "ordered_at": "2024-01-01", "amount": "3"}]),
        )
    # turn it into a version-1 database: only the canonical tables, and their data
    con = duckdb.connect(str(db_path))
    for name in V2_V3_TABLES:
        con.execute(f"DROP TABLE {name}")
    con.execute("DELETE FROM _personae_schema WHERE version > 1")
    con.close()

    with DuckDBStore.open(db_path) as store:
        assert current_version(store.raw) == CURRENT_VERSION
        assert versions(store) == [m.version for m in MIGRATIONS]
        for name in V2_V3_TABLES:
            assert store.has_table(name), name
        assert store.count("orders") == 1  # data of version 1 is kept
        # and the migrated store works end to end
        summary = ingest_file(
            store,
            "customers",
            write_rows(
                "c.csv",
                [{"customer_id": "C1", "email": "a@x.com"}, {"customer_id": "C2", "email": "a@x.com"}],
            ),
        )
        assert summary.merges == 1


def test_newer_database_is_refused_with_a_clear_message(db_path: Path) -> None:
    with DuckDBStore.open(db_path) as store:
        store.raw.execute("INSERT INTO _personae_schema VALUES (999, 'from the future', now())")
    with pytest.raises(SchemaVersionError) as info:
        DuckDBStore.open(db_path)
    message = str(info.value)
    assert str(db_path) in message
    assert "schema version 999" in message
    assert f"up to version {CURRENT_VERSION}" in message
    assert "upgrade personae" in message
    assert isinstance(info.value, StoreError)
    # the refused database is left closed and unlocked: another process can open it
    probe = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", str(db_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    # and it was not touched
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT max(version) FROM _personae_schema").fetchone()[0] == 999
    con.close()


def test_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"folder .* does not exist"):
        DuckDBStore.open(tmp_path / "no" / "such" / "dir" / "p.duckdb")


def test_personae_db_environment_variable_selects_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "from_env.duckdb"
    monkeypatch.setenv("PERSONAE_DB", str(target))
    monkeypatch.chdir(tmp_path)
    assert default_db_path() == target
    assert load_settings().db == target
    assert load_settings(db=tmp_path / "explicit.duckdb").db == tmp_path / "explicit.duckdb"
    with DuckDBStore.open() as store:
        assert store.path == str(target)
    assert target.exists()


def test_default_database_is_in_the_working_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSONAE_DB", raising=False)
    assert default_db_path() == Path("personae.duckdb")
