"""The ``segments`` step of ``personae build``: evaluate every segment, store the snapshot.

Application layer. All segments (built-in and defined, in dependency order) are compiled into
one batch query (:func:`personae.segments.batch.compile_segments`), so the windowed aggregates
are shared; the result becomes the dated snapshot of the build's as-of date, replacing an
earlier snapshot of the same date, and the entries/exits of that date (and of the next
snapshot, whose "previous" may have changed) are recomputed — all in one transaction.

A defined segment whose rule no longer checks (e.g. it uses a trait that was renamed) is
skipped and reported, with the segments that depend on it; the build goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personae.app.reads import built, latest_traits_as_of
from personae.app.segments.library import segment_library
from personae.app.traits import store_places
from personae.config.traits import TraitSettings
from personae.segments.batch import BatchSources, compile_segments
from personae.segments.expr import CheckedRule
from personae.segments.membership import changes_at, long_members, member_counts
from personae.store import Store

RUNS_SCHEMA = pa.schema(
    [
        ("segment", pa.string()),
        ("as_of", pa.date32()),
        ("version", pa.int32()),
        ("rule", pa.string()),
        ("builtin", pa.bool_()),
        ("members", pa.int64()),
        ("built_at", pa.timestamp("us")),
    ]
)


def batch_sources(store: Store, as_of: date) -> BatchSources:
    """What batch evaluation reads: traits, resolved events and orders, affinities."""
    return BatchSources(
        as_of=as_of,
        traits=built(store, "traits"),
        events=store.resolved("events"),
        orders=store.resolved("orders"),
        affinities=store.table("affinities") if store.has_table("affinities") else None,
        stores=store_places(store),
    )


def evaluate_segments(store: Store, as_of: date, settings: TraitSettings | None = None) -> dict[str, Any]:
    """Evaluate every segment as of ``as_of`` and store the snapshot, runs and changes."""
    defs, checked, errors = segment_library(store, settings)
    compiled = compile_segments(list(checked), checked, batch_sources(store, as_of))
    wide = store.to_arrow(compiled.table)
    snapshot = long_members(wide, compiled.columns, as_of)
    counts = member_counts(wide, compiled.columns)
    now = datetime.now(UTC).replace(tzinfo=None)
    runs = pa.Table.from_pylist(
        [
            {
                "segment": n,
                "as_of": as_of,
                "version": defs[n].version,
                "rule": defs[n].rule,
                "builtin": defs[n].builtin,
                "members": counts[n],
                "built_at": now,
            }
            for n in checked
        ],
        schema=RUNS_SCHEMA,
    )
    day = pa.array([as_of], pa.date32())
    with store.transaction():
        store.delete_where_in("segment_snapshots", "as_of", day)
        store.delete_where_in("segment_runs", "as_of", day)
        store.append("segment_snapshots", snapshot)
        store.append("segment_runs", runs)
        changes = refresh_changes(store, as_of)
    return {
        "segments": len(checked),
        "memberships": snapshot.num_rows,
        "entered": changes.get("entered", 0),
        "exited": changes.get("exited", 0),
        **({"invalid": {n: str(e) for n, e in errors.items()}} if errors else {}),
    }


def refresh_changes(store: Store, as_of: date) -> dict[str, int]:
    """Recompute entries/exits at ``as_of`` and at the next snapshot date; counts at ``as_of``."""
    runs = store.table("segment_runs")
    later = store.execute(runs.filter(runs.as_of > as_of).as_of.min())
    dates: list[date] = [as_of]
    if later is not None and not pd.isna(later):
        dates.append(pd.Timestamp(later).date())
    counts: dict[str, int] = {}
    for day in dates:
        store.delete_where_in("segment_changes", "as_of", pa.array([day], pa.date32()))
        changes = store.to_arrow(
            changes_at(store.table("segment_snapshots"), store.table("segment_runs"), day)
        )
        recorded = pa.array([datetime.now(UTC).replace(tzinfo=None)] * changes.num_rows, pa.timestamp("us"))
        store.append("segment_changes", changes.append_column("recorded_at", recorded))
        if day == as_of:
            for kind in ("entered", "exited"):
                counts[kind] = int(pc.sum(pc.equal(changes.column("change"), kind)).as_py() or 0)
    return counts


def preview(
    store: Store,
    names: Sequence[str],
    settings: TraitSettings | None = None,
    *,
    extra: Mapping[str, CheckedRule] | None = None,
) -> dict[str, int] | None:
    """Member counts on the current traits, without storing anything (``None`` before a build).

    Args:
        names: stored segments to count.
        extra: rules that are not stored (``personae segments check``), by a label.
    """
    as_of = latest_traits_as_of(store)
    if as_of is None:
        return None
    _, checked, _ = segment_library(store, settings)
    library = {**checked, **(extra or {})}
    targets = [n for n in [*names, *(extra or {})] if n in library]
    if not targets:
        return {}
    compiled = compile_segments(targets, library, batch_sources(store, pd.Timestamp(as_of).date()))
    t = compiled.table
    row = store.execute(t.aggregate(**{c: t[c].cast("int64").sum() for c in compiled.columns.values()}))
    return {n: int(row[c].iloc[0] or 0) for n, c in compiled.columns.items()}
