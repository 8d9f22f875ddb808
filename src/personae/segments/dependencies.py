"""Order segments so that every segment comes after the segments it refers to.

Both evaluators and ``personae build`` use the same order, and a cycle
(``A`` uses ``in_segment("B")`` and ``B`` uses ``in_segment("A")``) is refused with the path.

>>> dependency_order({"vip": {"Champions"}, "Champions": set(), "vip not staff": {"vip", "staff"},
...                   "staff": set()})
['Champions', 'vip', 'staff', 'vip not staff']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from personae.errors import RuleError


def dependency_order(graph: Mapping[str, Collection[str]]) -> list[str]:
    """Names of ``graph`` (name → names it uses), each after its dependencies.

    Names used but not in ``graph`` are ignored (they are resolved elsewhere). Ties keep
    the order of ``graph``.

    Raises:
        RuleError: when the references form a cycle; the message shows it.
    """
    done: dict[str, None] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            raise RuleError(
                "segments refer to each other in a cycle: " + " → ".join(cycle),
                hint="a segment cannot depend on itself, directly or through others",
            )
        visiting.append(name)
        deps = graph[name]
        for dep in [d for d in graph if d in deps]:  # in the order of ``graph``: stable output
            visit(dep)
        visiting.pop()
        done[name] = None

    for name in graph:
        visit(name)
    return list(done)
