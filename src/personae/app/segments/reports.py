"""Reading segment results back: overview, members, changes, overlap and migration.

Application layer over the tables the build writes (``segment_runs``, ``segment_snapshots``,
``segment_changes``). "Now" means the latest build: the as-of date of the most recently
written run, unless a date is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa

from personae.app.segments.library import all_definitions, definition_versions
from personae.errors import InputError, NotFoundError
from personae.segments import analysis
from personae.segments.builtin import KINDS, family
from personae.segments.check import suggest
from personae.store import Store

if TYPE_CHECKING:
    import altair as alt
from personae.config.traits import TraitSettings


def _day(value: Any) -> date:
    return (
        value
        if isinstance(value, date) and not isinstance(value, pd.Timestamp)
        else pd.Timestamp(value).date()
    )


def snapshot_dates(store: Store) -> list[date]:
    """Every date with a stored snapshot, oldest first."""
    runs = store.table("segment_runs")
    return sorted(_day(d) for d in store.execute(runs.select("as_of").distinct())["as_of"])


def latest_as_of(store: Store) -> date:
    """The as-of date of the latest build."""
    runs = store.table("segment_runs")
    df = store.execute(runs.order_by([runs.built_at.desc(), runs.as_of.desc()]).limit(1))
    if df.empty:
        raise NotFoundError("no segment snapshots yet", hint="run `personae build` first")
    return _day(df["as_of"].iloc[0])


def _require_date(store: Store, day: date) -> None:
    dates = snapshot_dates(store)
    if day not in dates:
        shown = ", ".join(d.isoformat() for d in dates[-8:]) or "none yet"
        raise NotFoundError(
            f"no segment snapshot as of {day.isoformat()}",
            hint=f"snapshots: {shown}; `personae build --as-of DATE` makes one",
        )


def _require_segment(store: Store, name: str, settings: TraitSettings | None) -> None:
    known = set(all_definitions(store, settings))
    runs = store.table("segment_runs")
    known |= set(store.execute(runs.select("segment").distinct())["segment"])
    if name not in known:
        close = suggest(name, known)
        raise NotFoundError(
            f"no segment named {name!r}",
            hint=f"did you mean {close[0]!r}?" if close else "see `personae segments list`",
        )


def overview(store: Store, settings: TraitSettings | None = None) -> list[dict[str, Any]]:
    """Every segment with its definition and its member count at the latest build."""
    runs = store.table("segment_runs")
    counts: dict[str, int] = {}
    as_of = None
    if store.count("segment_runs"):
        as_of = latest_as_of(store)
        df = store.execute(
            runs.filter(runs.as_of == ibis.date(as_of.isoformat())).select("segment", "members")
        )
        counts = dict(zip(df["segment"], df["members"].astype(int), strict=True))
    return [
        {**d.as_dict(), "members": counts.get(n), "as_of": as_of.isoformat() if as_of else None}
        for n, d in all_definitions(store, settings).items()
    ]


def detail(store: Store, name: str, settings: TraitSettings | None = None) -> dict[str, Any]:
    """One segment: current definition, every version, and its history of runs and changes."""
    _require_segment(store, name, settings)
    defs = all_definitions(store, settings)
    runs = store.table("segment_runs")
    history = store.rows(runs.filter(runs.segment == _param(name)).order_by("as_of"))
    ch = store.table("segment_changes")
    ch = ch.filter(ch.segment == _param(name))
    moves = store.rows(ch.group_by(["as_of", "change"]).aggregate(n=ch.customer_id.count()))
    moved = {(r["as_of"], r["change"]): int(r["n"]) for r in moves}
    return {
        **(defs[name].as_dict() if name in defs else {"name": name, "removed": True}),
        "versions": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in definition_versions(store, name)
        ],
        "history": [
            {
                "as_of": r["as_of"].isoformat(),
                "version": int(r["version"]),
                "members": int(r["members"]),
                "entered": moved.get((r["as_of"], "entered"), 0),
                "exited": moved.get((r["as_of"], "exited"), 0),
            }
            for r in history
        ],
    }


def _param(value: str) -> ibis.Value:
    """A user-given string as data: a one-row memtable's column, never SQL text."""
    return ibis.memtable(pa.table({"v": pa.array([value], pa.string())})).v.as_scalar()


