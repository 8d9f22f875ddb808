"""docs/segments.md stays true: every name listed, every example rule valid."""

from __future__ import annotations

import re
from pathlib import Path

from personae.app.segments.library import load_templates
from personae.segments.builtin import builtin_segments
from personae.segments.check import check_rule
from personae.segments.reference import END, START, all_names

DOC = Path(__file__).resolve().parents[3] / "docs" / "segments.md"
REGENERATE = "run `.venv/bin/python -m personae.segments.reference docs/segments.md`"


def test_every_name_is_listed_with_its_type() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(START) : text.index(END)]
    for row in all_names():
        if row["kind"] == "function":
            assert f"| `{row['name']}(" in section, f"{row['name']} missing: {REGENERATE}"
        else:
            assert f"| `{row['name']}` | {row['type']} |" in section, f"{row['name']} missing: {REGENERATE}"


def test_every_example_rule_in_the_docs_checks() -> None:
    text = DOC.read_text(encoding="utf-8")
    rules = re.findall(r"```rule\n(.*?)\n```", text, flags=re.S)
    assert len(rules) >= 15
    known = {*builtin_segments(), *(t.name for t in load_templates())}
    for rule in rules:
        check_rule(rule, segments=known)


def test_the_grammar_is_published() -> None:
    text = DOC.read_text(encoding="utf-8")
    for production in ("rule       = or_expr", "predicate  =", "call       =", "compare_op ="):
        assert production in text
