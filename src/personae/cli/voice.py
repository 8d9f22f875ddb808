"""``personae voice``: sentiment, themes and pain points from what customers write.

Thin shell over :mod:`personae.app.voice`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import voice as svc
from personae.app.export import write_table
from personae.app.reads import last_data_date, parse_as_of
from personae.cli.context import State, console, print_json, progress_bar, say_left_out, tidy
from personae.errors import InputError

voice_app = typer.Typer(
    help="Voice of the customer: sentiment, themes and pain points from comments, reviews, "
    "support contacts and social posts.",
    no_args_is_help=True,
)


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise InputError("--segments: give at least one segment name, comma-separated")
    return names


@voice_app.command("build")
def build(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Texts up to this date (default: the last date in the data)"
    ),
    refit: bool = typer.Option(False, "--refit", help="Discover the themes afresh (renames are dropped)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Score every text's sentiment, detect its language and assign its theme."""
    full = State.settings()
    with State.open_store() as store, progress_bar("voice") as report:
        day = parse_as_of(as_of) or last_data_date(store)
        summary = svc.build_voice(
            store, day, full.voice, refit=refit, progress=report, traits=full.traits, timezone=full.timezone
        )
    summary["as_of"] = day.isoformat()
    if as_json:
        print_json(tidy(summary))
        return
    say_left_out(summary.get("left_out"))
    if summary.get("note"):
        console.print(escape(summary["note"]))
        return
    say_left_out(summary.get("left_out_traits"))
    console.print(
        f"{summary['texts']:,} texts as of {summary['as_of']}: {summary['scored']:,} scored, "
        f"{summary['other_language']:,} in another language (flagged, not scored); "
        f"themes: {summary['themes']}; voice traits for {summary['customers']:,} customers"
    )
    if summary.get("anonymous"):
        console.print(
            f"{summary['anonymous']:,} texts have no customer (no id, email, phone or handle): "
            "in sentiment and themes, in nobody's voice traits"
        )
    if summary.get("sentiment"):
        console.print(f"sentiment: {escape(summary['sentiment']['note'])}")
    console.print("run `personae build` to put the voice traits into `traits` and the segments")


