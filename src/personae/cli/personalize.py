"""``personae recommend``, ``actions``, ``activate``, ``impact`` and ``webhooks``.

Thin shell over :mod:`personae.app.recommend`, :mod:`personae.app.actions`,
:mod:`personae.app.impact` and :mod:`personae.app.webhooks`.
"""

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

from personae.app import actions
from personae.app import impact as impact_report
from personae.app import recommend as recommending
from personae.app import webhooks as webhook_delivery
from personae.cli.app import State, app, console, print_json, progress_bar
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
actions_app = typer.Typer(
    help="Next best actions: playbooks, decisions, message previews.", no_args_is_help=True
)
webhooks_app = typer.Typer(help="Segment entry/exit webhooks: send, status, redrive.", no_args_is_help=True)
app.add_typer(recommend_app, name="recommend")
app.add_typer(actions_app, name="actions")
app.add_typer(webhooks_app, name="webhooks")


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
                "model": settings.model,
                "as_of": ctx.as_of.isoformat(),
                "recommendations": recs,
            }
        )
        return
    table = Table(
        "rank", "product", "name", "category", "score", "reason", title=f"{customer_id} ({settings.model})"
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
            writer.write_table(batch)
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
    model: str | None = typer.Option(None, "--model", help="ease or item_knn (default: the configured)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Choose the recommender's parameters by time-split validation on this store's data.

    The best combination is stored and used from then on (setting `use_tuned`)."""
    settings = State.settings().personalize.recommend
    with State.open_store() as store, progress_bar("tuning") as report:
        result = recommending.tune(store, settings, k=k, model=model, progress=report)
    if as_json:
        print_json(result)
        return
    keys = list(result["chosen"])
    table = Table(
        *keys,
        f"NDCG@{k}",
        f"recall@{k}",
        title=f"{result['model']}: {result['customers_evaluated']:,} customers, latest purchases held out",
    )
    for r in sorted(result["tried"], key=lambda r: -r["ndcg"]):
        mark = " ← chosen" if {key: r[key] for key in keys} == result["chosen"] else ""
        table.add_row(*(str(r[key]) for key in keys), f"{r['ndcg']:.4f}{mark}", f"{r['recall']:.4f}")
    console.print(table)
    console.print(
        f"chosen {result['chosen']} (NDCG@{k} {result['ndcg']:.4f}; configured "
        f"{result['configured']}: {result['configured_ndcg']:.4f})"
    )


@recommend_app.command("evaluate")
def recommend_evaluate(
    k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="List length"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Time-split offline evaluation of every model against the popularity baseline."""
    settings = State.settings().personalize.recommend
    with State.open_store() as store, progress_bar("evaluating") as report:
        result = recommending.evaluate(store, settings, k=k, progress=report)
    if as_json:
        print_json(result)
        return
    table = Table(
        "model",
        f"precision@{k}",
        f"recall@{k}",
        f"NDCG@{k}",
        "coverage",
        "NDCG ÷ popularity",
        "fit s",
        title=f"{result['customers_evaluated']:,} customers, "
        f"latest {result['holdout_share']:.0%} of purchases held out",
    )
    for r in result["models"]:
        name = r["model"] + (" (default)" if r["model"] == result["default_model"] else "")
        table.add_row(
            name,
            f"{r['precision']:.4f}",
            f"{r['recall']:.4f}",
            f"{r['ndcg']:.4f}",
            f"{r['coverage']:.3f}",
            f"{r.get('ndcg_vs_popularity') or 0:.2f}",
            f"{r['fit_seconds']:.2f}",
        )
    console.print(table)


@actions_app.command("playbooks")
def actions_playbooks(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """The configured playbooks, by priority."""
    book = actions.load_book(State.settings().personalize)
    if as_json:
        print_json(book.model_dump(mode="json"))
        return
    table = Table("priority", "playbook", "audience", "channels", "holdout", "cooldown")
    for p in book.playbooks:
        table.add_row(
            str(p.priority),
            p.name,
            escape(p.audience),
            ", ".join(p.channels),
            f"{p.holdout:.0%}",
            f"{p.cooldown_days}d",
        )
    console.print(table)


@actions_app.command("next")
def actions_next(
    customer_id: str = typer.Argument(..., help="Customer id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The next best action for a customer, and why the other playbooks did not apply."""
    with State.open_store() as store:
        d = actions.next_action(store, State.settings().personalize, customer_id)
    if as_json:
        print_json(d)
        return
    head = (
        f"next action: {d['action']} by {d['channel']}"
        if d["action"]
        else f"held out of {d['held_out_of']} (control group): no message"
        if d["held_out_of"]
        else "no action"
    )
    console.print(f"[bold]{customer_id}[/bold] as of {d['as_of']}: {head}")
    table = Table("playbook", "status", "reason")
    for s in d["playbooks"]:
        table.add_row(s["playbook"], s["status"], escape(s["reason"]))
    console.print(table)


@actions_app.command("preview")
def actions_preview(
    playbook: str = typer.Argument(..., help="Playbook name"),
    customer_id: str = typer.Argument(..., help="Customer id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Render the playbook's message for one customer (needs their consent)."""
    with State.open_store() as store:
        msg = actions.preview(store, State.settings().personalize, playbook, customer_id)
    if as_json:
        print_json(msg)
        return
    console.print(
        f"[bold]{playbook}[/bold] → {customer_id} by {msg['channel']} ({msg['status']}: {escape(msg['why'])})"
    )
    if msg["subject"]:
        console.print(f"subject: {escape(msg['subject'])}")
    console.print(escape(msg["body"]), highlight=False)


@app.command("activate")
def activate(
    playbook: str = typer.Argument(..., help="Playbook name"),
    out: Path = typer.Option(..., "--out", "-o", help="Audience file (.csv or .jsonl)"),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Export a playbook's audience with personalised content; record treated and held-out customers."""
    with State.open_store() as store:
        result = actions.activate(store, State.settings().personalize, playbook, out, fmt)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['playbook']}: {result['exported']:,} customers written to {out} ({result['format']}); "
        f"{result['held_out']:,} held out as the control group; {result['suppressed']:,} suppressed "
        f"(consent, caps, cooldown, quiet period); run {result['run_id']}"
    )


@app.command("impact")
def impact(
    playbook: str = typer.Argument(..., help="Playbook name"),
    window: int = typer.Option(30, "--window", min=1, help="Days after the activation to measure"),
    plot: Path | None = typer.Option(None, "--plot", help="Chart of the effects (.png, .svg, .html)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Treated against held-out customers: conversion, revenue, NPS, CES and trust, with intervals."""
    with State.open_store() as store:
        report = impact_report.impact(
            store, playbook, window_days=window, confidence=State.settings().experience.confidence
        )
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg", ".html", ".json", ".pdf"):
            raise InputError(f"--plot {plot}: use a .png, .svg, .pdf, .html or .json file")
        impact_report.impact_chart(report).save(str(plot))
        report["plot"] = str(plot)
    if as_json:
        print_json(report)
        return
    console.print(
        f"[bold]{playbook}[/bold]: {report['treated']:,} treated, "
        f"{report['held_out']:,} held out, {window} days"
    )
    table = Table(
        "metric", "treated", "control", "difference", f"{report['confidence']:.0%} interval", "n (t/c)"
    )
    f = lambda v: "–" if v is None else f"{v:,.3f}"  # noqa: E731
    for e in report["effects"]:
        table.add_row(
            e["metric"],
            f(e["treatment"]),
            f(e["control"]),
            f(e["difference"]),
            f"[{f(e['low'])}, {f(e['high'])}]",
            f"{e['n_treatment']}/{e['n_control']}",
        )
    console.print(table)
    console.print(report["verdict"])
    if plot is not None:
        console.print(f"chart written to {plot}")


@webhooks_app.command("send")
def webhooks_send(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Queue new segment entries/exits for each subscription and deliver everything pending."""
    settings = State.settings().personalize.webhooks
    with State.open_store() as store:
        queued = webhook_delivery.enqueue(store, settings)
        sent = webhook_delivery.deliver(store, settings)
    result = {**queued, **sent}
    if as_json:
        print_json(result)
        return
    console.print(", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.items()))


@webhooks_app.command("status")
def webhooks_status(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Messages by status and the number of dead letters."""
    with State.open_store() as store:
        result = webhook_delivery.status(store)
    if as_json:
        print_json(result)
        return
    console.print(result)


@webhooks_app.command("redrive")
def webhooks_redrive() -> None:
    """Put dead-lettered messages back in the queue (then run `webhooks send`)."""
    with State.open_store() as store:
        n = webhook_delivery.redrive(store)
    console.print(f"{n:,} messages queued again")
