"""``personae clusters`` and ``personae preferences``: ML segments and micro-segments.

Thin shell over :mod:`personae.app.clusters`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from personae.app.clusters import (
    build_clusters,
    cluster_members,
    cluster_summary,
    evaluate_truth,
    rename_cluster,
    write_map,
)
from personae.app.export import write_table
from personae.cli.context import State, console, print_json, progress_bar, say_left_out
from personae.errors import InputError

clusters_app = typer.Typer(help="ML segmentation: clusters that explain themselves.", no_args_is_help=True)


def _k(value: str) -> int | None:
    if value.strip().lower() == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"--k {value!r}: give a number of clusters (2 or more) or `auto`") from None


def _show_profiles(data: dict[str, Any]) -> None:
    table = Table("#", "name", "size", "revenue", "avg CLV", "NPS", "sets it apart")
    for c in data["clusters"]:
        apart = ", ".join(f"{d['column']} {d['effect']:+.1f}" for d in c["distinguishing"][:3])
        table.add_row(
            str(c["cluster"]),
            c["name"],
            f"{c['size']:,} ({c['share']:.0%})",
            f"{c['revenue_share']:.0%}",
            "—" if c["avg_clv"] is None else f"{c['avg_clv']:,.0f}",
            "—" if c["nps"] is None else f"{c['nps']:+.0f}",
            apart,
        )
    console.print(table)
    console.print(
        f"k={data['k']} · silhouette {_num(data['silhouette'])} · Davies-Bouldin "
        f"{_num(data['davies_bouldin'])} · bootstrap stability (ARI) {_num(data['stability_ari'])} · "
        f"{data['customers']:,} {data.get('population', 'customers')}"
    )
    _show_selection(data.get("k_selection") or {})


def _num(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _show_selection(selection: dict[str, Any]) -> None:
    """The evidence for every k tried, and why k was chosen (one sentence)."""
    scores = selection.get("scores") or []
    if scores and "gap" in scores[0]:
        table = Table("k", "gap ± s", "silhouette", "stability (ARI)", title="choosing k")
        for s in scores:
            mark = " ←" if s["k"] == selection.get("k") else ""
            table.add_row(
                f"{s['k']}{mark}",
                f"{s['gap']:.3f} ± {s['gap_se']:.3f}",
                _num(s["silhouette"]) if s["silhouette"] is not None else "— (one cluster)",
                _num(s["stability"]) if s["stability"] is not None else "— (one cluster)",
            )
        console.print(table)
        console.print(f"scores on a random subsample of {selection.get('scored_on', 0):,} customers")
    if selection.get("reason"):
        console.print(f"k: {selection['reason']}")
    if selection.get("warning"):
        console.print(f"[yellow]warning:[/yellow] {selection['warning']}")


@clusters_app.command("build")
def build(
    k: str = typer.Option(
        "auto",
        "--k",
        help="Number of clusters, or `auto` (gap statistic among stable k; see docs/clusters.md)",
    ),
    features: str | None = typer.Option(
        None,
        "--features",
        help="Comma-separated features and/or families: value, behaviour, channel, attitude, "
        "demographic, taste (default: all but voice, country and age band)",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same clusters)"),
    sample: int = typer.Option(
        50_000, "--sample", help="Customers the model is fitted on (all are assigned)"
    ),
    map_file: Path | None = typer.Option(None, "--map", help="Also write the 2-D map (.png, .svg, .html)"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Cluster every customer with orders; each cluster becomes a segment `cluster:NAME`."""
    settings = State.settings().traits
    with State.open_store() as store, progress_bar("clustering") as report:
        result = build_clusters(
            store,
            k=_k(k),
            features=features,
            seed=seed,
            sample_size=sample,
            settings=settings,
            progress=report,
        )
        if map_file is not None:
            result["map"] = write_map(store, map_file, seed=seed)["map"]
    if as_json:
        print_json(result)
        return
    _show_profiles(result)
    say_left_out(result["left_out"])
    if map_file is not None:
        console.print(f"map: {map_file}")


@clusters_app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """The active clusters: size, revenue, CLV, NPS and what sets each apart."""
    with State.open_store() as store:
        data = cluster_summary(store)
    if as_json:
        print_json(data)
        return
    console.print(f"model {data['model_id']} (built {data['built_at']}, traits as of {data['as_of']})")
    _show_profiles(data)
    for c in data["clusters"]:
        console.print(f"\n[bold]{c['cluster']}. {c['name']}[/bold]  segment: {c['segment']}")
        for d in c["distinguishing"]:
            inside = "—" if d["mean_in"] is None else f"{d['mean_in']:,.3g}"
            outside = "—" if d["mean_out"] is None else f"{d['mean_out']:,.3g}"
            note = "" if d.get("clustered", True) else "   (describes; not clustered on)"
            console.print(
                f"   {d['column']:<28} effect {d['effect']:+.2f}   {inside} vs {outside} elsewhere{note}"
            )


@clusters_app.command("evaluate")
def evaluate(
    truth: Path = typer.Option(..., "--truth", help="CSV with customer_id and a label column"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Score the clusters against known groups: adjusted Rand index and a confusion table."""
    with State.open_store() as store:
        result = evaluate_truth(store, truth)
    if as_json:
        print_json(result)
        return
    clusters = sorted({c for row in result["confusion"].values() for c in row})
    table = Table(result["label"], *clusters)
    for group, row in result["confusion"].items():
        table.add_row(group, *(f"{row.get(c, 0):,}" for c in clusters))
    console.print(table)
    console.print(
        f"adjusted Rand index {result['ari']:.3f} · purity {result['purity']:.3f} · "
        f"{result['matched']:,} customers compared"
    )


@clusters_app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", help="csv, json or parquet"),
    out: Path | None = typer.Option(None, "--out", help="File (default: stdout)"),
) -> None:
    """customer_id, cluster, cluster_name for every clustered customer."""
    with State.open_store() as store:
        table = cluster_members(store)
    write_table(table, fmt, out)


@clusters_app.command("rename")
def rename(
    cluster: str = typer.Argument(..., help="Cluster number or current name"),
    name: str = typer.Argument(..., help="New name"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Rename a cluster (its segment becomes `cluster:NEW NAME`)."""
    settings = State.settings().traits
    with State.open_store() as store:
        result = rename_cluster(store, cluster, name, settings)
    if as_json:
        print_json(result)
        return
    console.print(
        f"cluster {result['cluster']}: {result['old_name']!r} → {result['name']!r} ({result['segment']})"
    )


@clusters_app.command("map")
def map_(
    out: Path = typer.Option(Path("clusters-map.png"), "--out", help="Image file (.png, .svg, .html)"),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample drawn"),
) -> None:
    """A 2-D map (PCA) of customers coloured by cluster."""
    with State.open_store() as store:
        result = write_map(store, out, seed=seed)
    console.print(f"map of {result['points']:,} customers: {result['map']}")
