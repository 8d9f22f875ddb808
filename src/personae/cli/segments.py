"""``personae segments``: define rule-based segments, inspect members, history, overlap, migration.

Thin shell over :mod:`personae.app.segments.library`, :mod:`personae.app.segments.run` and
:mod:`personae.app.segments.reports`. A bad rule prints one ``error:`` line, then the rule with a
caret under the problem, and exits with code 2; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import experience as svc
from personae.app.export import write_table
from personae.app.reads import parse_as_of
from personae.app.segments import library as service
from personae.app.segments import reports
from personae.app.segments.run import preview
from personae.cli.context import State, console, err_console, fmt_p, print_json, say_left_out, tidy
from personae.errors import InputError, RuleError
from personae.segments.definitions import SegmentDefinition, parse_definitions
from personae.segments.language import caret
from personae.segments.reference import all_names

_CHECKED = "\x00checked rule"  # a label no stored segment can have

segments_app = typer.Typer(
    help="Rule-based segments: define, evaluate, compare, follow over time.", no_args_is_help=True
)


@contextmanager
def rule_errors() -> Iterator[None]:
    """Show a bad rule with a caret under the problem, after the one-line error."""
    try:
        yield
    except RuleError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        if exc.rule is not None and exc.position is not None:
            err_console.print(escape(caret(exc.rule, exc.position)), highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None


def _date(value: str | None, option: str) -> date | None:
    try:
        return parse_as_of(value)
    except InputError:
        raise InputError(f"{option} {value!r}: expected a date like 2025-06-30") from None


@segments_app.command("add")
def add(
    name: str | None = typer.Option(None, "--name", "-n", help="Segment name"),
    rule: str | None = typer.Option(None, "--rule", "-r", help="Rule, e.g. 'recency_days <= 30'"),
    description: str = typer.Option("", "--description", "-d", help="What the segment is for"),
    file: Path | None = typer.Option(None, "--file", "-f", help="YAML file with many segments"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Add segments (or edit one: the previous version is kept)."""
    if file is not None:
        if name or rule:
            raise InputError("give either --file or --name/--rule, not both")
        if not file.is_file():
            raise InputError(f"--file {file}: no such file")
        defs = parse_definitions(file.read_text(encoding="utf-8"), str(file))
        source = f"file:{file.name}"
    else:
        if not name or not rule:
            raise InputError("give --name and --rule (or --file FILE.yaml)")
        defs = [SegmentDefinition(name, rule, description)]
        source = "cli"
    settings = State.settings().traits
    if (server := State.server()) is not None:
        with rule_errors():
            given = {"definitions": [d.as_dict() for d in defs], "source": source}
            result = server.call("segments.add", given)
    else:
        with rule_errors(), State.open_store() as store:
            result = service.add_segments(store, defs, source=source, settings=settings)
            counts = preview(store, [r["name"] for r in result], settings)
        for r in result:
            r["members_now"] = None if counts is None else counts.get(r["name"])
    if as_json:
        print_json(result)
        return
    for r in result:
        now = "" if r["members_now"] is None else f" — {r['members_now']:,} members on the current traits"
        console.print(f"{r['action']} segment {escape(r['name'])} (version {r['version']}){now}")
    console.print("members are stored with each `personae build`")


