"""The rejects table: every row that ingestion refused, with its line and reason; and clearing
them once they are dealt with (fixed and ingested again, or known to be junk)."""

from __future__ import annotations

from typing import Any

from personae.errors import InputError
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


def clear_rejects(
    store: Store, *, ingest_id: str | None = None, file: str | None = None, everything: bool = False
) -> int:
    """Delete the rejected rows of one ingest run, of one file, or all of them; how many went.

    Exactly one of ``ingest_id``, ``file`` (the path as ingested, as ``personae rejects`` shows
    it) or ``everything`` says which: clearing is never implicit. The raw lines go with them, so a
    failed run's personal data does not stay in the store.
    """
    chosen = [
        name for name, given in (("--ingest", ingest_id), ("--file", file), ("--all", everything)) if given
    ]
    if len(chosen) != 1:
        raise InputError(
            "say which rejects to clear" if not chosen else f"choose one of {', '.join(chosen)}",
            hint="--ingest ID (from `personae rejects --json`), --file PATH or --all",
        )
    t = store.table("rejects")
    if ingest_id is not None:
        column, values = "ingest_id", [ingest_id]
    elif file is not None:
        column, values = "file", [file]
    else:  # every reject carries its ingest run's id (file ingest and the tracking API alike)
        ids = store.to_arrow(t.select("ingest_id").distinct()).column(0).to_pylist()
        column, values = "ingest_id", [i for i in ids if i is not None]
    n = store.to_arrow(t.filter(t[column].isin(values)).select("line")).num_rows if values else 0
    if n:
        with store.transaction():
            store.delete_where_in("rejects", column, values)
    return n
