"""Clusters at scale: fit on a sample, assign a million customers, and the build's assign step.

Target (issue 5): ``personae clusters build`` on 1M customers, and the ``clusters`` step of
``personae build`` (assigning everyone with the stored model). The yardstick measured in the
same run is one plain scikit-learn ``KMeans`` fit on the whole preprocessed matrix — what
"just run k-means on everyone" would cost — so the ratio says what fitting on a sample buys.

Data is made inside DuckDB (``bench_traits.populate``), then the real affinities, traits and
segments steps run once (not timed: setup). CLV is skipped (``clv``/``p_alive`` unknown).

    .venv/bin/python benchmarks/bench_clusters.py [--customers 1000000] [--lines 3000000] [--auto]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_traits import populate
from sklearn.cluster import KMeans

from personae.app.clusters import assign_clusters, build_clusters, clustered_traits
from personae.app.traits import build_affinities, build_traits
from personae.clusters.features import Preprocessor, select_features
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore

AS_OF = date(2025, 12, 31)


def timed(label: str, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.1f}s", flush=True)
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--auto", action="store_true", help="also time the automatic choice of k")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore.open(Path(tmp) / "bench.duckdb")
        print(f"setup: {args.customers:,} customers, {args.lines:,} order lines", flush=True)
        populate(store, args.lines, args.customers)
        settings = TraitSettings()
        timed(
            "affinities step (incl. price band, channel, daypart)",
            lambda: build_affinities(store, AS_OF, settings),
        )
        timed("traits step", lambda: build_traits(store, AS_OF, settings))
        print("clusters:", flush=True)
        fit, result = timed(
            "clusters build --k 6 (fit on 50k, assign all, profiles, store)",
            lambda: build_clusters(store, k=6, seed=0, snapshot=False),
        )
        assign, _ = timed("build step: assign everyone with the stored model", lambda: assign_clusters(store))
        auto = None
        if args.auto:
            auto, r = timed("clusters build --k auto", lambda: build_clusters(store, seed=0, snapshot=False))
            print(f"    chose k={r['k']}")  # type: ignore[index]
        features = select_features(None)
        traits = clustered_traits(store, features)
        x = Preprocessor(features).fit_transform(traits)
        full, _ = timed(
            f"yardstick: sklearn KMeans(6, n_init=4) on all {len(x):,} rows",
            lambda: KMeans(6, n_init=4, random_state=0).fit(x),
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"customers clustered: {result['customers']:,}; k={result['k']}")  # type: ignore[index]
        print(f"ratio build / yardstick: {fit / full:.2f}x; assign / yardstick: {assign / full:.2f}x")
        if auto is not None:
            print(f"ratio auto-k build / yardstick: {auto / full:.2f}x")
        print(f"peak memory: {peak:,.0f} MB")
        store.close()


if __name__ == "__main__":
    main()
