"""What the dashboard reads that the JSON API did not already serve, as plain JSON-ready data.

Application layer (no HTTP here): the dashboard router calls these with the service's read
connection. Everything reuses the features' own use-case functions so the dashboard says what
the CLI and the HTML report say: rule checks and member counts are the segment engine's
(:func:`personae.app.segments.library.check` + :func:`personae.app.segments.run.preview`, the same two
calls as ``personae segments check``), segment reasons are
:func:`personae.app.privacy.segments_with_reasons`, charts and their takeaways are
:mod:`personae.app.charts` drawn to SVG by :func:`personae.app.charts.svg_data_uri`, and the
Journeys page reads :func:`personae.app.report.journeys_data` (the ``journey funnel`` and
``journey paths`` use cases) with the window and outcome the analyst picked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from personae.app import charts
from personae.app import report as gather
from personae.app.charts import svg_data_uri
from personae.app.journeys import event_types as journey_types
from personae.app.privacy import segments_with_reasons
from personae.app.reads import latest_traits_as_of
from personae.app.segments import library, reports
from personae.app.segments.run import preview
from personae.config import Settings
from personae.coverage import Coverage
from personae.errors import PersonaeError, RuleError
from personae.segments.language import column
from personae.segments.reference import all_names
from personae.store import Store
from personae.tables import is_return_line

#: The label a checked, unstored rule is counted under (no stored segment can have it).
_CHECKED = "\x00checked rule"
#: How many interactions the customer timeline shows (newest first).
TIMELINE_LIMIT = 200


def rule_check(store: Store, rule: str, settings: Settings) -> dict[str, Any]:
    """Check ``rule`` and count who matches on the current traits, without storing anything.

    A bad rule is an answer, not an error: the builder shows each problem where it is
    (``position``, 0-based, and ``line``/``column``, 1-based) while the analyst types.
    ``members`` is ``None`` before the first ``personae build``.
    """
    try:
        checked = library.check(store, rule, settings.traits)
        counts = preview(store, [], settings.traits, extra={_CHECKED: checked})
    except RuleError as exc:
        where = exc.position
        return {
            "rule": rule,
            "valid": False,
            "members": None,
            "errors": [
                {
                    "message": exc.message,
                    "hint": exc.hint,
                    "position": where,
                    "line": None if where is None else rule.count("\n", 0, where) + 1,
                    "column": None if where is None else column(rule, where),
                    "suggestions": list(exc.suggestions),
                }
            ],
        }
    return {
        "rule": rule,
        "valid": True,
        "members": None if counts is None else int(counts[_CHECKED]),
        "as_of": None if (as_of := latest_traits_as_of(store)) is None else as_of.isoformat(),
        "segments_used": sorted(checked.references),
        "function_calls": sorted(a.describe() for a in checked.aggregates),
        "errors": [],
    }


def rule_names(store: Store) -> dict[str, Any]:
    """Every name a rule may use (``personae segments names``) and the property names of the
    latest events (:func:`personae.app.segments.library.event_properties`), for the builder."""
    props = library.event_properties(store)
    return {
        "names": [{k: r[k] for k in ("name", "kind", "type", "doc")} for r in all_names()],
        "properties": [{"name": p.name, "events": p.events, "types": list(p.types)} for p in props],
    }


def segment_overview(store: Store, settings: Settings) -> dict[str, Any]:
    """Every segment with its members at the latest build, and the size/revenue chart."""
    rows = [_plain_row(r) for r in reports.overview(store, settings.traits)]
    return {"segments": rows, "chart": _figure(lambda: _segment_share(store, settings))}


def _segment_share(store: Store, settings: Settings) -> charts.Figure | str:
    data = gather.segments_data(store, settings)
    if isinstance(data, gather.Absent):
        return data.reason
    return charts.segment_share(data["rows"], data["order"])


def segment_detail(store: Store, name: str, settings: Settings) -> dict[str, Any]:
    """One segment: definition, versions, and its history of builds (entries and exits)."""
    return _plain_row(reports.detail(store, name, settings.traits))


def customer_extras(store: Store, customer_id: str, *, pii: bool) -> dict[str, Any]:
    """The customer 360's parts the profile endpoint lacks: timeline and segments with reasons."""
    return {
        "customer_id": customer_id,
        "timeline": timeline(store, customer_id, pii=pii),
        "segments": [_plain_row(r) for r in segments_with_reasons(store, customer_id)],
    }


