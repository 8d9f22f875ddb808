"""Migrations developed side by side: a step numbered below the newest one applied still runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import personae.store.migrations as migrations
from personae.store import DuckDBStore


def _creates(table: str) -> object:
    def apply(con: object) -> None:
        con.execute(f"CREATE TABLE {table} (x INTEGER)")  # type: ignore[attr-defined]

    return apply


def test_a_lower_numbered_step_added_later_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.duckdb"
    known = migrations.MIGRATIONS
    top = migrations.CURRENT_VERSION
    early = migrations.Migration(top + 2, "merged first", _creates("merged_first"))  # type: ignore[arg-type]
    late = migrations.Migration(top + 1, "merged later", _creates("merged_later"))  # type: ignore[arg-type]
    monkeypatch.setattr(migrations, "MIGRATIONS", (*known, early))
    monkeypatch.setattr(migrations, "CURRENT_VERSION", top + 2)
    DuckDBStore.open(path).close()
    monkeypatch.setattr(migrations, "MIGRATIONS", (*known, late, early))
    with DuckDBStore.open(path) as store:
        assert store.has_table("merged_first") and store.has_table("merged_later")
    with DuckDBStore.open(path) as store:  # and each step only once
        counts = store.raw.execute("SELECT version, count(*) FROM _personae_schema GROUP BY 1").fetchall()
        assert all(n == 1 for _, n in counts) and {top + 1, top + 2} <= {v for v, _ in counts}