@voice_app.command("labels")
def labels(
    file: Path = typer.Argument(..., help="CSV/TSV/JSONL/Parquet with id, sentiment[, theme]"),
    fmt: str | None = typer.Option(None, "--format", help="csv, tsv, jsonl or parquet (default: extension)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Store an analyst's labelled sample (id = text_id; sentiment negative/neutral/positive).

    The next `voice build` learns from these labels (and from texts that came with a score)
    and prints its cross-validated accuracy on them.
    """
    with State.open_store() as store:
        r = svc.load_labels(store, file, fmt)
    if as_json:
        print_json(tidy(r))
        return
    classes = ", ".join(f"{k} {v:,}" for k, v in sorted(r["by_class"].items()))
    console.print(
        f"{r['accepted']:,} of {r['read']:,} labels stored ({classes or 'none'}); "
        f"{r['replaced']:,} replaced earlier labels; {r['stored']:,} labels in all"
    )
    if r["unknown_ids"]:
        console.print(
            f"{r['unknown_ids']:,} ids match no text in the store yet (kept: they count once the text is in)"
        )
    if r["rejected"]:
        console.print(f"{r['rejected']:,} rows rejected (see `personae rejects --kind voice_labels`):")
        for x in r["rejects"]:
            console.print(f"  line {x['line']}: {escape(x['reason'])}")
    console.print("run `personae voice build` to teach the sentiment model with them")


@voice_app.command("themes")
def themes(
    segments: str | None = typer.Option(None, "--segments", "-s", help="Also per segment, comma-separated"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write the themes-by-sentiment chart (.png/.svg/.html)"
    ),
    seed: Path | None = typer.Option(
        None,
        "--seed",
        help="YAML file of seeded themes, `name: [words, ...]`: kept by later builds; the themes "
        "are fitted afresh around them (an empty file removes the seeds)",
    ),
) -> None:
    """Per theme: keywords, texts, share, mean sentiment, trend, touchpoints, channels, examples."""
    settings = State.settings().voice
    if seed is not None:
        _seed_themes(seed, as_json)
    with State.open_store() as store:
        data = svc.voice_themes(store, settings, _names(segments))
    if plot is not None:
        from personae.voice.charts import themes_by_sentiment  # start-up: Altair

        themes_by_sentiment(data["themes"]).save(str(plot))
    if as_json:
        print_json(tidy(data))
        return
    if data["note"]:
        console.print(escape(data["note"]))
        return
    o = data["overview"]
    console.print(
        f"{o['texts']:,} texts, {o['scored']:,} scored ({o['flagged_other_language']:,} in another "
        f"language); mean sentiment {o['sentiment'] if o['sentiment'] is not None else '—'}; "
        f"negative {o['shares']['negative']:.0%}, neutral {o['shares']['neutral']:.0%}, "
        f"positive {o['shares']['positive']:.0%}"
    )
    console.print(_themes_table(data["themes"]))
    for t in data["themes"][:3]:
        if t["examples"]:
            console.print(
                f"[bold]{escape(t['theme'])}[/bold]: " + " | ".join(escape(e["text"]) for e in t["examples"])
            )
    for s in data.get("segments", []):
        console.print(
            f"\n[bold]{escape(s['segment'])}[/bold]: {s['texts']:,} texts from {s['customers']:,} customers"
        )
        console.print(_themes_table(s["themes"]))


def _seed_themes(path: Path, quiet: bool) -> None:
    """Store the seeds of ``path`` and rebuild the voice with themes fitted around them."""
    full = State.settings()
    seeds = svc.load_seeds(path)
    with State.open_store() as store, progress_bar("voice") as report:
        svc.set_theme_seeds(store, seeds)
        summary = svc.build_voice(
            store,
            last_data_date(store),
            full.voice,
            refit=True,
            progress=report,
            traits=full.traits,
            timezone=full.timezone,
        )
    if not quiet:
        console.print(
            f"{len(seeds)} seeded theme(s) kept by later builds: {escape(', '.join(seeds)) or '(none)'}; "
            f"themes: {summary['themes']}"
        )


def _themes_table(rows: list[dict[str, Any]]) -> Table:
    aspects = any("aspect_sentiment" in t for t in rows)
    table = Table("theme", "keywords", "n", "share", "sentiment", "negative", "top touchpoint", "top channel")
    if aspects:
        table.add_column("mentions")
        table.add_column("sentiment about it")
    for t in rows:
        extra = []
        if aspects:
            a = t.get("aspect_sentiment")
            extra = [f"{t.get('mentions', 0):,}", "—" if a is None else f"{a:+.2f}"]
        table.add_row(
            escape(t["theme"]),
            escape(", ".join(t["keywords"][:5])),
            f"{t['n']:,}",
            f"{t['share']:.1%}",
            "—" if t["sentiment"] is None else f"{t['sentiment']:+.2f}",
            "—" if t["negative"] is None else f"{t['negative']:.0%}",
            escape(next(iter(t["touchpoints"]), "—")),
            escape(next(iter(t["channels"]), "—")),
            *extra,
        )
    return table


@voice_app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, json or parquet"),
    out: Path | None = typer.Option(None, "--out", "-o", help="File (default: stdout)"),
) -> None:
    """Every text: source, id, customer_id, sentiment, sentiment_score, theme (and context)."""
    with State.open_store() as store:
        table = svc.export_texts(store)
    write_table(table, fmt, out)


@voice_app.command("rename")
def rename(
    theme: str = typer.Argument(..., help="Current theme name (or its number)"),
    name: str = typer.Argument(..., help="New name"),
) -> None:
    """Rename a theme (kept until `voice build --refit`)."""
    with State.open_store() as store:
        r = svc.rename_theme(store, theme, name)
    console.print(
        f"theme {r['theme']} {escape(r['old_name'])!r} is now {escape(r['name'])!r} "
        f"({', '.join(r['keywords'][:5])})"
    )


@voice_app.command("pain-points")
def pain_points(
    segments: str | None = typer.Option(
        None, "--segments", "-s", help="Split by these segments, comma-separated"
    ),
    top: int = typer.Option(15, "--top", help="Rows to show"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Themes × touchpoint (× segment): negative texts, customers affected, value at stake."""
    with State.open_store() as store:
        df = svc.voice_pain_points(store, _names(segments), top=top)
    if as_json:
        print_json(tidy(svc.to_records(df)))
        return
    table = Table(
        "theme", "touchpoint", "segment", "texts", "negative", "sentiment", "customers", "value at stake"
    )
    for r in df.itertuples():
        table.add_row(
            escape(str(r.theme)),
            escape(str(r.touchpoint)),
            escape(str(r.segment)),
            f"{r.texts:,}",
            f"{r.negative:,} ({r.negative_share:.0%})",
            f"{r.sentiment:+.2f}",
            f"{r.customers_affected:,}",
            f"{r.value_at_stake:,.0f}",
        )
    console.print(table)
