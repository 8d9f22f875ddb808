"""Journey analytics use cases behind ``personae journey``: funnels, touches, paths, drop-offs.

Application layer: gathers the inputs from the store — the touch stream cut at the build's
as-of date, segment members, traits — runs the expressions of :mod:`personae.journeys` and
returns plain data (the JSON keys are a contract, see docs/journeys.md).

**Consent.** Journey analytics uses behavioural data for the *analytics* purpose, so only
customers whose ``consent_analytics`` trait is true are counted (with no recorded decision the
consent policy's default applies, see docs/privacy.md); every report says in ``left_out`` how
many were left out for an objection. The as-of date is the one of the latest ``personae
build``, so consents, segments and traits agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from personae.app.reads import traits_as_of
from personae.app.segments import reports as segment_reports
from personae.app.traits import trait_inputs
from personae.config.traits import TraitSettings
from personae.coverage import Coverage
from personae.errors import InputError, NotFoundError
from personae.journeys import dropoffs, funnel, lifecycle, paths, touches
from personae.journeys.touchpoints import ORDER, touch_stream
from personae.privacy import consent
from personae.schema import EVENT_TYPES
from personae.segments.check import suggest
from personae.store import Store
from personae.traits.inputs import end_of
from personae.traits.journey import JOURNEY_STAGES

#: The purchase funnel the drop-off report uses when no steps are given.
PURCHASE_FUNNEL = ("product_view", "add_to_cart", "checkout_started", ORDER)
#: ``--by`` values computed from the funnel's first step rather than read from the traits.
STEP_DIMENSIONS = ("channel", "device")


@dataclass(frozen=True)
class JourneyData:
    """Everything a journey report reads, cut at ``as_of`` and limited to consenting customers."""

    as_of: date
    traits: ibis.Table
    touches: ibis.Table
    order_lines: ibis.Table
    surveys: ibis.Table
    #: who the reports count, out of every customer built, and why the others are not
    coverage: Coverage
    #: whether the data holds any event (browsing, cart, …) up to ``as_of``
    has_events: bool

    @property
    def end(self) -> datetime:
        return end_of(self.as_of)


def journey_data(
    store: Store, settings: TraitSettings | None = None, *, with_device: bool = False
) -> JourneyData:
    """The consenting customers' touches, orders and answers as of the latest build."""
    as_of = traits_as_of(store)  # recommendations, reports and journeys never look past it
    traits = store.table("traits")
    consented = consent.consented(traits, ["analytics"])
    ids = consented.select("customer_id")
    inputs = trait_inputs(store, as_of, settings or TraitSettings())
    events = store.resolved("events").filter(
        lambda e: e.occurred_at < ibis.timestamp(end_of(as_of).isoformat(sep=" "))
    )
    stream = touch_stream(events, inputs.orders_by_order, with_device=with_device)
    total, allowed = (int(store.scalar(t.count())) for t in (traits, consented))
    return JourneyData(
        as_of=as_of,
        traits=consented,
        touches=stream.semi_join(ids, "customer_id"),
        order_lines=inputs.orders.semi_join(ids, "customer_id"),
        surveys=inputs.surveys.semi_join(ids, "customer_id"),
        coverage=Coverage.of(total, {"who objected to analytics": total - allowed}),
        has_events=bool(store.scalar(events.limit(1).count())),
    )


#: What a report says when there are orders but no events: there is nothing before an order.
NO_EVENTS = (
    "the data has no events (page or product views, carts, emails, …), so there are no touches "
    "before orders: ingest them with `personae ingest events FILE`, then `personae build`"
)


