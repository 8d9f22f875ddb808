"""Real-time evaluation: segment membership of ONE customer from their in-memory state.

Pure Python, no database: the HTTP service keeps a :class:`CustomerState` per customer (their
traits from the last build, their recent events and orders, their affinities) and asks
:class:`ProfileEvaluator` which segments they belong to as events arrive. Rules are compiled
once into closures; each evaluation computes every aggregate a rule needs at most once
(memoised) and only scans events of the types a filter asks for.

The meaning is exactly the batch evaluator's (:mod:`personae.segments.batch`), including
three-valued logic: a value may be unknown (``None``), comparisons with it are unknown,
``not`` keeps it unknown, ``and``/``or`` follow Kleene's tables, and a customer is a member
only when the rule is ``True``. A property test keeps the two evaluators equal.
"""

from __future__ import annotations

import json
import math
import operator
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from personae.schema import line_is_return, line_net
from personae.segments import expr as x
from personae.segments.dependencies import dependency_order
from personae.segments.functions import end_of_day
from personae.segments.patterns import compile_pattern
from personae.traits.places import haversine_km

Tri = bool | None
#: A compiled node: called with a :class:`_Run`, or inside a ``where`` with the event row
Compiled = Callable[[Any], Any]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# -- the customer's state ----------------------------------------------------------------------
def timestamp(value: Any) -> datetime | None:
    """A naive UTC ``datetime`` from a datetime, date, pandas Timestamp or ISO text."""
    if value is None or _missing(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    raise TypeError(f"not a date/time: {value!r}")


def plain(value: Any) -> Any:
    """A trait value as plain Python: NaN/NA → None, numpy scalars → Python, arrays → tuples."""
    if value is None or _missing(value):
        return None
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "to_pydatetime") or isinstance(value, datetime | date):
        return value
    if hasattr(value, "tolist"):  # numpy scalar or array
        return plain(value.tolist())
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    return value


def _missing(value: Any) -> bool:
    return type(value).__name__ in ("NAType", "NaTType") or (isinstance(value, float) and math.isnan(value))


#: Columns that filters compare with strings: kept as strings, like the canonical tables.
_TEXT_COLUMNS = ("type", "channel", "category", "product_id", "store_id", "order_id")


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: plain(v) for k, v in row.items()}
    for k in _TEXT_COLUMNS:
        v = out.get(k)
        if v is not None and not isinstance(v, str):
            out[k] = str(v)
    return out


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    out = _row(row)
    out["occurred_at"] = timestamp(row.get("occurred_at"))
    if "properties" in out:
        out["properties"] = properties(out["properties"])
    return out