def timeline(
    store: Store, customer_id: str, limit: int = TIMELINE_LIMIT, *, pii: bool = False
) -> list[dict[str, Any]]:
    """Interactions across channels, newest first: events, order lines, survey answers, consents.

    Read through ``store.resolved`` so an anonymous browse later stitched to the customer
    appears in their timeline, as identity resolution says it belongs there. Survey comments
    are free text a person wrote (they may name people): shown only when ``pii`` (admin keys).
    """
    cid = _param(customer_id)
    parts: list[tuple[str, ibis.Table]] = []
    if store.has_table("events"):
        e = store.resolved("events")
        e = e.filter(e.customer_id == cid)
        parts.append(
            (
                "event",
                e.select(
                    at=e.occurred_at.cast("timestamp"),
                    kind=e.type.cast("string"),
                    channel=e.channel.cast("string"),
                    detail=ibis.coalesce(e.product_id, e.category, ibis.literal("")).cast("string"),
                    value=ibis.literal(None, "float64"),
                ),
            )
        )
    if store.has_table("orders"):
        o = store.resolved("orders")
        o = o.filter(o.customer_id == cid)
        parts.append(
            (
                "order",
                o.select(
                    at=o.ordered_at.cast("timestamp"),
                    kind=ibis.cases(
                        (is_return_line(o), "return"),
                        (o.returned.fill_null(False), "order (returned)"),
                        else_="order",
                    ),
                    channel=o.channel.cast("string"),
                    detail=(o.order_id.cast("string") + " · " + o.product_id.fill_null("").cast("string")),
                    value=o.amount.cast("float64"),
                ),
            )
        )
    if store.has_table("surveys"):
        s = store.resolved("surveys")
        s = s.filter(s.customer_id == cid)
        parts.append(
            (
                "survey",
                s.select(
                    at=s.answered_at.cast("timestamp"),
                    kind=("survey: " + s.kind.cast("string")),
                    channel=s.touchpoint.fill_null("").cast("string"),
                    detail=(s.comment.fill_null("") if pii else ibis.literal("")).cast("string"),
                    value=s.score.cast("float64"),
                ),
            )
        )
    if store.has_table("consents"):
        c = store.table("consents")
        c = c.filter(c.customer_id == cid)
        parts.append(
            (
                "consent",
                c.select(
                    at=c.recorded_at.cast("timestamp"),
                    kind=("consent " + ibis.ifelse(c.granted, "granted", "withdrawn")),
                    channel=c.source.fill_null("").cast("string"),
                    detail=c.purpose.cast("string"),
                    value=ibis.literal(None, "float64"),
                ),
            )
        )
    if not parts:
        return []
    union = ibis.union(*[t.mutate(source=ibis.literal(src)) for src, t in parts])
    rows = store.rows(union.order_by(ibis.desc("at")).limit(limit))
    return [_plain_row(r) for r in rows]


def impact(store: Store, settings: Settings) -> dict[str, Any]:
    """Every activated playbook's treated-against-holdout report, with the report's chart."""
    data = gather.impact_data(store, settings)
    if isinstance(data, gather.Absent):
        return {"reports": [], "absent": data.reason, "chart": None}
    found = [_plain_row(r) for r in data["reports"]]
    return {"reports": found, "absent": None, "chart": _figure(lambda: charts.playbook_impact(found))}


#: The outcomes the Journeys page offers paths to (``personae journey paths --to``), in words;
#: every event type in the data is offered after them.
PATH_TARGETS = {
    "order": "a first order",
    "repeat": "a second order (repeat)",
    "lapsed": "lapsing (churn)",
    "detractor": "a detractor NPS answer",
}


def outcomes(store: Store) -> list[dict[str, str]]:
    """What the paths can lead to on this store: the fixed outcomes, then each event type there is."""
    fixed = [{"value": k, "label": v} for k, v in PATH_TARGETS.items()]
    types = [t for t in journey_types(store) if t not in PATH_TARGETS]
    return fixed + [{"value": t, "label": _an(f"{t.replace('_', ' ')} event")} for t in types]


def _an(noun: str) -> str:
    """``noun`` with its indefinite article, by its first letter (event types are English words).

    >>> _an("add to cart event"), _an("page view event")
    ('an add to cart event', 'a page view event')
    """
    return ("an " if noun[:1] and noun[:1].lower() in "aeiou" else "a ") + noun


def journeys(
    store: Store, settings: Settings, within_days: int = 7, to: str = gather.PATHS_TO
) -> dict[str, Any]:
    """The report's journey section with the analyst's window and outcome: the purchase funnel
    (each step within ``within_days`` of the product view) and the paths to ``to``, each as
    ``{image, takeaway}`` (a part that cannot be computed is a takeaway without an image, saying
    why), and the outcomes this store's data can lead to (``outcomes``) for the page's menu."""
    data = gather.journeys_data(store, settings, within=timedelta(days=within_days), to=to)
    out: dict[str, Any] = {
        "within_days": within_days,
        "to": to,
        "steps": list(gather.JOURNEY_FUNNEL),
        "outcomes": outcomes(store),
    }
    if isinstance(data, gather.Absent):
        why = data.parts or {"funnel_absent": data.reason, "paths_absent": data.reason}
        return {
            **out,
            "funnel": _figure(lambda: why["funnel_absent"]),
            "paths": _figure(lambda: why["paths_absent"]),
        }
    funnel, paths = data.get("funnel"), data.get("paths")
    out["funnel"] = _figure(lambda: charts.journey_funnel(funnel) if funnel else data["funnel_absent"])
    out["paths"] = _figure(lambda: charts.journey_paths(paths) if paths else data["paths_absent"])
    if funnel:
        out["funnel_steps"] = funnel["steps"]
    if paths:
        out["customers"], out["reached"] = paths["customers"], paths["reached"]
    out["left_out"] = Coverage.from_json(data["left_out"]).sentence()
    return out


def _figure(make: Any) -> dict[str, Any]:
    """``{image, takeaway}`` (image a ``data:`` SVG URI) or ``{image: None, takeaway: why not}``."""
    try:
        fig = make()
    except PersonaeError as exc:
        return {"image": None, "takeaway": str(exc)}
    if isinstance(fig, str):
        return {"image": None, "takeaway": fig}
    return {"image": svg_data_uri(fig), "takeaway": fig.takeaway}


def _param(value: str) -> ibis.Value:
    """A user-given string as data, never SQL text."""
    return ibis.memtable(pa.table({"v": pa.array([value], pa.string())})).v.as_scalar()


def _plain(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, float) and v != v:  # NaN is not JSON
        return None
    if hasattr(v, "item") and not isinstance(v, str | bytes):  # numpy scalars
        return _plain(v.item())
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in row.items()}