def check_steps(store: Store, steps: Sequence[str]) -> None:
    """Every step is ``order`` or an event type present in the data (else: did you mean…).

    A standard event type the data lacks (``product_view`` in orders-only data) is said so, with
    the types there are; only a present type is ever suggested, since suggesting an absent one
    (the step itself, before) sends the user round in a circle.
    """
    present = set(event_types(store))
    known = present | {ORDER}
    there = (
        "event types in the data: " + ", ".join(sorted(present))
        if present
        else "the data has no events: `personae ingest events FILE` adds them"
    )
    for s in steps:
        if s in known:
            continue
        if s in EVENT_TYPES:
            raise NotFoundError(f"no {s!r} events in the data", hint=there)
        close = suggest(s, known)
        raise NotFoundError(
            f"no step {s!r}: it is neither `order` nor an event type in the data",
            hint=f"did you mean {close[0]!r}?" if close else there,
        )


def event_types(store: Store) -> list[str]:
    """The event types present in the data, sorted (the steps and outcomes a journey can use)."""
    if not store.has_table("events"):
        return []
    e = store.table("events")
    return sorted(str(t) for t in store.execute(e.select("type").distinct())["type"].dropna())


def _members(store: Store, names: Sequence[str], as_of: date, settings: TraitSettings | None) -> ibis.Table:
    """``customer_id, segment`` for the named segments in the snapshot of ``as_of``."""
    parts = []
    for name in dict.fromkeys(names):
        _, ids = segment_reports.members(store, name, as_of, settings)
        parts.append(ids.append_column("segment", pa.array([name] * ids.num_rows, pa.string())))
    table = pa.concat_tables(parts) if parts else pa.table({"customer_id": [], "segment": []})
    return ibis.memtable(table.cast(pa.schema([("customer_id", pa.string()), ("segment", pa.string())])))


def _trait_column(data: JourneyData, by: str) -> None:
    if by not in data.traits.columns:
        close = suggest(by, [*data.traits.columns, *STEP_DIMENSIONS])
        raise InputError(
            f"--by {by!r}: not channel, device or a trait",
            hint=f"did you mean {close[0]!r}?" if close else "see `personae segments names` for the traits",
        )


def _grouped(
    store: Store,
    data: JourneyData,
    table: ibis.Table,
    segments: Sequence[str],
    by: str | None,
    settings: TraitSettings | None,
) -> tuple[ibis.Table, list[str]]:
    """``table`` with the group columns (``segment`` and/or ``by``) a report is split by.

    A customer in several chosen segments counts in each; one in none of them is left out.
    """
    keys: list[str] = []
    if by:
        if by not in STEP_DIMENSIONS or by not in table.columns:
            _trait_column(data, by)
            t = data.traits.select("customer_id", _by=data.traits[by].cast("string"))
            table = table.join(t, "customer_id")
        else:
            table = table.mutate(_by=table[by])
        table = table.mutate(_by=table._by.fill_null("(unknown)"))
        keys.append("_by")
    if segments:
        table = table.join(_members(store, segments, data.as_of, settings), "customer_id")
        keys.insert(0, "segment")
    return table, keys