def properties(value: Any) -> dict[str, Any] | None:
    """An event's properties as a dict, parsed once from their JSON text (``None``: none, or
    not a JSON object — every property is then unknown, as in the batch evaluator)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _order_line(row: Mapping[str, Any]) -> dict[str, Any]:
    out = _row(row)
    at = timestamp(row.get("ordered_at"))
    out["ordered_at"] = at
    # the same order key and net amount as the batch side (traits: order id, else the day)
    order_id = out.get("order_id")
    out["_key"] = order_id if order_id is not None else ("day:" + at.date().isoformat() if at else None)
    amount, quantity = out.get("amount"), out.get("quantity")
    if line_is_return(amount, quantity):
        out["_key"] = None  # a return nets spend but is no order
    out["_net"] = line_net(amount, quantity, out.get("returned"))
    return out


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What real-time evaluation knows about one customer. Build it with :meth:`of`.

    Attributes:
        customer_id: the (resolved) customer id.
        traits: trait and profile values from the last build (missing = unknown).
        events: dicts with ``type``, ``occurred_at`` and optionally ``channel``, ``category``,
            ``product_id``, ``properties`` (JSON text or a dict) — keep at least the longest
            window any rule uses.
        orders: order-line dicts with ``ordered_at``, ``amount`` and optionally ``order_id``,
            ``channel``, ``store_id``, ``product_id``, ``category``, ``returned``.
        affinities: dicts with ``kind``, ``value`` and ``strength``.
        segments: memberships known from elsewhere (used only for segments the evaluator
            does not have a rule for).
    """

    customer_id: str
    traits: Mapping[str, Any]
    events: tuple[dict[str, Any], ...] = ()
    orders: tuple[dict[str, Any], ...] = ()
    affinities: tuple[Mapping[str, Any], ...] = ()
    segments: frozenset[str] = frozenset()
    _by_type: dict[str | None, tuple[dict[str, Any], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(
        cls,
        customer_id: str,
        traits: Mapping[str, Any] | None = None,
        *,
        events: Iterable[Mapping[str, Any]] = (),
        orders: Iterable[Mapping[str, Any]] = (),
        affinities: Iterable[Mapping[str, Any]] = (),
        segments: Iterable[str] = (),
    ) -> CustomerState:
        """Normalise raw rows (pandas/numpy values, ISO strings, aware datetimes) once."""
        return cls(
            customer_id,
            {k: plain(v) for k, v in (traits or {}).items()},
            tuple(_event(e) for e in events),
            tuple(_order_line(o) for o in orders),
            tuple({k: plain(v) for k, v in a.items()} for a in affinities),
            frozenset(segments),
        )

    def with_event(self, event: Mapping[str, Any]) -> CustomerState:
        """The state after one more event (states are immutable, so they can be shared)."""
        return CustomerState(
            self.customer_id,
            self.traits,
            (*self.events, _event(event)),
            self.orders,
            self.affinities,
            self.segments,
        )

    def with_order_lines(self, lines: Iterable[Mapping[str, Any]]) -> CustomerState:
        return CustomerState(
            self.customer_id,
            self.traits,
            self.events,
            (*self.orders, *(_order_line(o) for o in lines)),
            self.affinities,
            self.segments,
        )

    def with_rows(
        self, events: Iterable[Mapping[str, Any]], orders: Iterable[Mapping[str, Any]]
    ) -> CustomerState:
        """The state after more events and order lines, normalised once (one new state for both)."""
        return CustomerState(
            self.customer_id,
            self.traits,
            (*self.events, *(_event(e) for e in events)),
            (*self.orders, *(_order_line(o) for o in orders)),
            self.affinities,
            self.segments,
        )

    #: fewer events than this are filtered by a scan: an index per state would cost more to
    #: build than it saves, and adds objects the garbage collector tracks for the state's life
    INDEX_FROM = 32

    def events_of_type(self, kind: str) -> tuple[dict[str, Any], ...] | list[dict[str, Any]]:
        if len(self.events) < self.INDEX_FROM:
            return [e for e in self.events if e.get("type") == kind]
        if not self._by_type:
            grouped: dict[str | None, list[dict[str, Any]]] = {}
            for e in self.events:
                grouped.setdefault(e.get("type"), []).append(e)
            # tuples, not lists: once its rows hold only plain values, the garbage collector
            # stops tracking the index (a service keeps one state per customer for its lifetime,
            # and every tracked object lengthens each full collection's pause)
            self._by_type.update((k, tuple(v)) for k, v in grouped.items())
        return self._by_type.get(kind, ())


# -- the evaluator ------------------------------------------------------------------------------
class ProfileEvaluator:
    """Compiled rules for real-time membership decisions.

    Args:
        rules: every segment the evaluator decides (built-in and defined), by name. Rules
            may refer to each other with ``in_segment``; cycles raise :class:`RuleError`.
        stores: store id → (latitude, longitude) of the stores with a place, for
            ``distance_km`` (the batch evaluator's ``BatchSources.stores``).
    """

    #: most remembered results of the static segments (see :meth:`members`); then it starts over
    STATIC_MEMO_SIZE = 10_000

    def __init__(
        self, rules: Mapping[str, x.CheckedRule], stores: Mapping[str, tuple[float, float]] | None = None
    ) -> None:
        self.stores = dict(stores or {})
        self.order = dependency_order({n: r.references for n, r in rules.items()})
        self._aggregates: dict[x.Aggregate, Callable[[CustomerState, datetime | None, datetime], Any]] = {}
        self._compiled = {name: self._compile(rules[name].expr) for name in self.order}
        self.static = _static_segments(rules, self.order)
        self._static_order = [n for n in self.order if n in self.static]
        self._memo: dict[tuple[Any, ...], dict[str, bool]] = {}

    @property
    def names(self) -> list[str]:
        return list(self.order)

    def members(self, state: CustomerState, as_of: date) -> list[str]:
        """Every segment the customer belongs to on ``as_of``, in dependency order.

        Why a memo: most segments are *static* — their rule reads only traits, consents,
        affinities and other static segments, never events or orders (RFM, lifecycle, value
        tiers) — so their result is a function of the customer's traits/affinities/segments
        alone, which many customers share (few trait values; every new device has none). The
        service re-evaluates a customer on every event, so those results are remembered by
        that content (and the day, so no rule can ever read a stale date): an event then costs
        only the segments that read events or orders. A state whose values cannot be hashed
        is evaluated in full.
        """
        run = _Run(self, state, as_of)
        if self._static_order:
            key = _static_key(state, as_of)
            known = None if key is None else self._memo.get(key)
            if known is None:
                known = {name: run.member(name) for name in self._static_order}
                if key is not None:
                    if len(self._memo) >= self.STATIC_MEMO_SIZE:
                        self._memo.clear()
                    self._memo[key] = known
            else:
                run.results.update(known)
        return [name for name in self.order if run.member(name)]

    def is_member(self, name: str, state: CustomerState, as_of: date) -> bool:
        return _Run(self, state, as_of).member(name)

    def evaluate(self, rule: x.CheckedRule, state: CustomerState, as_of: date) -> Tri:
        """The three-valued result of one rule (not necessarily a stored segment)."""
        return self._compile(rule.expr)(_Run(self, state, as_of))

    # compilation: one closure per node
    def _compile(self, node: x.Value) -> Compiled:
        if isinstance(node, x.Const):
            value = timestamp(node.value) if node.type == "timestamp" else node.value
            return lambda run: value
        if isinstance(node, x.Field):
            return _field_reader(node)
        if isinstance(node, x.Aggregate):
            if node not in self._aggregates:
                where = None if node.where is None else self._compile(node.where)
                if node.then is None:
                    self._aggregates[node] = _aggregate_fn(node, where)
                else:
                    then = node.then
                    then_where = None if then.where is None else self._compile(then.where)
                    self._aggregates[node] = _followed_fn(node, where, _aggregate_rows(then, then_where))
            return lambda run: run.aggregate(node)
        if isinstance(node, x.Prop):  # inside a ``where``: called with the event, not a run
            return _prop_reader(node.path, node.type)
        if isinstance(node, x.Lower):
            inner = self._compile(node.operand)
            return lambda run: _lower(inner(run))
        if isinstance(node, x.TextTest):
            return _text_test(node.op, node.pattern, self._compile(node.operand))
        if isinstance(node, x.AffinityOf):
            return _affinity_fn(node)
        if isinstance(node, x.Distance):
            return _distance(self.stores.get(node.store))
        if isinstance(node, x.Consent):
            key = f"consent_{node.purpose}"
            return lambda run: run.state.traits.get(key) is True
        if isinstance(node, x.InSegment):
            name = node.name
            return lambda run: run.member(name)
        if isinstance(node, x.DayOf):
            inner = self._compile(node.operand)
            return lambda run: _date(inner(run))
        if isinstance(node, x.Compare):
            return _compare(_OPS[node.op], self._compile(node.left), self._compile(node.right))
        if isinstance(node, x.Between):
            return _between(self._compile(node.operand), self._compile(node.low), self._compile(node.high))
        if isinstance(node, x.InList):
            return _in_list(self._compile(node.operand), frozenset(node.values.values))
        if isinstance(node, x.Contains):
            return _contains(self._compile(node.container), self._compile(node.item))
        if isinstance(node, x.Overlaps):
            return _overlaps(self._compile(node.container), frozenset(node.values.values))
        if isinstance(node, x.IsNull):
            inner = self._compile(node.operand)
            return lambda run: inner(run) is None
        if isinstance(node, x.Not):
            inner = self._compile(node.operand)
            return lambda run: _not(inner(run))
        if isinstance(node, x.And):
            return _all(tuple(self._compile(o) for o in node.operands))
        if isinstance(node, x.Or):
            return _any(tuple(self._compile(o) for o in node.operands))
        raise TypeError(f"cannot evaluate {node!r}")


class _Run:
    """One evaluation: the state, the date, and what has been computed so far."""

    __slots__ = ("as_of", "end", "evaluator", "memo", "results", "state")

    def __init__(self, evaluator: ProfileEvaluator, state: CustomerState, as_of: date) -> None:
        self.evaluator = evaluator
        self.state = state
        self.as_of = as_of
        self.end = end_of_day(as_of)
        self.memo: dict[x.Aggregate, Any] = {}
        self.results: dict[str, bool] = {}

    def aggregate(self, node: x.Aggregate) -> Any:
        if node in self.memo:
            return self.memo[node]
        start = node.window.start_at(self.as_of) if node.window else None
        value = self.memo[node] = self.evaluator._aggregates[node](self.state, start, self.end)
        return value

    def member(self, name: str) -> bool:
        if name in self.results:
            return self.results[name]
        compiled = self.evaluator._compiled.get(name)
        result = name in self.state.segments if compiled is None else compiled(self) is True
        self.results[name] = result
        return result


def _static_segments(rules: Mapping[str, x.CheckedRule], order: Sequence[str]) -> frozenset[str]:
    """Segments whose rule reads no events or orders, directly or through ``in_segment``."""
    static: set[str] = set()
    for name in order:  # dependencies first
        nodes = list(x.walk(rules[name].expr))
        if not any(isinstance(n, x.Aggregate) for n in nodes) and all(
            n.name in static or n.name not in rules for n in nodes if isinstance(n, x.InSegment)
        ):
            static.add(name)
    return frozenset(static)


def _static_key(state: CustomerState, as_of: date) -> tuple[Any, ...] | None:
    """Everything a static segment may read, hashable; ``None`` when some value is not hashable."""
    try:
        key = (
            as_of,
            frozenset((k, _typed(v)) for k, v in state.traits.items()),
            tuple(frozenset((k, _typed(v)) for k, v in a.items()) for a in state.affinities),
            state.segments,
        )
        hash(key)
    except TypeError:
        return None
    return key


def _typed(value: Any) -> Any:
    """A value with its type: ``True``, ``1`` and ``1.0`` are equal keys in Python, but a rule
    may treat them differently (a boolean field reads ``1`` as unknown)."""
    if isinstance(value, tuple):
        return (tuple, tuple(_typed(v) for v in value))
    return (type(value), value)


# -- node implementations -----------------------------------------------------------------------
def _field_reader(node: x.Field) -> Compiled:
    name = node.name
    coerce = _COERCE[node.type]
    return lambda run: coerce(run.state.traits.get(name))


def _number(v: Any) -> float | int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _distance(place: tuple[float, float] | None) -> Compiled:
    """``distance_km``: km from the customer's place traits to ``place`` (unknown when either is)."""
    if place is None:
        return lambda run: None
    lat, lon = float(place[0]), float(place[1])
    lat_name, lon_name = x.LOCATION_FIELDS

    def run(r: _Run) -> float | None:
        here_lat = _number(r.state.traits.get(lat_name))
        here_lon = _number(r.state.traits.get(lon_name))
        if here_lat is None or here_lon is None:
            return None
        return haversine_km(here_lat, here_lon, lat, lon)

    return run


def _date(v: Any) -> date | None:
    ts = timestamp(v)
    return None if ts is None else ts.date()


_COERCE: dict[str, Callable[[Any], Any]] = {
    "number": _number,
    "string": lambda v: v if v is None or isinstance(v, str) else str(v),
    "boolean": lambda v: v if v is None or isinstance(v, bool) else None,
    "list": lambda v: v if v is None or isinstance(v, tuple) else (tuple(v) if isinstance(v, list) else None),
    "date": _date,
    "timestamp": timestamp,
}


def _compare(op: Callable[[Any, Any], bool], left: Compiled, right: Compiled) -> Compiled:
    def run(r: _Run) -> Tri:
        a = left(r)
        if a is None:
            return None
        b = right(r)
        return None if b is None else op(a, b)

    return run


def _between(operand: Compiled, low: Compiled, high: Compiled) -> Compiled:
    def run(r: _Run) -> Tri:
        v, lo, hi = operand(r), low(r), high(r)
        ge = None if v is None or lo is None else v >= lo
        le = None if v is None or hi is None else v <= hi
        return _and2(ge, le)

    return run


def _in_list(operand: Compiled, values: frozenset[Any]) -> Compiled:
    def run(r: _Run) -> Tri:
        v = operand(r)
        return None if v is None else v in values

    return run


def _contains(container: Compiled, item: Compiled) -> Compiled:
    def run(r: _Run) -> Tri:
        c, i = container(r), item(r)
        return None if c is None or i is None else i in c

    return run


def _overlaps(container: Compiled, values: frozenset[Any]) -> Compiled:
    def run(r: _Run) -> Tri:
        c = container(r)
        return None if c is None else any(v in values for v in c)

    return run


def _not(v: Tri) -> Tri:
    return None if v is None else not v


def _and2(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _all(parts: Sequence[Compiled]) -> Compiled:
    def run(r: _Run) -> Tri:
        unknown = False
        for part in parts:
            v = part(r)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True

    return run


def _any(parts: Sequence[Compiled]) -> Compiled:
    def run(r: _Run) -> Tri:
        unknown = False
        for part in parts:
            v = part(r)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False

    return run


def _affinity_fn(node: x.AffinityOf) -> Compiled:
    kind, value = node.kind, node.value

    def run(r: _Run) -> float:
        best = 0.0
        for a in r.state.affinities:
            s = a.get("strength")
            if (
                a.get("value") == value
                and (kind is None or a.get("kind") == kind)
                and s is not None
                and s > best
            ):
                best = s
        return best

    return run


def _prop_reader(path: tuple[str, ...], type_: str) -> Callable[[Mapping[str, Any]], Any]:
    """Read a property of an event row as ``type_``; another JSON type is unknown (``None``)."""
    read = _AS[type_]

    def run(event: Mapping[str, Any]) -> Any:
        value: Any = event.get("properties")
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return read(value)

    return run


def _json_number(v: Any) -> float | None:
    if type(v) not in (int, float):  # not bool: true is no number
        return None
    number = float(v)
    return None if math.isnan(number) or math.isinf(number) else number


def _json_any(v: Any) -> Any:
    """Any scalar (string, number, true/false) as itself; objects, lists and null unknown."""
    if isinstance(v, str | bool):
        return v
    return _json_number(v)


_AS: dict[str, Callable[[Any], Any]] = {
    "number": _json_number,
    "string": lambda v: v if type(v) is str else None,
    "boolean": lambda v: v if type(v) is bool else None,
    "any": _json_any,
    "property": _json_any,
}


def _lower(v: Any) -> str | None:
    return None if v is None else v.lower()


def _text_test(op: str, pattern: str, operand: Compiled) -> Compiled:
    if op == "matches":
        test: Callable[[str], bool] = compile_pattern(pattern).search
    elif op == "starts_with":
        test = lambda text: text.startswith(pattern)  # noqa: E731
    elif op == "ends_with":
        test = lambda text: text.endswith(pattern)  # noqa: E731
    else:
        test = lambda text: pattern in text  # noqa: E731

    def run(r: Any) -> Tri:
        text = operand(r)
        return None if text is None else test(text)

    return run


Rows = Callable[[CustomerState, datetime | None, datetime], Iterable[dict[str, Any]]]


def _aggregate_fn(
    node: x.Aggregate, where: Compiled | None = None
) -> Callable[[CustomerState, datetime | None, datetime], Any]:
    """Count or sum the customer's rows matching the filters inside the window (and ``where``),
    or aggregate a property of the matching events (``sum_of`` …)."""
    matching = _aggregate_rows(node, where)
    if node.prop is not None:
        return _property_aggregate(node.measure, node.prop, matching)
    if node.source == "events":
        return lambda state, start, end: sum(1 for _ in matching(state, start, end))
    if node.measure == "count":
        return lambda state, start, end: len(
            {row["_key"] for row in matching(state, start, end) if row["_key"] is not None}
        )
    return lambda state, start, end: sum(row["_net"] for row in matching(state, start, end))


def _followed_fn(
    node: x.Aggregate, where: Compiled | None, then: Rows
) -> Callable[[CustomerState, datetime | None, datetime], int]:
    """``did(A, then=B, within=W)``: 1 when some A (in the window) has a B strictly after it and
    at most W later (both before the end of the as-of day), else 0 — one sort of the B times
    and a binary search per A, so a long history costs n log n, not n²."""
    first = _aggregate_rows(node, where)
    assert node.gap is not None
    gap = timedelta(days=node.gap.amount * (7 if node.gap.unit == "w" else 1))

    def run(state: CustomerState, start: datetime | None, end: datetime) -> int:
        starts = [row["occurred_at"] for row in first(state, start, end)]
        if not starts:
            return 0
        times = sorted(row["occurred_at"] for row in then(state, None, end))
        for at in starts:
            i = bisect_right(times, at)  # the first B strictly after A
            if i < len(times) and times[i] <= at + gap:
                return 1
        return 0

    return run


def _aggregate_rows(node: x.Aggregate, where: Compiled | None = None) -> Rows:
    """The customer's rows matching ``node``'s filters and ``where`` inside a window."""
    checks = tuple((column, frozenset(values)) for column, values in node.filters if column != "type")
    types = dict(node.filters).get("type")
    time_col = "occurred_at" if node.source == "events" else "ordered_at"

    def rows(state: CustomerState) -> Iterable[dict[str, Any]]:
        if node.source == "orders":
            return state.orders
        if types is None:
            return state.events
        return [e for t in types for e in state.events_of_type(t)]

    def matching(state: CustomerState, start: datetime | None, end: datetime) -> Iterable[dict[str, Any]]:
        for row in rows(state):
            at = row[time_col]
            if at is None or at >= end or (start is not None and at < start):
                continue
            if all(row.get(c) in allowed for c, allowed in checks) and (where is None or where(row) is True):
                yield row

    return matching


def _property_aggregate(
    measure: str, prop: x.Prop, matching: Callable[..., Iterable[dict[str, Any]]]
) -> Callable[[CustomerState, datetime | None, datetime], Any]:
    """``sum_of`` … over the values of ``prop`` on the matching events that have one."""
    read = _prop_reader(prop.path, prop.type)

    def run(state: CustomerState, start: datetime | None, end: datetime) -> Any:
        if measure in ("first", "last"):
            found = [
                (row["occurred_at"], v) for row in matching(state, start, end) if (v := read(row)) is not None
            ]
            if not found:
                return None
            # ties in time: the smallest (first) / largest (last) value, as in the batch evaluator
            pick = min if measure == "first" else max
            return pick(found, key=lambda p: (p[0], type(p[1]).__name__, p[1]))[1]
        values = [v for row in matching(state, start, end) if (v := read(row)) is not None]
        if measure == "count_distinct":
            return len({v for v in values if isinstance(v, str)}) + len(
                {v for v in values if not isinstance(v, str | bool)}
            )
        if measure == "sum":
            return math.fsum(values)
        if not values:
            return None
        if measure == "avg":
            return math.fsum(values) / len(values)
        return min(values) if measure == "min" else max(values)

    return run