@segments_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Every segment, built-in and defined, with its members at the latest build."""
    if (server := State.server()) is not None:
        rows = server.call("segments.list")
    else:
        with State.open_store() as store:
            rows = reports.overview(store, State.settings().traits)
    if as_json:
        print_json(rows)
        return
    table = Table("segment", "kind", "version", "members", "rule")
    for r in rows:
        members = "—" if r["members"] is None else f"{r['members']:,}"
        table.add_row(
            escape(r["name"]),
            "built-in" if r["builtin"] else "defined",
            str(r["version"] or "—"),
            members,
            escape(r["rule"]),
        )
    console.print(table)
    if rows and rows[0]["as_of"]:
        console.print(f"members as of {rows[0]['as_of']}")


@segments_app.command("show")
def show(
    name: str = typer.Argument(..., help="Segment name"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """One segment: rule, every version, members and entries/exits per build."""
    if (server := State.server()) is not None:
        data = server.call("segments.show", {"name": name})
    else:
        with State.open_store() as store:
            data = reports.detail(store, name, State.settings().traits)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{escape(data['name'])}[/bold]  {escape(data.get('description') or '')}")
    console.print(f"rule: {escape(data.get('rule') or '(removed)')}")
    for v in data["versions"]:
        state = "removed" if v["removed"] else escape(v["rule"] or "")
        console.print(f"  version {v['version']} ({v['created_at']}): {state}")
    for h in data["history"]:
        console.print(
            f"  as of {h['as_of']}: {h['members']:,} members (+{h['entered']:,} / -{h['exited']:,})"
        )


@segments_app.command("remove")
def remove(name: str = typer.Argument(..., help="Segment name")) -> None:
    """Remove a defined segment (its earlier versions and snapshots are kept)."""
    if (server := State.server()) is not None:
        result = server.call("segments.remove", {"name": name})
    else:
        with State.open_store() as store:
            result = service.remove_segment(store, name, State.settings().traits)
    console.print(f"removed segment {escape(result['name'])}")


@segments_app.command("check")
def check(
    rule: str = typer.Argument(..., help="A rule to check"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Check a rule without storing it; show what it reads and how many customers match now."""
    settings = State.settings().traits
    if (server := State.server()) is not None:
        with rule_errors():
            data = server.call("segments.check", {"rule": rule})
    else:
        with rule_errors(), State.open_store() as store:
            checked = service.check(store, rule, settings)
            counts = preview(store, [], settings, extra={_CHECKED: checked})
        data = {
            "rule": rule,
            "valid": True,
            "segments_used": sorted(checked.references),
            "function_calls": sorted(a.describe() for a in checked.aggregates),
            "members_now": None if counts is None else counts[_CHECKED],
        }
    if as_json:
        print_json(data)
        return
    now = data["members_now"]
    console.print("valid rule" + ("" if now is None else f": {now:,} customers match now"))


