"""``personae build``: the build steps, in order, with progress.

Each step is a library function over the store; this module only sequences them. Steps are
added as features land (traits, CLV, segments, clusters…).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console

from personae.store import Store


def run_build(store: Store, *, as_of: datetime | None = None, console: Console | None = None,
              quiet: bool = False) -> dict[str, Any]:
    """Run every build step; returns a summary per step."""
    summary: dict[str, Any] = {}
    console = console or Console()
    counts = {name: store.count(name) for name in
              ("customers", "orders", "events", "surveys", "consents", "products", "stores")}
    summary["tables"] = counts
    merges = store.count("identity_merges")
    summary["merges"] = merges
    if not quiet:
        console.print("   loaded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
                      + f"; {merges:,} profile merges")
    return summary
