"""Built-in segments: always present, derived from traits, no definition needed.

* one per RFM segment, named exactly as the segment (``Champions``, ``Can't Lose Them`` …),
  rule ``rfm_segment == "Champions"`` — the names follow ``traits.rfm_rules`` in the settings;
* one per lifecycle stage: ``lifecycle:new``, ``lifecycle:active`` …;
* one per value tier: ``value:top1``, ``value:top10``, ``value:top25``, ``value:rest``;
* one per cluster of the active cluster model: ``cluster:NAME`` (:func:`cluster_segments`,
  added by :func:`personae.app.segments.library.all_definitions`, since they live in the store).

They are ordinary rules in the same language, so ``in_segment("Champions")`` works in both
evaluators, and their snapshots feed ``personae segments migration``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from personae.clv.value import TIERS
from personae.config.traits import DEFAULT_RFM_RULES, RfmRule
from personae.segments.definitions import SegmentDefinition
from personae.traits.lifecycle import LIFECYCLE_STAGES

#: Families of built-in segments, as ``personae segments migration --kind`` names them.
KINDS = ("rfm", "lifecycle", "value")


def rfm_names(rules: Iterable[RfmRule] = DEFAULT_RFM_RULES) -> list[str]:
    """The RFM segment names in the order of the rules (first appearance)."""
    return list(dict.fromkeys(r.name for r in rules))


def builtin_segments(rfm_rules: Iterable[RfmRule] = DEFAULT_RFM_RULES) -> dict[str, SegmentDefinition]:
    """Every built-in segment by name."""
    out: dict[str, SegmentDefinition] = {}
    for name in rfm_names(rfm_rules):
        out[name] = _builtin(
            name, "rfm_segment", name, f"RFM segment {name} (see docs/traits.md#rfm).", "rfm"
        )
    for stage in LIFECYCLE_STAGES:
        out[f"lifecycle:{stage}"] = _builtin(
            f"lifecycle:{stage}", "lifecycle_stage", stage, f"Lifecycle stage {stage}.", "lifecycle"
        )
    for tier in TIERS:
        out[f"value:{tier}"] = _builtin(
            f"value:{tier}", "value_tier", tier, f"Value tier {tier} by CLV.", "value"
        )
    return out


def cluster_segments(names: Mapping[int, str]) -> dict[str, SegmentDefinition]:
    """One segment per cluster of the active cluster model: ``cluster:NAME``, rule ``cluster == N``.

    The rule uses the number, so renaming a cluster (``personae clusters rename``) changes
    only the segment's name.
    """
    return {
        f"cluster:{name}": SegmentDefinition(
            f"cluster:{name}",
            f"cluster == {int(number)}",
            f"Cluster {int(number)} of the active cluster model (see `personae clusters show`).",
            version=0,
            builtin=True,
            source="builtin",
            extra={"kind": "cluster"},
        )
        for number, name in sorted(names.items())
    }


def builtin_kind(name: str, rfm_rules: Iterable[RfmRule] = DEFAULT_RFM_RULES) -> str | None:
    """``rfm``, ``lifecycle`` or ``value`` for a built-in name, else ``None``."""
    d = builtin_segments(rfm_rules).get(name)
    return None if d is None else str(d.extra["kind"])


def family(kind: str, rfm_rules: Iterable[RfmRule] = DEFAULT_RFM_RULES) -> list[str]:
    """The built-in segments of one kind, in their natural order."""
    return [n for n, d in builtin_segments(rfm_rules).items() if d.extra["kind"] == kind]


def _builtin(name: str, trait: str, value: str, description: str, kind: str) -> SegmentDefinition:
    return SegmentDefinition(
        name,
        f"{trait} == {json.dumps(value, ensure_ascii=False)}",
        description,
        version=0,
        builtin=True,
        source="builtin",
        extra={"kind": kind},
    )