@segments_app.command("names")
def names(as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Every name a rule can use: traits, profile attributes, functions, and the event
    properties of the latest events (when there is a database and no server holds it)."""
    rows = all_names()
    settings = State.settings()
    if settings.engine == "duckdb" and settings.db.exists() and State.server() is None:
        with State.open_store() as store:
            rows += [
                {
                    "name": p.name,
                    "kind": "property",
                    "group": "event property",
                    "type": "/".join(p.types),
                    "doc": f"Event property, on {p.events:,} of the latest events with properties "
                    "(in where=… and sum_of(…) …).",
                }
                for p in service.event_properties(store)
            ]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "kind", "type", "meaning")
    for r in rows:
        table.add_row(r["name"], r["kind"], r["type"], escape(r["doc"]))
    console.print(table)


@segments_app.command("templates")
def templates(
    install: list[str] | None = typer.Option(
        None, "--install", "-i", help="Install this template (repeatable)"
    ),
    all_: bool = typer.Option(False, "--all", help="Install every template"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """The template library; install some or all of it."""
    if install or all_:
        if (server := State.server()) is not None:
            with rule_errors():
                result = server.call("segments.templates", {"install": None if all_ else install})
        else:
            with rule_errors(), State.open_store() as store:
                result = service.install_templates(store, None if all_ else install, State.settings().traits)
        if as_json:
            print_json(result)
            return
        for r in result:
            console.print(f"{r['action']} segment {escape(r['name'])} (version {r['version']})")
        return
    items = service.load_templates()
    if as_json:
        print_json([t.as_dict() | {"version": None, "builtin": False} for t in items])
        return
    table = Table("template", "approach", "theme", "rule")
    for t in items:
        table.add_row(
            escape(t.name), str(t.extra.get("approach", "")), str(t.extra.get("theme", "")), escape(t.rule)
        )
    console.print(table)
    console.print("install with: personae segments templates --install NAME  (or --all)")


@segments_app.command("members")
def members(
    name: str = typer.Argument(..., help="Segment name"),
    format: str = typer.Option("csv", "--format", "-f", help="csv, json or parquet"),
    as_of: str | None = typer.Option(None, "--as-of", help="Snapshot date (default: the latest build)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """The customers in a segment (CSV or JSON objects with customer_id)."""
    with State.open_store() as store:
        _, table = reports.members(store, name, _date(as_of, "--as-of"), State.settings().traits)
    write_table(table, format, out)
    if out is not None:
        console.print(f"wrote {table.num_rows:,} members to {out}")


@segments_app.command("changes")
def changes(
    name: str = typer.Argument(..., help="Segment name"),
    since: str | None = typer.Option(None, "--since", help="Only changes at or after this date"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Entries and exits of a segment between consecutive snapshots."""
    if (server := State.server()) is not None:
        rows = server.call("segments.changes", {"name": name, "since": _date(since, "--since")})
    else:
        with State.open_store() as store:
            rows = reports.changes(store, name, _date(since, "--since"), State.settings().traits)
    if as_json:
        print_json(rows)
        return
    table = Table("as of", "previous", "change", "customer")
    for r in rows[:200]:
        table.add_row(r["as_of"], r["previous_as_of"], r["change"], escape(r["customer_id"]))
    console.print(table)
    if len(rows) > 200:
        console.print(f"… {len(rows) - 200:,} more (use --json)")


@segments_app.command("overlap")
def overlap(
    segments: str | None = typer.Option(
        None, "--segments", "-s", help="Comma-separated names (default: all)"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Snapshot date (default: the latest build)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Shared members between segments: counts and Jaccard index."""
    chosen = [s.strip() for s in segments.split(",") if s.strip()] if segments else None
    if (server := State.server()) is not None:
        data = server.call("segments.overlap", {"segments": chosen, "as_of": _date(as_of, "--as-of")})
    else:
        with State.open_store() as store:
            data = reports.overlap(store, chosen, _date(as_of, "--as-of"), State.settings().traits)
    if as_json:
        print_json(data)
        return
    names = [s["name"] for s in data["segments"]]
    if len(names) <= 8:
        table = Table("", *[escape(n) for n in names], title=f"shared members as of {data['as_of']}")
        for a in names:
            table.add_row(escape(a), *[f"{data['matrix'][a][b]:,}" for b in names])
        console.print(table)
    pairs = Table("a", "b", "shared", "jaccard", title="pairs by Jaccard index")
    for p in data["pairs"][:25]:
        pairs.add_row(escape(p["a"]), escape(p["b"]), f"{p['shared']:,}", f"{p['jaccard']:.3f}")
    console.print(pairs)


@segments_app.command("migration")
def migration(
    start: str = typer.Option(..., "--from", help="Earlier snapshot date"),
    end: str = typer.Option(..., "--to", help="Later snapshot date"),
    kind: str = typer.Option("rfm", "--kind", help="rfm, lifecycle, value, or comma-separated segment names"),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a from→to flow (Sankey) diagram (.png, .svg, .pdf, .html or .json)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """How customers moved between segments from one snapshot to another."""
    a, b = _date(start, "--from"), _date(end, "--to")
    assert a is not None and b is not None  # both options are required
    with State.open_store() as store:
        data = reports.migration(store, a, b, kind, State.settings().traits)
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg", ".html", ".json", ".pdf"):
            raise InputError(f"--plot {plot}: use a .png, .svg, .pdf, .html or .json file")
        reports.migration_chart(data).save(str(plot))
        data["plot"] = str(plot)
    if as_json:
        print_json(data)
        return
    table = Table("from", "to", "customers", "share of from", title=f"{kind}: {data['from']} → {data['to']}")
    for f in data["flows"]:
        table.add_row(escape(f["from"]), escape(f["to"]), f"{f['customers']:,}", f"{f['share_of_from']:.1%}")
    console.print(table)
    console.print(
        f"stayed {data['stayed']:,}, moved {data['moved']:,}" + (f"; chart written to {plot}" if plot else "")
    )


@segments_app.command("validate")
def validate(
    segments: str = typer.Option(..., "--segments", "-s", help="Segments to compare, comma-separated"),
    on: str = typer.Option(
        ..., "--on", help="Survey questions (nps, ces, csat, trust, nps_category) or traits"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Test whether segments really differ (chi-square / Kruskal-Wallis, post hoc, verdict)."""
    with State.open_store() as store:
        data = svc.validate_segments(
            store,
            svc.parse_names(segments) or [],
            svc.parse_names(on) or [],
            settings=State.settings().experience,
        )
    if as_json:
        print_json(tidy(data))
        return
    for r in data["results"]:
        console.print(f"[bold]{escape(r['verdict'])}[/bold]")
        sizes = ", ".join(f"{escape(k)} {v:,}" for k, v in r["groups"].items())
        console.print(f"  {r['test']} on {r['n']:,} customers ({sizes})")
        if r["pairs"]:
            table = Table("pair", "statistic", "p", "p (Holm)", box=None, padding=(0, 2))
            for p in r["pairs"]:
                table.add_row(
                    f"{escape(p['a'])} vs {escape(p['b'])}",
                    f"{p['statistic']:.2f}",
                    fmt_p(p["p"]),
                    fmt_p(p["p_adjusted"]),
                )
            console.print(table)
        for note in r["notes"]:
            console.print(f"  note: {escape(note)}")
        if r["note"]:
            console.print(f"  {escape(r['note'])}")
        say_left_out(r["left_out"])
