"""The checked, typed expression tree that both evaluators walk.

The checker (:mod:`personae.segments.check`) turns the syntax tree into these nodes: names are
resolved to trait columns, calls to aggregates with validated filters and windows, literals to
typed constants. Everything is frozen and hashable, so equal function calls in different rules
are the same :class:`Aggregate` and are computed once.

Value types: ``number``, ``string``, ``boolean``, ``list`` (of strings), ``date``,
``timestamp``. Conditions are ``boolean`` values; every value may be unknown (null) except
the aggregates, ``consent`` and ``in_segment`` (see "Missing values" in docs/segments.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from personae.segments.functions import Window


@dataclass(frozen=True)
class Const:
    value: str | int | float | bool | date
    type: str


@dataclass(frozen=True)
class ConstList:
    values: tuple[str | int | float | bool, ...]
    type: str  # the element type


@dataclass(frozen=True)
class Field:
    """A column of the ``traits`` table (a trait, a profile attribute or ``customer_id``)."""

    name: str
    type: str


@dataclass(frozen=True)
class Prop:
    """A property of the event a ``where`` condition is tested on (``revenue``, ``context.campaign``).

    Properties are untyped JSON, so the type is the one the rule reads the value as (from what
    it is compared with): a JSON value of another type is unknown, exactly like a missing key
    or a JSON ``null`` — a number is never read as a string, nor ``"42"`` as a number.
    ``type`` is ``"property"`` until the checker knows it.
    """

    path: tuple[str, ...]
    type: str


#: What an aggregate of events or order lines computes; ``count``/``spend`` are the original
#: ``events()``/``orders()``/``spend()``, the others the ``*_of`` functions of a property.
MEASURES = ("count", "spend", "sum", "avg", "min", "max", "count_distinct", "first", "last", "followed")
#: Measures that are 0 when no event matches (the others are unknown).
ZERO_WHEN_NONE = frozenset({"count", "spend", "sum", "count_distinct", "followed"})


@dataclass(frozen=True)
class Aggregate:
    """A per-customer value over events or order lines: ``events(...)``, ``orders(...)``,
    ``spend(...)``, ``sum_of(...)`` …

    Attributes:
        source: ``events`` or ``orders``.
        measure: one of :data:`MEASURES`: ``count`` (events: rows, orders: distinct orders),
            ``spend`` (net amount), or an aggregate of the event property ``prop``.
        filters: ``(column, allowed values)`` pairs, sorted, all of which must match.
        window: the look-back window, or ``None`` for all history up to the as-of date.
        where: a condition on the event's properties (:class:`Prop`), ``None`` for none; an
            event counts only where it is true (unknown does not count, as in a rule).
        prop: the property aggregated (``sum_of`` …), ``None`` for counts and spend.
        type: ``number``, or for ``first``/``last`` the type the rule reads the value as.
        then: for ``followed`` (``did(A, then=B, within=…)``), the events that must follow a
            matching one: their filters and ``where`` (its own ``window`` is ``None``).
        gap: for ``followed``, how long after a matching event a ``then`` event may come
            (days or weeks); the value is 1 when some matching event in ``window`` has a
            ``then`` event strictly after it and at most ``gap`` later, else 0.
    """

    source: str
    measure: str
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    window: Window | None
    type: str = "number"
    where: Value | None = None
    prop: Prop | None = None
    then: Aggregate | None = None
    gap: Window | None = None

    def describe(self) -> str:
        if self.then is not None:
            name = "did"
        elif self.prop is not None:
            name = f"{self.measure}_of"
        elif self.source == "events":
            name = "events"
        else:
            name = "orders" if self.measure == "count" else "spend"
        parts = [f"{c}={list(v)!r}" for c, v in self.filters]
        if self.prop is not None:
            parts.append(repr(".".join(self.prop.path)))
        if self.where is not None:
            parts.append("where=…")
        if self.then is not None:
            parts.append(f"then={self.then.describe()}")
            parts.append(f'within="{self.gap}"')
            if self.window:
                parts.append(f'since="{self.window}"')
        elif self.window:
            parts.append(f'within="{self.window}"')
        return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class TextTest:
    """``starts_with(x, "94")``, ``ends_with``, ``contains`` or ``matches(x, pattern)``.

    ``pattern`` is the text given, or for ``matches`` the pattern translated to the portable
    dialect (:mod:`personae.segments.patterns`); ``unknown`` when ``x`` is.
    """

    op: str
    operand: Value
    pattern: str
    type: str = "boolean"


@dataclass(frozen=True)
class Lower:
    """``lower(x)``: the text in lower case (unknown stays unknown)."""

    operand: Value
    type: str = "string"


@dataclass(frozen=True)
class Distance:
    """``distance_km("S1")``: km from the customer's place to the store's (unknown when either
    is). The customer's place is the ``location_latitude``/``location_longitude`` traits; the
    store's is looked up by each evaluator when it runs, so a moved store needs no rule change."""

    store: str
    type: str = "number"