def members(
    store: Store, name: str, as_of: date | None = None, settings: TraitSettings | None = None
) -> tuple[date, pa.Table]:
    """``(date, table of customer_id)`` — the segment's members in a snapshot."""
    _require_segment(store, name, settings)
    day = as_of or latest_as_of(store)
    _require_date(store, day)
    runs = store.table("segment_runs")
    ran = store.execute(
        runs.filter((runs.segment == _param(name)) & (runs.as_of == ibis.date(day.isoformat()))).count()
    )
    if not ran:
        raise NotFoundError(
            f"segment {name!r} was not evaluated as of {day.isoformat()}",
            hint="run `personae build` to evaluate new segments",
        )
    snap = store.table("segment_snapshots")
    chosen = snap.filter((snap.segment == _param(name)) & (snap.as_of == ibis.date(day.isoformat())))
    return day, store.to_arrow(chosen.select("customer_id").order_by("customer_id"))


def changes(
    store: Store, name: str, since: date | None = None, settings: TraitSettings | None = None
) -> list[dict[str, Any]]:
    """Entries and exits of one segment, newest first."""
    _require_segment(store, name, settings)
    ch = store.table("segment_changes")
    ch = ch.filter(ch.segment == _param(name))
    if since:
        ch = ch.filter(ch.as_of >= ibis.date(since.isoformat()))
    rows = store.rows(ch.order_by([ch.as_of.desc(), ch.change, ch.customer_id]))
    return [
        {
            "customer_id": r["customer_id"],
            "change": r["change"],
            "as_of": r["as_of"].isoformat(),
            "previous_as_of": r["previous_as_of"].isoformat(),
        }
        for r in rows
    ]


def overlap(
    store: Store,
    names: Sequence[str] | None = None,
    as_of: date | None = None,
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """Shared members between segments in one snapshot (default: every segment with members)."""
    day = as_of or latest_as_of(store)
    _require_date(store, day)
    snap = store.table("segment_snapshots")
    snap = snap.filter(snap.as_of == ibis.date(day.isoformat()))
    if names:
        for n in names:
            _require_segment(store, n, settings)
        chosen = list(dict.fromkeys(names))
    else:
        present = set(store.execute(snap.select("segment").distinct())["segment"])
        chosen = [n for n in all_definitions(store, settings) if n in present]
    pairs = store.rows(analysis.overlap_pairs(snap, chosen))
    return {"as_of": day.isoformat(), **analysis.overlap_report(pairs, chosen)}


def family_names(store: Store, kind: str, settings: TraitSettings | None = None) -> list[str]:
    """The segments ``--kind`` names: a built-in family, or comma-separated segment names."""
    s = settings or TraitSettings()
    if kind in KINDS:
        return family(kind, s.rfm_rules)
    names = [n.strip() for n in kind.split(",") if n.strip()]
    if not names:
        raise InputError("--kind: give rfm, lifecycle, value or segment names separated by commas")
    for n in names:
        _require_segment(store, n, settings)
    return names


def migration(
    store: Store, start: date, end: date, kind: str = "rfm", settings: TraitSettings | None = None
) -> dict[str, Any]:
    """How customers moved between the segments of ``kind`` from one snapshot to another."""
    if start >= end:
        raise InputError(f"--from {start.isoformat()} must be before --to {end.isoformat()}")
    for day in (start, end):
        _require_date(store, day)
    names = family_names(store, kind, settings)
    snap = store.table("segment_snapshots")
    before = snap.filter(snap.as_of == ibis.date(start.isoformat()))
    after = snap.filter(snap.as_of == ibis.date(end.isoformat()))
    flows = store.rows(analysis.migration_flows(before, after, names))
    report = analysis.migration_report(flows, names)
    return {"from": start.isoformat(), "to": end.isoformat(), "kind": kind, "segments": names, **report}


def migration_chart(report: dict[str, Any]) -> alt.LayerChart:
    title = f"{report['kind']}: {report['from']} → {report['to']}"
    return analysis.migration_chart(report, report["segments"], title)
