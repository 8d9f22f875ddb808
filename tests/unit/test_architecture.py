"""docs/architecture.md stays true to the code, and the layer rules that are not imports hold.

The import rules themselves are checked by ``lint-imports`` (the contracts in pyproject.toml);
the last test here runs it, so ``make test`` fails on a wrong import even without ``make lint``.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from personae.app.build import BUILD_STEPS
from personae.cli.commands import COMMANDS, Command

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "personae"
DOC = ROOT / "docs" / "architecture.md"
#: Packages whose every module the page lists (the layers a newcomer looks up by file).
LISTED_MODULES = ("app", "api", "live", "store", "cli", "config", "web", "report")


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _modules_in(package: str) -> list[str]:
    root = SRC / package
    return sorted(
        p.relative_to(SRC).as_posix()
        for p in root.rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    )


def test_every_top_level_part_is_on_the_page() -> None:
    doc = _doc()
    parts = sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in SRC.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")
    )
    missing = [p for p in parts if f"`{p}" not in doc and f" {p}" not in doc]
    assert not missing, f"docs/architecture.md does not place {missing} in a layer"


@pytest.mark.parametrize("package", LISTED_MODULES)
def test_every_module_of_the_listed_layers_is_on_the_page(package: str) -> None:
    doc = _doc()
    cli_names = set(re.findall(r"`(\w+)`", doc.split("`cli/<command>.py`")[1].split("\n")[0]))
    missing = []
    for rel in _modules_in(package):
        if package == "cli" and Path(rel).stem in cli_names:
            continue
        if package == "app" and rel.startswith("app/ingest/"):
            continue  # listed as the package `app/ingest/`
        if rel not in doc:
            missing.append(rel)
    assert not missing, f"docs/architecture.md does not list {missing}"


def test_every_path_on_the_page_exists() -> None:
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]*(?:\.py)?)`", _doc()))
    named |= set(re.findall(r"`([a-z_]+\.py)`", _doc()))
    gone = []
    for path in sorted(named):
        if path.startswith(("tests/", "docs/")):
            target = ROOT / path
        elif "<" in path:
            continue
        else:
            target = SRC / path
        if not target.exists():
            gone.append(path)
    assert not gone, f"docs/architecture.md names paths that do not exist: {gone}"


def test_the_page_can_fail() -> None:
    """The path check is not vacuous: it sees the paths the page names."""
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]*(?:\.py)?)`", _doc()))
    assert {"app/build.py", "store/base.py", "cli/commands.py"} <= named


def test_every_build_step_is_listed() -> None:
    steps_section = _doc().split("## The build steps")[1].split("\n## ")[0]
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", steps_section, re.M)
    assert listed == [s.name for s in BUILD_STEPS]


def test_every_cli_command_has_its_module() -> None:
    """One module per top-level command, named like the feature (``journey`` is ``journeys``)."""
    for entry in COMMANDS:
        if isinstance(entry, Command):
            module = entry.run.__module__
        else:
            modules = {c.callback.__module__ for c in entry.app.registered_commands if c.callback}
            assert len(modules) == 1, f"`personae {entry.name}` is spread over {modules}"
            (module,) = modules
        stem = module.rsplit(".", 1)[-1]
        assert stem in (entry.name, f"{entry.name}s"), f"`personae {entry.name}` lives in {module}"


def _inner_imports(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    tree = ast.parse("\n".join(lines))
    found = []
    type_checking = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.ImportFrom | ast.Import)
                and id(sub) not in type_checking
                and any(
                    (getattr(sub, "module", None) or "").startswith("personae")
                    or a.name.startswith("personae")
                    for a in sub.names
                )
            ):
                found.append((sub.lineno, lines[sub.lineno - 1]))
    return found


def test_inner_imports_say_why() -> None:
    """personae imports inside functions only to keep CLI start-up light, and says what it keeps off."""
    unexplained = [
        f"{p.relative_to(SRC)}:{n}: {line.strip()}"
        for p in sorted(SRC.rglob("*.py"))
        for n, line in _inner_imports(p)
        if "# start-up:" not in line
    ]
    assert not unexplained, "imports inside functions without a `# start-up: …` reason:\n" + "\n".join(
        unexplained
    )


def test_inner_import_check_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from personae import errors\n    return errors\n")
    assert _inner_imports(module) == [(2, "    from personae import errors")]


@pytest.mark.slow
def test_the_import_contracts_hold() -> None:
    """``lint-imports`` keeps every contract in pyproject.toml (layers, pure domain, no cycles)."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency: `make install`"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_sql_is_written_only_in_the_store() -> None:
    """Engine-specific SQL lives in ``store/``; everything above builds Ibis expressions."""
    offenders = [
        p.relative_to(SRC).as_posix()
        for p in sorted(SRC.rglob("*.py"))
        if not p.relative_to(SRC).as_posix().startswith("store/") and ".raw.execute(" in p.read_text()
    ]
    assert not offenders, f"raw SQL outside store/: {offenders}"


def test_test_files_have_unique_names() -> None:
    """pytest imports test modules by basename (no packages under tests/): two files of one
    name in different folders stop the whole run at collection ("import file mismatch")."""
    tests = Path(__file__).resolve().parents[1]
    seen: dict[str, list[str]] = {}
    for f in tests.rglob("test_*.py"):
        seen.setdefault(f.name, []).append(str(f.relative_to(tests)))
    assert {n: p for n, p in seen.items() if len(p) > 1} == {}
