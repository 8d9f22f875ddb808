"""The event property names the data has: for "did you mean" and for the rule builder.

Properties are free-form JSON, so the names a ``where`` condition or ``sum_of`` may use are
learned from the events themselves: every key, and every nested key as a dotted path
(``context.campaign.source``), with how many events carry it and the JSON types seen.

>>> names = property_names(['{"revenue": 120, "context": {"campaign": {"source": "news"}}}',
...                          '{"revenue": "n/a", "coupon": null}', "not json", None])
>>> [(n.name, n.events, n.types) for n in names]  # doctest: +NORMALIZE_WHITESPACE
[('context', 1, ('object',)), ('context.campaign', 1, ('object',)),
 ('context.campaign.source', 1, ('string',)), ('coupon', 1, ('null',)),
 ('revenue', 2, ('number', 'string'))]
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from personae.segments.check import PROPERTY_PATH

#: Deepest nesting followed (the checker accepts paths of at most 8 names).
MAX_DEPTH = 8


@dataclass(frozen=True)
class PropertyName:
    """A property path, the number of events (of those read) with it, and its JSON types."""

    name: str
    events: int
    types: tuple[str, ...]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def property_names(texts: Iterable[str | Mapping[str, Any] | None]) -> list[PropertyName]:
    """Every property path in ``texts`` (JSON objects, as text or dicts), sorted by name.

    Keys that are not names a rule can write (``"Order ID"``, ``"utm-source"``) are left out.
    """
    counts: Counter[str] = Counter()
    types: dict[str, set[str]] = defaultdict(set)

    def visit(obj: Mapping[str, Any], prefix: str, depth: int) -> None:
        for key, value in obj.items():
            path = f"{prefix}{key}"
            if not PROPERTY_PATH.match(path):
                continue
            counts[path] += 1
            types[path].add(_kind(value))
            if isinstance(value, dict) and depth < MAX_DEPTH:
                visit(value, path + ".", depth + 1)

    for text in texts:
        obj: Any = text
        if isinstance(text, str):
            try:
                obj = json.loads(text)
            except ValueError:
                continue
        if isinstance(obj, Mapping):
            visit(obj, "", 1)
    return [PropertyName(n, counts[n], tuple(sorted(types[n]))) for n in sorted(counts)]
