"""Reading the rejects table: every row that ingestion refused, with its line and reason."""

from __future__ import annotations

from typing import Any

from personae.store import Store


def list_rejects(
    store: Store, *, kind: str | None = None, file: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rejected rows, oldest ingest first, then by line."""
    t = store.table("rejects")
    if kind:
        t = t.filter(t.kind == kind)
    if file:
        t = t.filter(t.file.contains(file))
    t = t.order_by([t.rejected_at, t.file, t.line])
    if limit:
        t = t.limit(limit)
    df = store.execute(t.select("file", "line", "kind", "reason", "raw", "ingest_id", "rejected_at"))
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]
    for r in rows:
        r["line"] = int(r["line"])
        r["rejected_at"] = str(r["rejected_at"])
    return rows
