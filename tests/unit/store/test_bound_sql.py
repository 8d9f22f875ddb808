"""No value is written into SQL text in the storage layer (issue 25.4): a scan of its source.

Every ``execute(...)``/``sql(...)`` call in ``src/personae/store`` is read with ``ast``. Its SQL
may be a constant, or text built (f-string, ``+``, ``"…".join``) only from

* identifier helpers: ``quote`` (a table or column name, double quotes doubled), ``int`` (a
  number the code made), ``_literal`` (a file path the operator gave, for ``ATTACH``, which
  takes no parameters), ``_where_any_in`` (quoted columns against a registered view);
* names the code made itself: scratch views (``f"_vals_{uuid.uuid4().hex}"``), quoted column
  lists, SQL compiled from an Ibis expression (``ibis.to_sql``: the compiled query holds no
  value from a request — lookups by a value use :meth:`Store.where_in`, which binds it);
* local variables built by the same rules (followed to their assignments).

A ``%`` or ``.format`` in SQL, or a value from a parameter interpolated, fails the test with
the file and line. Values are bound (``execute(sql, [values])``) or travel as Arrow tables.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parents[3] / "src" / "personae" / "store"

#: helpers whose result is an identifier or a number the code chose, never a value (and the DDL
#: of the code's own table specs, its names quoted)
HELPERS = {
    "quote",
    "int",
    "_literal",
    "_where_any_in",
    "canonical_table_ddl",
    "_chain_sql",
    "_mask_sql",
    "_hit_sql",
    "_set_sql",
}
#: helpers whose returned SQL is checked like a call's (``_literal`` quotes a path by design)
CHECKED_HELPERS = {"_where_any_in", "_chain_sql", "_mask_sql", "_hit_sql", "_set_sql"}
#: parameters that carry SQL built elsewhere in the store by these rules (checked there)
SQL_PARAMETERS = {
    "_where_any_in": {"view"},
    "_chain_sql": {"value"},
    "_mask_sql": {"value"},
    # the ingest's scratch database (store/scratch.py) passes through SQL the ingest loader
    # writes from constant fragments and schema column names; values go in as ``params``
    "execute": {"sql"},
    "sql": {"sql"},
    "batches": {"sql"},
    "view": {"sql"},
}
#: the methods of DuckDB and Spark connections that take SQL text
CALLS = {"execute", "sql", "executemany"}
#: receivers whose ``execute`` takes an Ibis expression, not SQL (the Store's, Ibis' backend)
IBIS_RECEIVERS = {"self", "self.backend", "store"}


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


class Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text())
        self.constants = {
            t.id
            for node in self.tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name) and t.id.isupper()
        }
        self.problems: list[str] = []

    def run(self) -> list[str]:
        for fn in _functions(self.tree):
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in CALLS
                    and node.args
                    and ast.unparse(node.func.value) not in IBIS_RECEIVERS
                ):
                    self.sql(node.args[0], fn, node.lineno, set())
        # SQL built by a helper and returned (``_where_any_in``) is checked like a call's
        for fn in _functions(self.tree):
            if fn.name in CHECKED_HELPERS:
                for node in ast.walk(fn):
                    if isinstance(node, ast.Return) and node.value is not None:
                        self.sql(node.value, fn, node.lineno, set())
        return self.problems

    def fail(self, line: int, why: str) -> None:
        self.problems.append(f"{self.path.name}:{line}: {why}")

    def sql(self, node: ast.expr, fn: ast.FunctionDef, line: int, seen: set[str]) -> None:
        """Is ``node`` SQL text built only from safe parts?"""
        if isinstance(node, ast.Constant):
            return
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    self.part(part.value, fn, line, seen)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            self.sql(node.left, fn, line, seen)
            self.sql(node.right, fn, line, seen)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            self.fail(line, "SQL built with % formatting")
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "format":
                self.fail(line, "SQL built with .format")
                return
            if node.func.attr == "join" and isinstance(node.func.value, ast.Constant):
                for arg in node.args:
                    self.part(arg, fn, line, seen)
                return
            if node.func.attr == "to_sql" and _name(node.func.value) == "ibis":
                return
            if node.func.attr == "compile" and ast.unparse(node.func.value) == "self.backend":
                return  # Ibis compiling an expression, as ibis.to_sql
            if node.func.attr == "replace" and _name(node.func.value) is not None:
                # compiled SQL whose placeholder marks become $n parameters
                self.sql(node.func.value, fn, line, seen)
                for arg in node.args:
                    self.sql(arg, fn, line, seen)
                return
        if isinstance(node, ast.Call) and _name(node.func) in HELPERS | {"str"}:
            for arg in node.args if _name(node.func) == "str" else []:
                self.sql(arg, fn, line, seen)
            return
        if isinstance(node, ast.Name):
            self.name(node.id, fn, line, seen)
            return
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            # cached[1]: the SQL element of a cache entry, checked where the entry is made
            index = node.slice.value if isinstance(node.slice, ast.Constant) else None
            for value in _assignments(fn, node.value.id):
                if isinstance(value, ast.Tuple) and isinstance(index, int):
                    self.sql(value.elts[index], fn, line, seen)
                elif not _is_cache_read(value):
                    self.sql(node.value, fn, line, seen) if value is None else self.sql(value, fn, line, seen)
            return
        if isinstance(node, ast.ListComp):
            self.sql(node.elt, fn, line, seen)
            return
        if isinstance(node, ast.Tuple):
            for elt in node.elts:
                self.sql(elt, fn, line, seen)
            return
        self.fail(line, f"SQL from {ast.unparse(node)!r}: cannot tell it holds no value")

    def part(self, node: ast.expr, fn: ast.FunctionDef, line: int, seen: set[str]) -> None:
        """Is a value interpolated into SQL an identifier, a number the code made, or safe SQL?"""
        if isinstance(node, ast.Call) and _name(node.func) in HELPERS:
            return
        if isinstance(node, ast.Attribute) and node.attr == "hex":  # uuid.uuid4().hex
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            self.part(node.left, fn, line, seen)
            self.part(node.right, fn, line, seen)
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
            return
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            self.sql(node.elt, fn, line, seen)
            return
        if isinstance(node, ast.Name) and _loop_counter(fn, node.id):
            return
        self.sql(node, fn, line, seen)

    def name(self, name: str, fn: ast.FunctionDef, line: int, seen: set[str]) -> None:
        if name in seen or name in self.constants:
            return
        seen = seen | {name}
        values = _assignments(fn, name)
        if not values:
            if name in SQL_PARAMETERS.get(fn.name, set()):
                return
            self.fail(line, f"{name!r} (a parameter or outer value) is written into SQL")
            return
        for value in values:
            if value is None:  # a loop over a constant of DDL statements
                continue
            self.sql(value, fn, line, seen)


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _assignments(fn: ast.FunctionDef, name: str) -> list[ast.expr | None]:
    """What ``name`` is assigned in ``fn`` (``None``: a loop over a module constant)."""
    out: list[ast.expr | None] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                holders = [t.value if isinstance(t, ast.Subscript) else t for t in names]
                if any(_name(h) == name for h in holders):
                    out.append(node.value)
        elif isinstance(node, ast.AnnAssign) and _name(node.target) == name and node.value is not None:
            out.append(node.value)
        elif isinstance(node, ast.For | ast.comprehension):
            targets = [node.target] if not isinstance(node.target, ast.Tuple) else node.target.elts
            if any(_name(t) == name for t in targets):
                it = node.iter
                if isinstance(it, ast.Call) and _name(it.func) == "enumerate" and it.args:
                    it = it.args[0]
                if isinstance(it, ast.Name) and it.id.isupper():
                    out.append(None)
                elif isinstance(it, ast.Tuple):  # a literal table of names written in the code
                    out.append(None if all(isinstance(e, ast.Constant | ast.Tuple) for e in it.elts) else it)
                else:
                    out.append(it)
    return out


def _is_cache_read(node: ast.expr | None) -> bool:
    """``self._compiled.get(key)``: the store's cache of compiled SQL (filled by the same code)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and ast.unparse(node.func.value) == "self._compiled"
    )


