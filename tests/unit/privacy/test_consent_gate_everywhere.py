"""Consent is decided in one place: every feature that uses a person's data for a purpose goes
through :mod:`personae.privacy.consent`. These tests read the source, so a new feature that reads
consent flags itself, or profiles/contacts customers without importing the gate, fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "personae"

#: Modules allowed to name ``consent_<purpose>`` flags, and why.
MAINTAINERS = {
    "privacy/consent.py": "the gate itself",
    "traits/consent.py": "computes the flags from the ledger and the default policy",
    "traits/registry.py": "documents the flags",
    "segments/expr.py": "the rule language's consent(purpose) reads the flag the rule names",
    "segments/batch.py": "compiles consent(purpose) in a rule",
    "segments/realtime.py": "evaluates consent(purpose) in a rule",
    "live/segments.py": "keeps the flags of live customer state current",
    "live/runtime.py": "applies a consent change to live customer state",
    "api/customers.py": "shows a customer's consents in the profile API",
}
FLAG = re.compile(r"""consent_(analytics|personalization|profiling|email|sms|push)\b|["']consent_\{""")

#: Application modules that use those packages only for aggregate measurement, and why.
AGGREGATE_ONLY = {
    "app/impact.py": "compares treated and held-out groups that activation (gated) formed",
    "config/__init__.py": "settings only",
    "devtools/movielens.py": "encodes the public MovieLens file for benchmarks and tests; reads no store",
}

#: Packages whose use means profiling, prediction or contacting customers.
PURPOSE_BOUND = ("personae.clusters", "personae.personalize", "personae.experience")


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(p: Path) -> str:
    return p.relative_to(SRC).as_posix()


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _code_without_docstrings(path: Path) -> str:
    """The module's code with docstrings and comments removed (mentions in prose are fine)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            body[0] = ast.Pass()  # type: ignore[index]
    return ast.unparse(tree)


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_only_the_gate_reads_consent_flags(path: Path) -> None:
    rel = _rel(path)
    if rel in MAINTAINERS:
        return
    found = FLAG.search(_code_without_docstrings(path))
    assert found is None, (
        f"{rel} reads the consent flag {found.group(0)!r} itself: ask personae.privacy.consent "
        "(check/require/allowed/consented/mask) instead"
    )


def test_every_application_module_that_profiles_or_contacts_imports_the_gate() -> None:
    offenders = []
    for path in _modules():
        rel = _rel(path)
        if rel.startswith(tuple(f"{p.split('.')[1]}/" for p in PURPOSE_BOUND)) or rel.startswith("cli/"):
            continue  # the domain packages themselves (pure) and the CLI shells over the modules below
        if rel in AGGREGATE_ONLY:
            continue
        imports = _imports(ast.parse(path.read_text()))
        uses = any(
            (i == p or i.startswith(p + ".")) and not i.endswith((".settings", "Settings"))
            for i in imports
            for p in PURPOSE_BOUND
        )
        gated = any(
            i == "personae.privacy.consent" or i.startswith("personae.privacy.consent.") for i in imports
        )
        if uses and not gated:
            offenders.append(rel)
    assert not offenders, f"these modules profile or contact customers without the consent gate: {offenders}"


def test_the_allowlist_is_not_stale() -> None:
    for rel in MAINTAINERS:
        assert (SRC / rel).exists(), f"{rel} is allowed to read consent flags but no longer exists"
