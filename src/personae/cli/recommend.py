"""``personae recommend``: product recommendations, their export, tuning and evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from personae.app import recommend as recommending
from personae.app.export import finite
from personae.cli.context import State, console, print_json, progress_bar, say_left_out
from personae.errors import InputError


class _CustomerFirst(TyperGroup):
    """``personae recommend C000042`` means ``personae recommend show C000042``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


recommend_app = typer.Typer(
    cls=_CustomerFirst,
    help="Product recommendations: `recommend CUSTOMER_ID`, `export`, `evaluate`.",
    no_args_is_help=True,
)


@recommend_app.command("show", hidden=True)
def recommend_show(
    customer_id: str = typer.Argument(..., help="Customer id"),
    k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="How many products"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Top products for one customer, each with its reason."""
    settings = State.settings().personalize.recommend
    with State.open_store() as store:
        ctx = recommending.fit_context(store, settings)
        recs = recommending.recommend_one(ctx, customer_id, k)
    if as_json:
        print_json(
            {
                "customer_id": customer_id,
                "model": ctx.model.name,
                "as_of": ctx.as_of.isoformat(),
                "recommendations": recs,
            }
        )
        return
    table = Table(
        "rank", "product", "name", "category", "score", "reason", title=f"{customer_id} ({ctx.model.name})"
    )
    for r in recs:
        table.add_row(
            str(r["rank"]),
            r["product_id"],
            escape(r["name"]),
            r["category"],
            f"{r['score']:.3f}",
            escape(r["reason"]),
        )
    console.print(table)


@recommend_app.command("export")
def recommend_export(
    k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="Products per customer"),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (csv: stdout when omitted)"),
) -> None:
    """Recommendations for every customer: customer_id, rank, product_id, score, reason."""
    if fmt not in ("csv", "parquet"):
        raise InputError(f"--format {fmt!r}: use csv or parquet")
    if fmt == "parquet" and out is None:
        raise InputError("Parquet needs a file: add --out FILE.parquet")
    settings = State.settings().personalize.recommend
    with State.open_store() as store, progress_bar("recommendations") as report:
        ctx = recommending.fit_context(store, settings)
        batches = recommending.export_batches(ctx, k, progress=report)
        rows = _write_batches(batches, fmt, out)
    if out is not None:
        console.print(f"{rows:,} recommendations for {len(ctx.traits):,} customers written to {out}")


def _write_batches(batches: Any, fmt: str, out: Path | None) -> int:
    import sys

    rows = 0
    sink: Any = out if out is not None else sys.stdout.buffer
    writer: Any = None
    try:
        for batch in batches:
            if writer is None:
                writer = (
                    pq.ParquetWriter(str(out), recommending.EXPORT_SCHEMA)
                    if fmt == "parquet"
                    else pacsv.CSVWriter(sink if out is None else str(out), recommending.EXPORT_SCHEMA)
                )
            writer.write_table(finite(batch))
            rows += batch.num_rows
        if writer is None and fmt == "csv":
            pacsv.write_csv(
                pa.table({c: [] for c in recommending.EXPORT_SCHEMA.names}), sink if out is None else str(out)
            )
    finally:
        if writer is not None:
            writer.close()
    return rows


@recommend_app.command("tune")
def recommend_tune(
    k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="List length"),
    model: str | None = typer.Option(
        None, "--model", help="Tune only this model (ease or item_knn); default: choose among all"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Choose the recommender and its parameters by time-split validation on this store's data.

    The best is stored and used from then on (setting `use_tuned`)."""
    settings = State.settings().personalize.recommend
    with State.open_store() as store, progress_bar("tuning") as report:
        result = recommending.tune(store, settings, k=k, model=model, progress=report)
    if as_json:
        print_json(result)
        return
    table = Table(
        "model",
        "parameters",
        f"NDCG@{k}",
        f"recall@{k}",
        title=f"validation: {result['customers_evaluated']:,} customers, latest purchases held out "
        f"({result['protocol']} protocol)",
    )
    chosen = {"model": result["model"], **result["chosen"]}
    for r in sorted(result["tried"], key=lambda r: -r["ndcg"]):
        params = {key: v for key, v in r.items() if key not in ("model", "ndcg", "recall")}
        mark = " ← chosen" if {"model": r["model"], **params} == chosen else ""
        table.add_row(
            r["model"],
            ", ".join(f"{key}={v}" for key, v in params.items()) or "—",
            f"{r['ndcg']:.4f}{mark}",
            f"{r['recall']:.4f}",
        )
    console.print(table)
    console.print(f"chosen {result['model']} {result['chosen']} (NDCG@{k} {result['ndcg']:.4f})")


def _with_interval(r: dict[str, Any], key: str) -> str:
    lo, hi = r[f"{key}_interval"]
    return f"{r[key]:.4f} [{lo:.4f}, {hi:.4f}]"


@recommend_app.command("evaluate")
def recommend_evaluate(
    k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="List length"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Time-split offline evaluation: the standard baselines and the default, with 95% intervals."""
    settings = State.settings().personalize.recommend
    with State.open_store() as store, progress_bar("evaluating") as report:
        result = recommending.evaluate(store, settings, k=k, progress=report)
    if as_json:
        print_json(result)
        return
    console.print(
        f"split: each customer's latest {result['holdout_share']:.0%} of purchases held out by time "
        f"({result['train_interactions']:,} interactions to learn from, {result['test_interactions']:,} "
        f"held out); protocol {result['protocol']} (re-bought pairs {result['repeat_share']:.1%}); "
        f"relevant: {result['relevance']}"
    )
    table = Table(
        "model",
        f"NDCG@{k} [95%]",
        f"recall@{k} [95%]",
        f"precision@{k} [95%]",
        "coverage",
        "÷ popularity",
        "÷ ALS",
        "fit s",
        title=f"{result['customers_evaluated']:,} customers evaluated",
    )
    for r in result["models"]:
        name = r["model"]
        if "chosen" in r:
            params = ", ".join(f"{key}={v}" for key, v in r["chosen"].items() if key != "model")
            name = f"{name} (default: {r['chosen']['model']}{', ' + params if params else ''})"
        table.add_row(
            escape(name),
            _with_interval(r, "ndcg"),
            _with_interval(r, "recall"),
            _with_interval(r, "precision"),
            f"{r['coverage']:.3f}",
            "—" if r.get("ndcg_vs_popularity") is None else f"{r['ndcg_vs_popularity']:.2f}",
            "—" if r.get("ndcg_vs_als") is None else f"{r['ndcg_vs_als']:.2f}",
            f"{r['fit_seconds']:.2f}",
        )
    console.print(table)
    for name, why in result.get("models_skipped", {}).items():
        console.print(f"{name} not evaluated: {escape(why)}")
    say_left_out(result["left_out"])
