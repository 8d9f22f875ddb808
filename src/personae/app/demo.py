"""``personae demo``: generate a data set, ingest it and summarise what was loaded.

It runs the whole pipeline on the embedded store, so every section of the report it ends with
has something to show: generate and ingest; a first build a quarter before the data ends
(:data:`EARLIER`); the playbook with the largest audience then activated, as a campaign would
have been; the build as of the last day (a second dated snapshot: segment migration, and a
month of outcomes after the activation: playbook impact); clusters; and (through the
entrypoint's ``write_report``) the HTML report.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from personae.app import actions
from personae.app.build import run_build
from personae.app.clusters import build_clusters
from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.config import PersonalizeSettings, load_settings
from personae.devtools.generate import generate_dataset
from personae.store import Store

#: Ingest order: reference data first, then people, then what they did.
INGEST_ORDER = ("stores", "products", "customers", "consents", "orders", "events", "surveys")
#: How long before the data ends the demo's first build (and its activation) is dated: long
#: enough for a 30-day impact window after the activation, and for segments to move.
EARLIER = timedelta(days=90)


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
            s = ingest_file(
                store,
                kind,
                files[kind],
                identity=settings.identity,
                settings=settings.ingest,
                timezone=settings.timezone,
            )
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
        end = last_data_date(store)
        earlier = end - EARLIER
        console.print(f"3. building as of {earlier} (a quarter before the data ends)")
        results["earlier_build"] = run_build(store, as_of=earlier, console=console, quiet=quiet)
        playbook = largest_playbook(store, settings.personalize)
        if playbook is None:
            console.print("4. no playbook has an audience: nothing activated")
        else:
            console.print(f"4. activating {playbook} as of {earlier}, as a campaign would have been")
            activated = actions.activate(
                store, settings.personalize, playbook, out / f"audience-{playbook}.csv"
            )
            results["activation"] = activated
            console.print(
                f"   {activated['exported']:,} customers treated, {activated['held_out']:,} held out "
                f"(the control group the impact is measured against): {activated['file']}"
            )
        console.print(f"5. building traits, lifetime value and segments as of {end}")
        build = run_build(store, console=console, quiet=quiet)
        results["build"] = build
        console.print("6. clustering customers with orders")
        found = build_clusters(store, settings=settings.traits)
        results["clusters"] = found
        console.print(f"   {len(found.get('clusters', [])):,} clusters, each a segment cluster:NAME")
        if write_report is not None:
            console.print("7. writing the HTML report")
            written = write_report(store)
            results["report"] = written["report"]
            console.print(f"   report: {written['report']} (open it in a browser; no network needed)")
    elapsed = time.perf_counter() - started
    console.print(f"[green]done[/green] in {elapsed:.1f}s — database: {store.path}")
    console.print(
        "next: personae customers show C000001 · personae traits show C000001 --json · "
        "personae clv fit --calibration-end 2025-06-30 --json · "
        "personae keys create --role read, then personae serve: the dashboard"
    )
    return results


def largest_playbook(store: Store, settings: PersonalizeSettings) -> str | None:
    """The playbook most customers would get now (treated or held out), preferring one with a
    control group so its impact can be measured; ``None`` when no playbook has an audience."""
    _, _, decisions, _ = actions.decide_many(store, settings)
    taken = Counter(d.chosen.playbook for d in decisions if d.chosen is not None)
    held = {d.chosen.playbook for d in decisions if d.chosen is not None and d.chosen.status == "held_out"}
    ranked = sorted(taken, key=lambda p: (p in held, taken[p]), reverse=True)
    return ranked[0] if ranked else None
