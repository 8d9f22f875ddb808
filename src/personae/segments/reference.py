"""The list of every name a rule may use, generated from the registries.

``personae segments names`` prints it and docs/segments.md embeds :func:`names_markdown`
between ``<!-- names:start -->`` and ``<!-- names:end -->`` (a test keeps them equal), so the
docs cannot drift from what the checker accepts.
"""

from __future__ import annotations

from typing import Any

from personae.schema import CONSENT_PURPOSES
from personae.segments.builtin import builtin_segments
from personae.segments.check import NAMES
from personae.segments.functions import FUNCTIONS, WINDOW_UNITS
from personae.traits.registry import PROFILE_ATTRIBUTES, TRAITS

START, END = "<!-- names:start -->", "<!-- names:end -->"


def all_names() -> list[dict[str, Any]]:
    """Traits, profile attributes, ``customer_id`` and functions, with type and meaning."""
    rows: list[dict[str, Any]] = []
    rows += [
        {"name": t.name, "kind": "trait", "group": t.group, "type": NAMES[t.name], "doc": t.doc}
        for t in TRAITS
    ]
    rows += [
        {"name": a.name, "kind": "attribute", "group": "profile", "type": NAMES[a.name], "doc": a.doc}
        for a in PROFILE_ATTRIBUTES
    ]
    rows.append(
        {
            "name": "customer_id",
            "kind": "attribute",
            "group": "identity",
            "type": "string",
            "doc": "The (resolved) customer id.",
        }
    )
    rows += [
        {"name": f.name, "kind": "function", "group": "function", "type": f.returns, "doc": f.doc}
        for f in FUNCTIONS.values()
    ]
    return rows


def _signature(name: str) -> str:
    fn = FUNCTIONS[name]
    pos = [p for p in fn.positional]
    named = [f"{p.name}=…" for p in fn.params if p.name not in fn.positional]
    return f"{name}({', '.join([*pos, *named])})"


def names_markdown() -> str:
    """The generated reference section of docs/segments.md."""
    out = ["### Traits", "", "| name | type | group | meaning |", "|---|---|---|---|"]
    out += [f"| `{t.name}` | {NAMES[t.name]} | {t.group} | {t.doc} |" for t in TRAITS]
    out += ["", "### Profile attributes", "", "| name | type | meaning |", "|---|---|---|"]
    out += [f"| `{a.name}` | {NAMES[a.name]} | {a.doc} |" for a in PROFILE_ATTRIBUTES]
    out += ["| `customer_id` | string | The (resolved) customer id. |"]
    out += ["", "### Functions", "", "| function | returns | meaning | example |", "|---|---|---|---|"]
    out += [f"| `{_signature(f.name)}` | {f.returns} | {f.doc} | `{f.example}` |" for f in FUNCTIONS.values()]
    out += [
        "",
        "### Function arguments",
        "",
        "| function | argument | takes | meaning |",
        "|---|---|---|---|",
    ]
    kinds = {
        "strings": "string or list of strings",
        "string": "string",
        "window": "window text",
        "condition": "condition text",
        "value": "any text value",
        "count": "whole number",
    }
    for f in FUNCTIONS.values():
        for p in f.params:
            nth = ("first", "second")[f.positional.index(p.name)] if p.name in f.positional else ""
            where = f" ({nth}, unnamed)" if nth else ""
            out.append(f"| `{f.name}` | `{p.name}`{where} | {kinds[p.kind]} | {p.doc} |")
    out += [
        "",
        "Window units: "
        + ", ".join(f"`{u}` ({name}, up to {limit:,})" for u, (name, limit) in WINDOW_UNITS.items())
        + ".",
        "",
        "Consent purposes: " + ", ".join(f"`{p}`" for p in CONSENT_PURPOSES) + ".",
        "",
        "### Built-in segments",
        "",
        "| segment | rule |",
        "|---|---|",
    ]
    out += [f"| `{n}` | `{d.rule}` |" for n, d in builtin_segments().items()]
    return "\n".join(out)


def write_into(path: str) -> None:
    """Replace the generated section of a Markdown file (between the markers) with the current list."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    doc.write_text(text[:start] + "\n" + names_markdown() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":  # python -m personae.segments.reference docs/segments.md
    import sys

    write_into(sys.argv[1] if len(sys.argv) > 1 else "docs/segments.md")
