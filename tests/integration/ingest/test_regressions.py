"""Bugs found along the way, each pinned by a test."""

from __future__ import annotations

from pathlib import Path

from personae.app.ingest import ingest_file
from personae.store import Store


def test_jsonl_where_every_line_is_broken_rejects_each_line(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text('{bad\n{"customer_id": \n[1, 2]\n', encoding="utf-8")
    s = ingest_file(store, "events", f)
    assert (s.read, s.accepted, s.rejected) == (3, 0, 3)
    lines = store.execute(store.table("rejects").select("line"))["line"].tolist()
    assert sorted(lines) == [1, 2, 3]


def test_long_csv_field_is_read_not_fatal(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "surveys.csv"
    long_comment = "x" * 200_000
    f.write_text(
        "customer_id,answered_at,kind,score,comment\n"
        f'C1,2025-01-01,nps,9,"{long_comment}"\n'
        "C2,2025-01-02,nps,11,\n"
        "C3,2025-01-03,nps,3,\n\n",  # a blank line forces the line-exact reader
        encoding="utf-8",
    )
    s = ingest_file(store, "surveys", f)
    assert (s.read, s.accepted, s.rejected) == (3, 2, 1)
