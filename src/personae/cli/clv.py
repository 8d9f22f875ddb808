"""``personae clv``: the BTYD summary and calibration/holdout fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from personae.app.clv import ALL_MODEL_KEYS, clv_fit, clv_summary
from personae.app.export import write_table
from personae.app.reads import parse_as_of
from personae.cli.context import State, console, print_json, say_left_out
from personae.clv.words import model_in_words
from personae.errors import InputError

clv_app = typer.Typer(
    help="Customer lifetime value (BG/NBD, MBG/NBD, Pareto/NBD or BG/BB + Gamma-Gamma).", no_args_is_help=True
)


def _in_words(fitted: dict[str, Any], time_unit: str) -> str:
    """A model's parameters rounded and said with their meaning, one clause a line (``--json``
    keeps the raw numbers); parameters the words do not cover are listed rounded after them."""
    words, said = model_in_words(fitted, time_unit)
    rest = [
        f"{k} {fitted[k]:.3g}"
        for k in fitted
        if k not in said
        and k not in ("loglik", "penalizer", "warning", "opportunity", "customers", "busy_share")
        and isinstance(fitted[k], int | float)
    ]
    return "\n".join([*words.split("; "), *([", ".join(rest)] if rest else [])]) if words else ", ".join(rest)


@clv_app.command("summary")
def summary(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Observation end (default: last date in the data)"
    ),
    time_unit: str = typer.Option("D", "--time-unit", help="D (days) or W (weeks)"),
    format: str = typer.Option("csv", "--format", "-f", help="csv or json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """customer_id, frequency, recency, T, monetary_value — the BTYD conventions exactly."""
    import pyarrow as pa

    if format not in ("csv", "json", "parquet"):
        raise InputError(f"--format {format!r}: use csv or json")
    with State.open_store() as store:
        df = clv_summary(store, as_of=parse_as_of(as_of), time_unit=time_unit, settings=State.settings().clv)
    write_table(pa.Table.from_pandas(df, preserve_index=False), format, out)


@clv_app.command("fit")
def fit(
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of the calibration period"),
    holdout_end: str | None = typer.Option(None, "--holdout-end", help="Last day of the holdout period"),
    time_unit: str = typer.Option("D", "--time-unit", help="D (days) or W (weeks)"),
    model: str | None = typer.Option(
        None,
        "--model",
        help="bg_nbd, mbg_nbd, pareto_nbd, bg_bb (purchase opportunities: needs clv.opportunity) "
        "or auto (fit each, keep the best on the holdout); default: clv.model in personae.yaml (auto)",
    ),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Write the calibration plot here (.png or .svg) and the tracking plot next to it "
        "(<name>-tracking.png); needs --holdout-end",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Fit on the calibration period; with a holdout, check the predictions against it."""
    cal = parse_as_of(calibration_end)
    hold = parse_as_of(holdout_end)
    assert cal is not None
    if plot is not None and hold is None:
        raise InputError("--plot needs --holdout-end", hint="the plots compare the model with the holdout")
    with State.open_store() as store:
        result = clv_fit(
            store,
            calibration_end=cal,
            holdout_end=hold,
            time_unit=time_unit,
            plot=plot,
            settings=State.settings().clv,
            model=model,
        )
    if as_json:
        print_json(result)
        return
    by_model = result.get("holdout", {}).get("by_model", {})
    table = Table("model", "parameters", "log-likelihood", "holdout MAE", "holdout total error")
    for key in ALL_MODEL_KEYS:
        if key not in result:
            continue
        fitted = result[key]
        if "error" in fitted:
            table.add_row(key, f"[red]{fitted['error']}[/red]", "-", "-", "-")
            continue
        ev = by_model.get(key)
        table.add_row(
            key + (" (chosen)" if key == result["model"]["chosen"] else ""),
            _in_words(fitted, time_unit),
            f"{fitted['loglik']:.2f}",
            f"{ev['mae']:.4f}" if ev and ev["mae"] is not None else "-",
            f"{ev['error_pct']:+.1f}%" if ev and ev["error_pct"] is not None else "-",
        )
    gg = result["gamma_gamma"]
    table.add_row(
        "gamma_gamma",
        _in_words({"gg_p": gg["p"], "gg_q": gg["q"], "gg_gamma": gg["gamma"]}, time_unit),
        f"{gg['loglik']:.2f}",
        "-",
        "-",
    )
    console.print(table)
    console.print(f"model: {result['model']['chosen']} — {result['model']['why']}")
    for key in ALL_MODEL_KEYS:
        warning = result.get(key, {}).get("warning")
        if warning:
            console.print(f"[yellow]warning ({key}):[/yellow] {warning}")
    widths = result.get("clv_interval", {})
    if widths.get("in_words"):
        console.print(f"CLV interval: {widths['in_words']}")
    say_left_out(result["left_out"])
    say_left_out(result["spend_left_out"])
    if "holdout" in result:
        h = result["holdout"]
        unit = h["by_model"].get(h["model"], {}).get("unit", "repeat transactions")
        line = (
            f"holdout ({h['model']}): actual {h['actual_transactions']:,.0f} vs predicted "
            f"{h['predicted_transactions']:,.1f} {unit}"
        )
        if h.get("plot"):
            line += f"; plots: {h['plot']}, {h['tracking_plot']}"
        console.print(line)