def _label(row: dict[str, Any], keys: Sequence[str], by: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "segment" in keys:
        out["segment"] = row["segment"]
    if "_by" in keys and by:
        out[by] = row["_by"]
    out["group"] = " / ".join(str(v) for v in out.values()) or "all"
    return out


def _materialised(store: Store, expr: ibis.Table) -> ibis.Table:
    """Run ``expr`` once and read the (per-customer, small) result back as a table, so reports
    that aggregate it several ways do not recompute the funnel each time."""
    return ibis.memtable(store.to_arrow(expr))


def funnel_report(
    store: Store,
    steps: Sequence[str],
    *,
    within: timedelta | None = None,
    order: str = "loose",
    since: date | None = None,
    segments: Sequence[str] = (),
    by: str | None = None,
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """A step funnel, overall and per segment and/or ``by`` group (see journeys.funnel)."""
    spec = funnel.FunnelSpec(
        tuple(steps),
        within,
        order,  # type: ignore[arg-type]  # checked by FunnelSpec
        datetime.combine(since, datetime.min.time()) if since else None,
    )
    check_steps(store, spec.steps)
    data = journey_data(store, settings, with_device=by == "device")
    prog = funnel.progress(data.touches, spec)
    if segments or by:
        prog = _materialised(store, prog)
    n = len(spec.steps)
    overall = store.rows(funnel.counts(prog, n))[0]
    report: dict[str, Any] = {
        "as_of": data.as_of.isoformat(),
        "funnel": list(spec.steps),
        "order": spec.order,
        "within_hours": None if within is None else round(within.total_seconds() / 3600, 2),
        "since": since.isoformat() if since else None,
        "steps": funnel.step_rows(overall, spec.steps),
        "time_to_convert": funnel.time_to_convert(overall),
        "groups": [],
        "left_out": data.coverage.as_json(),
    }
    if segments or by:
        table, keys = _grouped(store, data, prog, segments, by, settings)
        rows = sorted(store.rows(funnel.counts(table, n, keys)), key=lambda r: [str(r[k]) for k in keys])
        report["groups"] = [
            {
                **_label(r, keys, by),
                "steps": funnel.step_rows(r, spec.steps),
                "time_to_convert": funnel.time_to_convert(r),
            }
            for r in rows
        ]
    return report


def lifecycle_report(
    store: Store,
    *,
    segments: Sequence[str] = (),
    by: str | None = None,
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """The awareness → advocacy funnel from the ``journey_stage`` trait."""
    data = journey_data(store, settings)
    if by in STEP_DIMENSIONS:
        raise InputError(
            f"--by {by}: the lifecycle funnel has no first step; use a trait such as preferred_channel"
        )
    overall = store.rows(lifecycle.lifecycle_counts(data.traits))[0]
    report: dict[str, Any] = {
        "as_of": data.as_of.isoformat(),
        "funnel": list(JOURNEY_STAGES),
        "lifecycle": True,
        "steps": funnel.step_rows(overall, JOURNEY_STAGES),
        "groups": [],
        "left_out": data.coverage.as_json(),
        "note": None
        if data.has_events
        else "the data has no events (views, carts, …): awareness and consideration count every "
        "customer who reached a later stage (a buyer was aware and considered)",
    }
    if segments or by:
        table, keys = _grouped(
            store, data, data.traits.select("customer_id", "journey_stage"), segments, by, settings
        )
        rows = sorted(
            store.rows(lifecycle.lifecycle_counts(table, keys)), key=lambda r: [str(r[k]) for k in keys]
        )
        report["groups"] = [
            {**_label(r, keys, by), "steps": funnel.step_rows(r, JOURNEY_STAGES)} for r in rows
        ]
    return report


def touches_report(
    store: Store,
    *,
    segments: Sequence[str] = (),
    by: str | None = None,
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """Interactions and touchpoints before the first order and between orders.

    ``--by channel`` is the channel of the order the gap leads to.
    """
    data = journey_data(store, settings)
    g = touches.gaps(data.touches)
    table, keys = _grouped(store, data, g, segments, by, settings)
    overall = [touches.summary_row(r) for r in store.rows(touches.distribution(g).order_by("kind"))]
    result: dict[str, Any] = {
        "as_of": data.as_of.isoformat(),
        "overall": overall,
        "groups": [],
        "left_out": data.coverage.as_json(),
        "note": None if data.has_events else NO_EVENTS,
    }
    if keys:
        rows = store.rows(touches.distribution(table, keys))
        rows.sort(key=lambda r: (r["kind"], *[str(r[k]) for k in keys]))
        result["groups"] = [{**_label(r, keys, by), **touches.summary_row(r)} for r in rows]
    return result


def paths_report(
    store: Store,
    to: str = ORDER,
    *,
    top: int = 20,
    length: int = 5,
    lookback: timedelta = timedelta(days=30),
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """The top paths to an outcome, their conversion, and where paths diverge."""
    if top < 1 or length < 1:
        raise InputError("--top and --length must be at least 1")
    data = journey_data(store, settings)
    if to == "repeat":
        windows = paths.repeat_windows(data.touches, data.end, lookback)
    elif to == "lapsed":
        windows = paths.lapsed_windows(data.traits, data.end, lookback)
    elif to == "detractor":
        windows = paths.detractor_windows(data.surveys, lookback)
    else:
        try:
            check_steps(store, [to])
        except NotFoundError as exc:
            exc.hint = (exc.hint or "") + "; outcomes: order, repeat, lapsed, detractor or an event type"
            raise
        windows = paths.step_windows(data.touches, to, data.end, lookback)
    rows = store.rows(paths.path_counts(paths.customer_paths(data.touches, windows, length)))
    return {
        "as_of": data.as_of.isoformat(),
        "outcome": to,
        "lookback_days": round(lookback.total_seconds() / 86400, 2),
        "length": length,
        **paths.top_paths(rows, top),
        "divergence": paths.divergence(rows),
        "left_out": data.coverage.as_json(),
        "note": None if data.has_events else NO_EVENTS,
    }


def dropoff_report(
    store: Store,
    steps: Sequence[str] = PURCHASE_FUNNEL,
    *,
    within: timedelta | None = timedelta(days=7),
    order: str = "loose",
    segments: Sequence[str] = (),
    dimensions: Sequence[str] = ("channel", "device"),
    weeks: int = 3,
    min_customers: int = 30,
    min_rise: float = 0.02,
    top: int = 20,
    settings: TraitSettings | None = None,
) -> dict[str, Any]:
    """Where customers leave the funnel, by segment/channel/device, with value lost, growing
    drop-offs and the pain points droppers met."""
    spec = funnel.FunnelSpec(tuple(steps), within, order)  # type: ignore[arg-type]
    check_steps(store, spec.steps)
    data = journey_data(store, settings, with_device="device" in dimensions)
    n = len(spec.steps)
    prog = _materialised(store, funnel.progress(data.touches, spec))
    overall = store.rows(funnel.counts(prog, n))[0]
    ol = data.order_lines
    by_order = ol.group_by(["customer_id", "order_key"]).aggregate(v=ol.net_amount.sum())
    aov: Any = store.execute(by_order.v.mean())
    fallback = 0.0 if aov is None or pd.isna(aov) else float(aov)
    groups: dict[str, list[dict[str, Any]]] = {}
    for dim in dimensions:
        table, keys = _grouped(store, data, prog, (), dim, settings)
        groups[dim] = [{**r, "group": r["_by"]} for r in store.rows(funnel.counts(table, n, keys))]
    if segments:
        table, keys = _grouped(store, data, prog, segments, None, settings)
        groups["segment"] = [{**r, "group": r["segment"]} for r in store.rows(funnel.counts(table, n, keys))]
    weekly = store.rows(dropoffs.weekly(prog, n))
    horizon = within or timedelta(days=7)
    sig = dropoffs.signals(data.touches, ol, data.surveys)
    pain = store.rows(dropoffs.pain_counts(prog, sig, n, horizon))
    return {
        "as_of": data.as_of.isoformat(),
        "funnel": list(spec.steps),
        "within_hours": None if within is None else round(within.total_seconds() / 3600, 2),
        "value_per_conversion_fallback": round(fallback, 2),
        "transitions": dropoffs.transitions(overall, spec.steps, fallback),
        "ranking": dropoffs.ranking(groups, spec.steps, fallback)[:top],
        "trend": dropoffs.growing(
            weekly,
            spec.steps,
            data.as_of,
            within,
            weeks=weeks,
            min_customers=min_customers,
            min_rise=min_rise,
        ),
        "pain_points": dropoffs.pain_points(pain, overall, spec.steps),
        "left_out": data.coverage.as_json(),
    }
