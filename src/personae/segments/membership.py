"""Memberships and their history: snapshots per build date, and entries/exits between them.

Each build stores, per segment, the members as of the build's date (a *snapshot*) and a *run*
row (segment, date, rule version, member count). Entries and exits of a segment at date D
compare its snapshot at D with its previous snapshot (the latest run of that segment before
D): customers only in D's snapshot *entered*, customers only in the previous one *exited*.
A segment's first snapshot is its baseline and records no changes.

Pure functions over Arrow tables and Ibis expressions; :mod:`personae.app.segments.run` stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SNAPSHOT_SCHEMA = pa.schema([("segment", pa.string()), ("as_of", pa.date32()), ("customer_id", pa.string())])


def long_members(wide: pa.Table, columns: Mapping[str, str], as_of: date) -> pa.Table:
    """``segment, as_of, customer_id`` rows from the one-column-per-segment evaluation result."""
    ids = wide.column("customer_id")
    names = list(columns)
    members = [pc.filter(ids, pc.fill_null(wide.column(columns[n]), False)) for n in names]
    counts = [len(m) for m in members]
    total = sum(counts)
    index = pa.array(np.repeat(np.arange(len(names), dtype=np.int32), counts))
    segment = pa.DictionaryArray.from_arrays(index, pa.array(names, pa.string())).cast(pa.string())
    chunks = [c for m in members for c in (m.chunks if isinstance(m, pa.ChunkedArray) else [m])]
    customer = pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())
    day = pa.array(np.full(total, (as_of - date(1970, 1, 1)).days, dtype=np.int32)).cast(pa.date32())
    return pa.Table.from_arrays([segment, day, customer.cast(pa.string())], schema=SNAPSHOT_SCHEMA)


def member_counts(wide: pa.Table, columns: Mapping[str, str]) -> dict[str, int]:
    """Members per segment in the evaluation result."""
    return {
        name: int(pc.sum(pc.fill_null(wide.column(col), False).cast(pa.int64())).as_py() or 0)
        for name, col in columns.items()
    }


def changes_at(snapshots: ibis.Table, runs: ibis.Table, as_of: date) -> ibis.Table:
    """Entries and exits of every segment that has a run at ``as_of`` and an earlier one.

    Columns: ``segment, customer_id, change ('entered'|'exited'), as_of, previous_as_of``.
    """
    day = ibis.date(as_of.isoformat())
    previous = runs.filter(runs.as_of < day).group_by("segment").aggregate(previous_as_of=runs.as_of.max())
    now = runs.filter(runs.as_of == day).select("segment")
    pairs = now.join(previous, "segment")
    current = snapshots.filter(snapshots.as_of == day).select("segment", "customer_id")
    current = current.join(pairs, "segment").select("segment", "customer_id", "previous_as_of")
    old = snapshots.join(pairs, [snapshots.segment == pairs.segment, snapshots.as_of == pairs.previous_as_of])
    old = old.select(segment=old.segment, customer_id=old.customer_id, previous_as_of=old.previous_as_of)
    keys = ["segment", "customer_id"]
    entered = current.anti_join(old, keys).mutate(change=ibis.literal("entered"))
    exited = old.anti_join(current, keys).mutate(change=ibis.literal("exited"))
    both = entered.union(exited)
    return both.select("segment", "customer_id", "change", as_of=day, previous_as_of=both.previous_as_of)
