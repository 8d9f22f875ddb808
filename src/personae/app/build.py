"""``personae build``: the build steps, in order, with progress.

:data:`BUILD_STEPS` is the one list of them, read by ``personae build``, the demo and the docs
(docs/architecture.md lists each; a test keeps the list true). Each step is a function of the
store, the as-of date and the settings, written in the feature's own application module; this
module only sequences them, times them and reports progress.

To add a step: write ``build_<thing>(store, as_of, settings)`` in ``app/<feature>.py`` and add
one :class:`BuildStep` here, after the steps whose tables it reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.console import Console

from personae.app.clusters import assign_clusters
from personae.app.clv import build_clv
from personae.app.experience import build_detractor_risk
from personae.app.reads import last_data_date
from personae.app.segments.run import evaluate_segments
from personae.app.traits import build_affinities, build_traits
from personae.app.voice import build_voice
from personae.clv.words import model_in_words
from personae.config import Settings, load_settings
from personae.coverage import Coverage
from personae.store import Store

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class BuildStep:
    """One step of ``personae build``: a name people read, what it writes, and how to run it."""

    name: str
    writes: str
    run: Callable[[Store, date, Settings], Any]


#: Every build step, in the order they run: each reads what the ones before it wrote.
BUILD_STEPS: tuple[BuildStep, ...] = (
    BuildStep(
        "affinities",
        "affinities",
        lambda store, as_of, s: build_affinities(store, as_of, s.traits, s.timezone),
    ),
    BuildStep("clv", "clv, clv_params", lambda store, as_of, s: build_clv(store, as_of, s.clv, s.timezone)),
    BuildStep(
        "voice",
        "voice_texts, voice_traits, voice_models",
        lambda store, as_of, s: build_voice(store, as_of, s.voice, traits=s.traits, timezone=s.timezone),
    ),
    BuildStep(
        "traits, rfm and lifecycle",
        "traits",
        lambda store, as_of, s: build_traits(store, as_of, s.traits, s.timezone),
    ),
    BuildStep(
        "detractor risk",
        "detractor_model, traits",
        lambda store, as_of, s: build_detractor_risk(store, as_of, s),
    ),
    BuildStep(
        "clusters", "cluster_assignments, traits", lambda store, as_of, s: assign_clusters(store, as_of)
    ),
    BuildStep(
        "segments",
        "segment_runs, segment_snapshots, segment_changes",
        lambda store, as_of, s: evaluate_segments(store, as_of, s.traits),
    ),
)


def run_build(
    store: Store,
    *,
    as_of: date | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    console: Console | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run every build step as of ``as_of`` (default: the last date in the data)."""
    settings = settings or load_settings()
    report = progress or (lambda step, fraction: None)
    console = console or Console(stderr=True)
    as_of = as_of or last_data_date(store, settings.timezone)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "steps": {}}
    for i, step in enumerate(BUILD_STEPS):
        report(step.name, i / len(BUILD_STEPS))
        started = time.perf_counter()
        result = step.run(store, as_of, settings)
        elapsed = time.perf_counter() - started
        summary["steps"][step.name] = {"result": result, "seconds": round(elapsed, 2)}
        if not quiet:
            console.print(f"   {step.name}: {describe(result, settings.clv.time_unit)} ({elapsed:.1f}s)")
            for left_out in left_out_lines(result):
                console.print(f"      {left_out}")
    report("done", 1.0)
    summary["customers"] = store.count("traits")
    return summary


def left_out_line(result: Any) -> str | None:
    """The coverage sentence of a step whose result carries ``left_out`` (the place traits:
    who has no location, and why), or ``None``."""
    if isinstance(result, dict) and isinstance(result.get("left_out"), dict):
        line = Coverage.from_json(result["left_out"]).sentence()
        return f"{result['left_out_of']}: {line}" if line and result.get("left_out_of") else line
    return None


def left_out_lines(result: Any) -> list[str]:
    """Every coverage sentence of a step: :func:`left_out_line`, then the voice step's second
    one (``left_out_traits``: who got no voice traits because they objected to profiling)."""
    lines = [left_out_line(result)]
    if isinstance(result, dict) and isinstance(result.get("left_out_traits"), dict):
        lines.append(Coverage.from_json(result["left_out_traits"]).sentence())
    return [line for line in lines if line]


def describe(result: Any, time_unit: str = "D") -> str:
    """A step's result in a few words (the line ``personae build`` prints for it).

    Lifetime-value parameters are said with their meaning (:func:`model_in_words`), not as raw
    optimizer output; ``time_unit`` (``D`` or ``W``) is the unit the models were fitted in.
    """
    if isinstance(result, int):
        return f"{result:,} customers"
    if isinstance(result, dict) and set(result) <= {"customers", "left_out", "left_out_of"}:
        return describe(result.get("customers", 0))  # the traits step: its count (and coverage)
    if isinstance(result, dict):
        words = model_in_words(result, time_unit)
        shown = {k: v for k, v in result.items() if not isinstance(v, dict | list) and k not in words[1]}
        return ", ".join([f"{k} {v}" for k, v in shown.items()] + ([words[0]] if words[0] else []))
    return str(result)
