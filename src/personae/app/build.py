"""``personae build``: the build steps, in order, with progress.

Each step is a library function over the store (see :mod:`personae.app.traits`); this module
only sequences them, times them and reports progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
from personae.config import Settings, load_settings
from personae.store import Store

Progress = Callable[[str, float], None]


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
    as_of = as_of or last_data_date(store)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "steps": {}}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("affinities", lambda: build_affinities(store, as_of, settings.traits)),
        ("clv", lambda: build_clv(store, as_of, settings.clv)),
        ("voice", lambda: build_voice(store, as_of, settings.voice)),
        ("traits, rfm and lifecycle", lambda: build_traits(store, as_of, settings.traits)),
        ("detractor risk", lambda: build_detractor_risk(store, as_of, settings.experience)),
        ("clusters", lambda: assign_clusters(store, as_of)),
        ("segments", lambda: evaluate_segments(store, as_of, settings.traits)),
    ]
    for i, (name, step) in enumerate(steps):
        report(name, i / len(steps))
        started = time.perf_counter()
        result = step()
        elapsed = time.perf_counter() - started
        summary["steps"][name] = {"result": result, "seconds": round(elapsed, 2)}
        if not quiet:
            console.print(f"   {name}: {_describe(result)} ({elapsed:.1f}s)")
    report("done", 1.0)
    summary["customers"] = store.count("traits")
    return summary


def _describe(result: Any) -> str:
    if isinstance(result, int):
        return f"{result:,} customers"
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items() if not isinstance(v, dict | list))
    return str(result)
