"""Segment definitions in the store: add (versioned), list, show, remove, and the templates.

Application layer (it reads and writes the store; the CLI and the API call it). Definitions
are append-only in ``segment_definitions``: adding a segment whose name exists writes version
n+1, removing writes a version marked ``removed`` — so every earlier rule stays readable
(``personae segments show NAME`` lists them). A batch of definitions is checked as a whole,
together with the stored and built-in ones, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pyarrow as pa

from personae.app.reads import cluster_names
from personae.app.traits import store_places
from personae.config.traits import TraitSettings
from personae.errors import InputError, NotFoundError, RuleError
from personae.segments.builtin import builtin_segments, cluster_segments
from personae.segments.check import check_rule, suggest
from personae.segments.definitions import (
    SegmentDefinition,
    check_definitions,
    named_rule_error,
    parse_definitions,
    referenced_segments,
    validate_name,
)
from personae.segments.expr import CheckedRule, Distance, walk
from personae.segments.properties import PropertyName, property_names
from personae.store import Store

DEFINITIONS = "segment_definitions"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def definition_versions(store: Store, name: str | None = None) -> list[dict[str, Any]]:
    """Every stored version (oldest first), of one name or of all."""
    t = store.table(DEFINITIONS)
    if name is not None:
        t = t.filter(t.name == name)
    return store.rows(t.order_by(["name", "version"]))


def current_definitions(store: Store) -> dict[str, SegmentDefinition]:
    """The latest version of every defined (not removed) segment, in order of first creation.

    "Latest" is the highest version number, never the newest ``created_at``: a clock that
    went back between two edits must not bring an old rule back.
    """
    first: dict[str, datetime] = {}
    latest: dict[str, dict[str, Any]] = {}
    for row in definition_versions(store):  # by name, then version
        name, created = row["name"], row["created_at"] or datetime.min
        first[name] = min(first.get(name, created), created)
        latest[name] = row
    return {
        n: _definition(latest[n]) for n in sorted(first, key=first.__getitem__) if not latest[n]["removed"]
    }


def _definition(row: dict[str, Any]) -> SegmentDefinition:
    return SegmentDefinition(
        row["name"],
        row["rule"] or "",
        row["description"] or "",
        version=row["version"],
        source=row["source"] or "",
        created_at=row["created_at"],
    )


def all_definitions(store: Store, settings: TraitSettings | None = None) -> dict[str, SegmentDefinition]:
    """Built-in (RFM, lifecycle, value, clusters of the active model) and defined segments by name."""
    return {**builtin_definitions(store, settings), **current_definitions(store)}


def builtin_definitions(store: Store, settings: TraitSettings | None = None) -> dict[str, SegmentDefinition]:
    """The built-in segments, with one ``cluster:NAME`` per cluster of the active cluster model."""
    s = settings or TraitSettings()
    return {**builtin_segments(s.rfm_rules), **cluster_segments(cluster_names(store))}


def segment_library(
    store: Store, settings: TraitSettings | None = None, *, strict: bool = False
) -> tuple[dict[str, SegmentDefinition], dict[str, CheckedRule], dict[str, RuleError]]:
    """``(definitions, checked rules in dependency order, errors)`` for every segment."""
    defs = all_definitions(store, settings)
    checked, errors = check_definitions(defs, strict=strict)
    return defs, checked, errors


def check(store: Store, rule: str, settings: TraitSettings | None = None) -> CheckedRule:
    """Check a rule against the segments that exist now (for ``personae segments check`` and the
    dashboard's builder), and its event properties against the names the events carry."""
    segments = set(all_definitions(store, settings))
    checked = check_rule(rule, segments=segments)
    known: list[str] | None = None
    if any(a.where is not None or a.prop is not None for a in checked.aggregates):
        # no event has properties yet: any name passes (it may come)
        known = [p.name for p in event_properties(store)] or None
    # distance_km names a store: it must be one with a place ("did you mean" otherwise)
    stores = list(store_places(store)) if any(isinstance(n, Distance) for n in walk(checked.expr)) else None
    if known is not None or stores is not None:
        checked = check_rule(rule, segments=segments, properties=known, stores=stores)
    return checked


#: How many of the latest events are read to learn the property names.
PROPERTY_SAMPLE = 50_000


def event_properties(store: Store, sample: int = PROPERTY_SAMPLE) -> list[PropertyName]:
    """The property names of the latest ``sample`` events that have properties (none: ``[]``).

    The latest, not all: enough to see every name a tracking plan sends, in well under a
    second on any history, and a name that stopped being sent long ago is not suggested.
    """
    if not store.has_table("events"):
        return []
    e = store.table("events")
    latest = e.filter(e.properties.notnull()).order_by(e.occurred_at.desc()).limit(sample)
    return property_names(r["properties"] for r in store.rows(latest.select("properties")))


def add_segments(
    store: Store,
    new: Sequence[SegmentDefinition],
    *,
    source: str = "cli",
    settings: TraitSettings | None = None,
) -> list[dict[str, Any]]:
    """Add or edit segments; all are checked together and written in one transaction.

    Returns one ``{name, version, action}`` per segment (``created``, ``updated`` or
    ``unchanged`` when the rule and description are the same as the current version).

    Raises:
        RuleError: a rule is invalid, refers to an unknown segment or closes a cycle
            (nothing is stored).
        InputError: a name is not allowed.
    """
    s = settings or TraitSettings()
    builtins = builtin_definitions(store, s)
    current = current_definitions(store)
    staged = dict(current)
    for d in new:
        name = validate_name(d.name, builtins)
        staged[name] = SegmentDefinition(
            name, d.rule.strip(), d.description.strip(), source=d.source or source
        )
    # check what changes against everything (names, cycles through stored rules); a stored
    # rule that no longer checks (a retired trait) is skipped by builds and must not block
    # adding, fixing or removing others — only rules that use it are refused
    _, broken_before = check_definitions({**builtins, **current}, strict=False)
    _, broken = check_definitions({**builtins, **staged}, strict=False)
    changing = {d.name.strip() for d in new}
    for name, exc in broken.items():
        if name in changing or name not in broken_before:
            raise named_rule_error(name, exc)
    versions = {r["name"]: r["version"] for r in definition_versions(store)}
    rows, report = [], []
    for d in new:
        name = d.name.strip()
        old = current.get(name)
        target = staged[name]
        if old and old.rule == target.rule and old.description == target.description:
            report.append({"name": name, "version": old.version, "action": "unchanged"})
            continue
        version = versions.get(name, 0) + 1
        versions[name] = version
        rows.append(
            {
                "name": name,
                "version": version,
                "rule": target.rule,
                "description": target.description,
                "source": target.source,
                "removed": False,
                "created_at": _now(),
            }
        )
        report.append({"name": name, "version": version, "action": "updated" if old else "created"})
    with store.transaction():
        _append(store, rows)
    return report


def remove_segment(store: Store, name: str, settings: TraitSettings | None = None) -> dict[str, Any]:
    """Remove a defined segment (its versions and snapshots stay); refuse while others use it."""
    s = settings or TraitSettings()
    if name in builtin_definitions(store, s):
        raise InputError(f"{name!r} is a built-in segment and cannot be removed")
    current = current_definitions(store)
    if name not in current:
        raise NotFoundError(f"no segment named {name!r}", hint="see `personae segments list`")
    users = sorted(n for n, d in current.items() if n != name and name in referenced_segments(d.rule))
    if users:
        raise InputError(
            f"cannot remove {name!r}: used by {', '.join(users)}",
            hint="change or remove those segments first",
        )
    version = current[name].version
    versions = [r["version"] for r in definition_versions(store, name)]
    row = {
        "name": name,
        "version": max(versions) + 1,
        "rule": None,
        "description": None,
        "source": "cli",
        "removed": True,
        "created_at": _now(),
    }
    with store.transaction():
        _append(store, [row])
    return {"name": name, "removed_version": version}


def _append(store: Store, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    schema = pa.schema(
        [
            ("name", pa.string()),
            ("version", pa.int32()),
            ("rule", pa.string()),
            ("description", pa.string()),
            ("source", pa.string()),
            ("removed", pa.bool_()),
            ("created_at", pa.timestamp("us")),
        ]
    )
    store.append(DEFINITIONS, pa.Table.from_pylist(rows, schema=schema))


# -- templates -----------------------------------------------------------------------------------
def load_templates() -> list[SegmentDefinition]:
    """The template library shipped in the package (``segments/templates.yaml``)."""
    text = resources.files("personae.segments").joinpath("templates.yaml").read_text(encoding="utf-8")
    return parse_definitions(text, "templates")


def install_templates(
    store: Store, names: Sequence[str] | None = None, settings: TraitSettings | None = None
) -> list[dict[str, Any]]:
    """Install templates by name (``None``: all), with the templates they refer to."""
    templates = {t.name: t for t in load_templates()}
    wanted = list(templates) if names is None else list(names)
    unknown = [n for n in wanted if n not in templates]
    if unknown:
        close = suggest(unknown[0], templates)
        raise NotFoundError(
            f"no template named {unknown[0]!r}",
            hint=f"did you mean {close[0]!r}?" if close else "see `personae segments templates`",
        )
    existing = all_definitions(store, settings)
    chosen: dict[str, SegmentDefinition] = {}

    def take(name: str) -> None:
        if name in chosen:
            return
        for ref in check_rule(templates[name].rule, segments=set(templates) | set(existing)).references:
            if ref in templates and ref not in existing:
                take(ref)
        chosen[name] = templates[name]

    for n in wanted:
        take(n)
    defs = [
        SegmentDefinition(d.name, d.rule, d.description, source=f"template:{d.name}") for d in chosen.values()
    ]
    return add_segments(store, defs, source="template", settings=settings)