def _loop_counter(fn: ast.FunctionDef, name: str) -> bool:
    """``i`` of ``for i, x in enumerate(...)``: a number the code counts."""
    for node in ast.walk(fn):
        if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Tuple):
            first = node.target.elts[0]
            call = node.iter
            if _name(first) == name and isinstance(call, ast.Call) and _name(call.func) == "enumerate":
                return True
    return False


def test_the_store_binds_every_value() -> None:
    problems = [p for path in sorted(STORE.glob("*.py")) for p in Checker(path).run()]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(con, name):\n    con.execute(f\"SELECT * FROM t WHERE id = '{name}'\")\n",
        "def f(con, name):\n    sql = \"SELECT * FROM t WHERE id = '%s'\" % name\n    con.execute(sql)\n",
        'def f(con, name):\n    con.execute("SELECT * FROM t WHERE id = {}".format(name))\n',
        'def f(con, name):\n    where = "id = " + name\n    con.sql(f"SELECT * FROM t WHERE {where}")\n',
    ],
)
def test_the_scan_catches_a_value_in_sql(tmp_path: Path, source: str) -> None:
    path = tmp_path / "bad.py"
    path.write_text(source)
    assert Checker(path).run(), source


def test_the_scan_lets_identifiers_and_bound_values_through(tmp_path: Path) -> None:
    path = tmp_path / "good.py"
    path.write_text(
        "import uuid\n"
        "def f(con, table, column, value):\n"
        '    view = f"_v_{uuid.uuid4().hex}"\n'
        '    cols = ", ".join(quote(c) for c in (column,))\n'
        '    sql = f"SELECT {cols} FROM {quote(table)} JOIN {view} WHERE {quote(column)} = ?"\n'
        "    con.execute(sql, [value])\n"
    )
    assert Checker(path).run() == []