#: The traits :class:`Distance` reads.
LOCATION_FIELDS = ("location_latitude", "location_longitude")


@dataclass(frozen=True)
class AffinityOf:
    """``affinity(...)``: strength of the strongest matching affinity row, 0 when none."""

    kind: str | None
    value: str
    type: str = "number"


@dataclass(frozen=True)
class Consent:
    """``consent(purpose)``: the ``consent_<purpose>`` trait, missing counted as no."""

    purpose: str
    type: str = "boolean"


@dataclass(frozen=True)
class InSegment:
    name: str
    type: str = "boolean"


@dataclass(frozen=True)
class DayOf:
    """The calendar day of a timestamp value: how a timestamp is compared with a date literal.

    ``last_order_at == "2025-06-20"`` means "any time that day" and ``<= "2025-06-20"``
    includes that day; comparing with midnight instead would make ``==`` almost never true
    and ``<=``/``between`` drop the last day.
    """

    operand: Value
    type: str = "date"


@dataclass(frozen=True)
class Compare:
    op: str
    left: Value
    right: Value
    type: str = "boolean"


@dataclass(frozen=True)
class Between:
    operand: Value
    low: Value
    high: Value
    type: str = "boolean"


@dataclass(frozen=True)
class InList:
    """``x in [a, b]`` for a scalar ``x``."""

    operand: Value
    values: ConstList
    type: str = "boolean"


@dataclass(frozen=True)
class Contains:
    """``item in list_field``."""

    container: Field
    item: Value
    type: str = "boolean"


@dataclass(frozen=True)
class Overlaps:
    """``list_field in [a, b]``: the list shares at least one value with the literal list."""

    container: Field
    values: ConstList
    type: str = "boolean"


@dataclass(frozen=True)
class IsNull:
    operand: Value
    type: str = "boolean"


@dataclass(frozen=True)
class Not:
    operand: Value
    type: str = "boolean"


@dataclass(frozen=True)
class And:
    operands: tuple[Value, ...]
    type: str = "boolean"


@dataclass(frozen=True)
class Or:
    operands: tuple[Value, ...]
    type: str = "boolean"


Value = (
    Const
    | Field
    | Prop
    | Aggregate
    | TextTest
    | Lower
    | Distance
    | AffinityOf
    | Consent
    | InSegment
    | DayOf
    | Compare
    | Between
    | InList
    | Contains
    | Overlaps
    | IsNull
    | Not
    | And
    | Or
)


def children(node: Value | ConstList) -> tuple[Value | ConstList, ...]:
    """The direct sub-nodes of ``node``."""
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    if isinstance(node, InList | Overlaps):
        return (node.operand if isinstance(node, InList) else node.container, node.values)
    if isinstance(node, Contains):
        return (node.container, node.item)
    if isinstance(node, IsNull | Not | DayOf | TextTest | Lower):
        return (node.operand,)
    if isinstance(node, And | Or):
        return node.operands
    return ()


def walk(node: Value | ConstList) -> Iterator[Value | ConstList]:
    """``node`` and every node below it, depth first (not into an aggregate's ``where``, whose
    nodes are about events, not the customer: see :func:`event_nodes`)."""
    yield node
    for child in children(node):
        yield from walk(child)


def event_nodes(node: Aggregate) -> Iterator[Value | ConstList]:
    """The nodes of an aggregate's ``where`` condition and of its property, depth first (and of
    the ``where`` of the events that must follow, for ``did``)."""
    if node.where is not None:
        yield from walk(node.where)
    if node.prop is not None:
        yield node.prop
    if node.then is not None:
        yield from event_nodes(node.then)


@dataclass(frozen=True)
class CheckedRule:
    """A rule that parsed and type-checked, ready for either evaluator.

    Attributes:
        text: the rule as written.
        expr: its typed tree (a boolean value).
        references: names of the segments it uses through ``in_segment``.
    """

    text: str
    expr: Value

    @property
    def references(self) -> frozenset[str]:
        return frozenset(n.name for n in walk(self.expr) if isinstance(n, InSegment))

    @property
    def aggregates(self) -> frozenset[Aggregate]:
        return frozenset(n for n in walk(self.expr) if isinstance(n, Aggregate))
