"""``personae demo``: generate a data set, ingest it and summarise what was loaded.

It runs the whole pipeline on the embedded store: generate, ingest, build, and (through the
entrypoint's ``write_report``) the HTML report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.config import load_settings
from personae.devtools.generate import generate_dataset
from personae.store import Store

#: Ingest order: reference data first, then people, then what they did.
INGEST_ORDER = ("stores", "products", "customers", "consents", "orders", "events", "surveys")


def run_demo(
    open_store: Callable[[], Store],
    *,
    customers: int,
    seed: int,
    out: Path,
    quiet: bool = False,
    console: Console | None = None,
    write_report: Callable[[Store], Mapping[str, Any]] | None = None,
) -> dict[str, object]:
    """Run the demo end to end and return what it printed, as data.

    ``write_report`` is the entrypoint's: the HTML report is drawn by :mod:`personae.report`,
    which the application layer does not import.
    """
    console = console or Console()
    started = time.perf_counter()
    console.rule("[bold]personae demo")
    console.print(f"1. generating {customers:,} customers (seed {seed}) into {out}")
    files = generate_dataset(customers, seed, out, fmt="csv")
    console.print("2. ingesting into the embedded store")
    settings = load_settings()
    loaded = Table("kind", "read", "accepted", "rejected", "duplicates", "merges")
    results: dict[str, object] = {}
    with open_store() as store:
        for kind in INGEST_ORDER:
            s = ingest_file(store, kind, files[kind], identity=settings.identity, timezone=settings.timezone)
            results[kind] = s.as_dict()
            loaded.add_row(
                kind,
                f"{s.read:,}",
                f"{s.accepted:,}",
                f"{s.rejected:,}",
                f"{s.duplicates:,}",
                f"{s.merges:,}",
            )
        console.print(loaded)
        console.print("3. building traits, lifetime value and segments")
        build = run_build(store, console=console, quiet=quiet)
        results["build"] = build
        if write_report is not None:
            console.print("4. writing the HTML report")
            written = write_report(store)
            results["report"] = written["report"]
            console.print(f"   report: {written['report']} (open it in a browser; no network needed)")
    elapsed = time.perf_counter() - started
    console.print(f"[green]done[/green] in {elapsed:.1f}s — database: {store.path}")
    console.print(
        "next: personae customers show C000001 · personae traits show C000001 --json · "
        "personae clv fit --calibration-end 2025-06-30 --json"
    )
    return results
