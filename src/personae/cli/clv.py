"""``personae clv``: the BTYD summary and calibration/holdout fits."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from personae.app.clv import clv_fit, clv_summary
from personae.app.export import write_table
from personae.app.reads import parse_as_of
from personae.cli.context import State, console, print_json, say_left_out
from personae.errors import InputError

clv_app = typer.Typer(help="Customer lifetime value (BG/NBD + Gamma-Gamma).", no_args_is_help=True)


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
    plot: Path | None = typer.Option(None, "--plot", help="Calibration plot file (.png or .svg)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Fit on the calibration period; with a holdout, check the predictions against it."""
    cal = parse_as_of(calibration_end)
    hold = parse_as_of(holdout_end)
    assert cal is not None
    if hold is not None and plot is None:
        plot = Path(f"clv-calibration-{cal.isoformat()}.png")
    with State.open_store() as store:
        result = clv_fit(
            store,
            calibration_end=cal,
            holdout_end=hold,
            time_unit=time_unit,
            plot=plot,
            settings=State.settings().clv,
        )
    if as_json:
        print_json(result)
        return
    bg, gg = result["bgnbd"], result["gamma_gamma"]
    table = Table("model", "parameters", "log-likelihood")
    table.add_row(
        "BG/NBD", ", ".join(f"{k}={bg[k]:.4g}" for k in ("r", "alpha", "a", "b")), f"{bg['loglik']:.2f}"
    )
    table.add_row(
        "Gamma-Gamma", ", ".join(f"{k}={gg[k]:.4g}" for k in ("p", "q", "gamma")), f"{gg['loglik']:.2f}"
    )
    console.print(table)
    say_left_out(result["left_out"])
    say_left_out(result["spend_left_out"])
    if "holdout" in result:
        h = result["holdout"]
        console.print(
            f"holdout: actual {h['actual_transactions']:,.0f} vs predicted "
            f"{h['predicted_transactions']:,.1f} repeat transactions; plot: {h.get('plot')}"
        )
