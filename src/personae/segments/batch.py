"""Batch evaluation: compile checked rules into ONE Ibis query over all customers.

The query is the ``traits`` table left-joined with the per-customer aggregates the rules'
function calls need, and one boolean column per segment. Every distinct function call of
every rule is computed once, in one grouped pass per source table (events, orders,
affinities): a segment added to a build costs a filtered aggregate in a scan that runs anyway,
not a scan of its own (benchmarks/bench_segments.py measures it). An order count that is only
ever tested for "any" or "none" counts matching lines instead of distinct orders — the same
truth value without a COUNT(DISTINCT).

Segments that read only traits are decided on the traits table before the joins (the joins
then carry a boolean per segment instead of the trait columns), the others after; a segment
reference (``in_segment``) reads the column of the referred segment, decided in an earlier
dependency layer, instead of repeating its expression.

Values from rules never become SQL text: every string constant travels in a one-row Arrow
table (an Ibis memtable) that the query cross-joins, and numbers, dates and booleans are
typed literals made from parsed Python values. Column names are generated (``_a0``, ``s3``),
never taken from the rule or the segment name.

Event properties (``where=``, ``sum_of`` …) are read from the JSON text of ``events.properties``
once per scan; a property path is made only of names the checker accepted
(``[A-Za-z_][A-Za-z0-9_]*`` joined by dots), which is all that reaches the SQL from it. The
patterns of ``matches`` travel as data, translated to the portable dialect
(:mod:`personae.segments.patterns`).

Missing values follow SQL's three-valued logic (see :mod:`personae.segments.realtime`, which
implements the same tables in Python); a customer is a member when the rule is true.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from typing import Any

import ibis
import pyarrow as pa

from personae.errors import RuleError
from personae.segments import expr as x
from personae.segments.check import PROPERTY_PATH
from personae.segments.functions import end_of_day
from personae.segments.patterns import compile_pattern
from personae.tables import is_return_line, join_on_customer, net_amount
from personae.traits.places import haversine_expr

_DTYPES = {
    "number": "float64",
    "string": "string",
    "boolean": "boolean",
    "list": "array<string>",
    "date": "date",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class BatchSources:
    """The tables a batch evaluation reads (already resolved to unified customer ids).

    Attributes:
        as_of: the build's as-of date; nothing stamped after that day is read.
        traits: one row per customer (``customer_id`` plus trait/profile columns; missing
            columns count as unknown).
        events, orders: the resolved canonical tables, or ``None`` when there are none.
        affinities: the ``affinities`` table (``customer_id, kind, value, strength``) or ``None``.
        stores: store id → (latitude, longitude) of the stores with a place, for
            ``distance_km`` (a store not here is unknown, and so is the distance).
    """

    as_of: date
    traits: ibis.Table
    events: ibis.Table | None = None
    orders: ibis.Table | None = None
    affinities: ibis.Table | None = None
    stores: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledSegments:
    """``table`` has ``customer_id`` and one boolean column per segment (``columns[name]``)."""

    table: ibis.Table
    columns: dict[str, str]


def compile_segments(
    targets: Sequence[str], library: Mapping[str, x.CheckedRule], sources: BatchSources
) -> CompiledSegments:
    """One query deciding membership of every customer in each of ``targets``.

    Args:
        targets: segment names to produce columns for.
        library: every segment rule by name (targets and anything they refer to).
        sources: the tables to read.
    """
    return _Compiler(library, sources).compile(targets)


def evaluate_rule(
    rule: x.CheckedRule, sources: BatchSources, library: Mapping[str, x.CheckedRule] | None = None
) -> ibis.Table:
    """``customer_id, member`` for one rule that need not be stored (previews, tests)."""
    name = "\x00rule"
    compiled = compile_segments([name], {**(library or {}), name: rule}, sources)
    return compiled.table.select("customer_id", member=compiled.table[compiled.columns[name]])


class _Compiler:
    def __init__(self, library: Mapping[str, x.CheckedRule], sources: BatchSources) -> None:
        self.library = library
        self.sources = sources
        self.strings: dict[str, str] = {}  # string constant → its column in the constants table
        self.aggregates: dict[x.Aggregate | x.AffinityOf, str] = {}
        self.fields: set[str] = set()
        self.exact: set[x.Aggregate] = set()  # order counts whose number matters, not just > 0
        self.inlined: dict[str, ibis.Value] = {}
        self.t: ibis.Table = sources.traits
        #: property path → its column (the JSON value at that path) in the event rows being read
        self.paths: dict[tuple[str, ...], str] = {}

    def compile(self, targets: Sequence[str]) -> CompiledSegments:
        seen: set[str] = set()
        for name in targets:
            self.gather(name, seen)
        consts = self.constants()
        traits = self.sources.traits
        # only the columns the rules read: a narrow join, and a small query to compile
        present = {f: _nan_as_null(traits[f]) for f in sorted(self.fields - {"customer_id"}) if f in traits}
        missing = {
            f: ibis.null(_DTYPES[self.field_type(f)]) for f in sorted(self.fields) if f not in traits.columns
        }
        t = traits.select("customer_id", **present, **missing)
        # every segment needed (targets and what they refer to) is decided once, as a column, in
        # dependency order: a reference reads the column of a segment decided before
        columns = {name: f"s{i}" for i, name in enumerate(targets)}
        for name in sorted(seen):
            columns.setdefault(name, f"s{len(columns)}")
        # Segments that read only traits are decided on the traits table, before the joins: the
        # joins then carry one boolean per such segment instead of every trait they read, and
        # their expressions run over plain columns rather than over join output.
        needs_calls = _needs_calls({n: self.library[n] for n in seen})
        early = sorted(n for n in seen if not needs_calls[n])
        late = sorted(seen - set(early))
        if early:
            late_fields = sorted({f for n in late for f in _fields(self.library[n].expr)})
            t = self.decide(
                self.with_strings(t, consts, early), early, columns, ["customer_id", *late_fields], early
            )
        for part in (
            *self.event_aggregates(consts),
            self.order_aggregates(consts),
            self.affinity_aggregates(consts),
        ):
            if part is not None:
                t = join_on_customer(t, part)
        if late:
            t = self.with_strings(t, consts, late)
        out = self.decide(t, late, columns, ["customer_id"], list(targets))
        return CompiledSegments(out, {n: columns[n] for n in targets})

    def decide(
        self, t: ibis.Table, names: list[str], columns: dict[str, str], keep: list[str], out: list[str]
    ) -> ibis.Table:
        """``keep`` and a membership column for each of ``out``, deciding ``names`` on ``t``.

        ``names`` are decided layer by dependency layer; the last layer is computed in the
        final selection itself (one relation fewer for Ibis to compile and DuckDB to run).
        """
        for name in self.inlined:  # columns decided in an earlier stage, seen from ``t``
            self.inlined[name] = t[columns[name]]
        layers = _layers({n: self.library[n] for n in names}) or [[]]
        for layer in layers[:-1]:
            self.t = t
            t = t.mutate(**{columns[n]: self.segment(n) for n in layer})
            self.inlined.update({n: t[columns[n]] for n in layer})
        self.t = t
        return t.select(*keep, **{columns[n]: self.segment(n) for n in out})

    # -- pass 1: what the rules need --------------------------------------------------------------
    def gather(self, name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        if name not in self.library:
            raise RuleError(f"unknown segment {name!r}", hint="see `personae segments list`")
        self.exact |= _counted_exactly(self.library[name].expr)
        for node in x.walk(self.library[name].expr):
            for value in _constants(node):
                self.string(value)
            if isinstance(node, x.Aggregate | x.AffinityOf):
                self.aggregates.setdefault(node, f"_a{len(self.aggregates)}")
                if isinstance(node, x.Aggregate):
                    for inner in x.event_nodes(node):
                        for value in _constants(inner):
                            self.string(value)
            elif isinstance(node, x.Field):
                self.fields.add(node.name)
            elif isinstance(node, x.Distance):
                self.fields.update(x.LOCATION_FIELDS)
            elif isinstance(node, x.Consent):
                self.fields.add(f"consent_{node.purpose}")
            elif isinstance(node, x.InSegment):
                self.gather(node.name, seen)

    def string(self, value: str) -> None:
        self.strings.setdefault(value, f"_c{len(self.strings)}")

    def field_type(self, name: str) -> str:
        if name in x.LOCATION_FIELDS:
            return "number"
        for rule in self.library.values():
            for node in x.walk(rule.expr):
                if isinstance(node, x.Field) and node.name == name:
                    return node.type
        return "boolean"  # consent_* columns

    def constants(self) -> ibis.Table | None:
        """The one-row table carrying every string constant as data (never as SQL text)."""
        if not self.strings:
            return None
        return ibis.memtable(pa.table({col: pa.array([v], pa.string()) for v, col in self.strings.items()}))

    # -- pass 2: shared aggregates, one grouped scan per source -----------------------------------
    def _rows(self, table: ibis.Table, time_col: str, nodes: list[x.Aggregate]) -> ibis.Table:
        t = table.filter(table[time_col] < ibis.timestamp(end_of_day(self.sources.as_of).isoformat(sep=" ")))
        if nodes and all(n.window for n in nodes):
            earliest = min(n.window.start_at(self.sources.as_of) for n in nodes if n.window)
            t = t.filter(t[time_col] >= ibis.timestamp(earliest.isoformat(sep=" ")))
        return t

    def _condition(
        self,
        rows: ibis.Table,
        node: x.Aggregate,
        time_col: str,
        kept: frozenset[tuple[str, Any]] = frozenset(),
    ) -> ibis.Value:
        """What a row must meet to count for ``node``; ``kept`` are the filters (``("type", values)``,
        ``("window", start)``) every row already met before the group-by, not tested again."""
        parts: list[ibis.Value] = []
        for column, values in node.filters:
            if (column, values) in kept:
                continue
            consts = [rows[self.strings[v]] for v in values]
            parts.append(rows[column] == consts[0] if len(consts) == 1 else rows[column].isin(consts))
        if node.window and ("window", node.window.start_at(self.sources.as_of)) not in kept:
            start = node.window.start_at(self.sources.as_of)
            parts.append(rows[time_col] >= ibis.timestamp(start.isoformat(sep=" ")))
        return reduce(lambda a, b: a & b, parts) if parts else ibis.literal(True)

    def _with_consts(self, rows: ibis.Table, consts: ibis.Table | None, values: Iterable[str]) -> ibis.Table:
        """``rows`` with the constants ``values`` as columns (only those: every carried column
        is work for Ibis to compile and for the engine to pass along)."""
        wanted = sorted({self.strings[v] for v in values})
        return rows if consts is None or not wanted else rows.cross_join(consts.select(*wanted))

    def with_strings(self, t: ibis.Table, consts: ibis.Table | None, names: Iterable[str]) -> ibis.Table:
        """``t`` with the string constants that the rules ``names`` compare to themselves."""
        return self._with_consts(t, consts, {v for n in names for v in _strings(self.library[n].expr)})

    def event_aggregates(self, consts: ibis.Table | None) -> list[ibis.Table]:
        """The per-customer event aggregates: one grouped scan for all of them, plus one small
        pass per ``first_of``/``last_of`` (the value at the earliest/latest matching event)."""
        every = [n for n in self.aggregates if isinstance(n, x.Aggregate) and n.source == "events"]
        if not every:
            return []
        if self.sources.events is None:
            return [_zeros(self.sources.traits, [self.aggregates[n] for n in every])]
        followed = [self.followed(n, consts) for n in every if n.then is not None]
        nodes = [n for n in every if n.then is None]
        if not nodes:
            return followed
        columns = ["customer_id", "occurred_at", "type", "category", "channel", "product_id"]
        paths = sorted({p.path for n in nodes for p in x.event_nodes(n) if isinstance(p, x.Prop)})
        rows = self._rows(self.sources.events, "occurred_at", nodes).select(
            *columns, *(["properties"] if paths else [])
        )
        types = [dict(n.filters).get("type") for n in nodes]
        kept: set[tuple[str, Any]] = set()
        if all(types):  # every call names its event types: read only those
            wanted = sorted({t for ts in types for t in ts or ()})
            rows = rows.semi_join(ibis.memtable(pa.table({"type": pa.array(wanted, pa.string())})), "type")
            kept.add(("type", tuple(wanted)))
        if all(n.window for n in nodes):  # the window _rows applied: the earliest start
            kept.add(("window", min(n.window.start_at(self.sources.as_of) for n in nodes if n.window)))
        if paths:
            # each property the calls read is taken out of the JSON text once, as its own (small)
            # JSON value; reading it as a number or a string then parses only that value
            self.paths = {path: f"_p{i}" for i, path in enumerate(paths)}
            rows = rows.select(*columns, _json=rows.properties.cast("json"))  # parsed once
            rows = rows.select(
                *columns, **{col: _at_path(rows._json, path) for path, col in self.paths.items()}
            )
        rows = self._with_consts(rows, consts, {v for n in nodes for v in _constants(n)})
        self.t = rows
        wheres = {n.where for n in nodes}
        if None not in wheres:
            # every call reads only events meeting its where: the others are left out before the
            # group-by (as a hand-written WHERE would), and one shared condition is not repeated
            keep = [ibis.coalesce(self.value(w), False) for w in sorted(wheres, key=repr) if w is not None]
            rows = rows.filter(reduce(lambda a, b: a | b, keep))
            self.t = rows
        measures: dict[str, ibis.Value] = {}
        edges: list[ibis.Table] = []
        for n in nodes:
            cond = self._condition(rows, n, "occurred_at", frozenset(kept))
            if n.where is not None and len(wheres) > 1:
                cond = cond & ibis.coalesce(self.value(n.where), False)
            col = self.aggregates[n]
            if n.measure == "count":
                measures[col] = rows.customer_id.count(where=cond)
                continue
            assert n.prop is not None
            if n.measure == "count_distinct":
                measures[col] = self.prop(n.prop.path, "string").nunique(where=cond) + self.prop(
                    n.prop.path, "number"
                ).nunique(where=cond)
                continue
            v = self.prop(n.prop.path, n.prop.type)
            if n.measure in ("sum", "avg", "min", "max"):
                measures[col] = getattr(v, {"avg": "mean"}.get(n.measure, n.measure))(where=cond)
            else:
                edges.append(self.edge_value(rows, cond, v, col, first=n.measure == "first"))
        self.paths = {}
        parts = [rows.group_by("customer_id").aggregate(**measures)] if measures else []
        return parts + edges + followed

    def followed(self, node: x.Aggregate, consts: ibis.Table | None) -> ibis.Table:
        """``customer_id, col`` (= 1) for the customers with an A event (``node``'s filters, where
        and window) followed by a B event (``node.then``) strictly later, at most ``node.gap``
        after it.

        Not a join of every A with every B (a customer with thousands of both would make
        millions of pairs): A and B rows are put in one time order, B before A at equal times
        (so an A at the same moment as a B never counts as before it), and each B row reads the
        latest A strictly before it — a running maximum, then the previous row's. Some A is
        followed by a B within the gap exactly when some B is at most the gap after that A.
        """
        assert node.then is not None and node.gap is not None
        events = self.sources.events
        assert events is not None
        columns = ["customer_id", "occurred_at", "type", "category", "channel", "product_id"]
        paths = sorted({p.path for p in x.event_nodes(node) if isinstance(p, x.Prop)})
        rows = self._rows(events, "occurred_at", [node]).select(*columns, *(["properties"] if paths else []))
        wanted = sorted({t for n in (node, node.then) for t in dict(n.filters).get("type", ())})
        if all(dict(n.filters).get("type") for n in (node, node.then)):
            rows = rows.semi_join(ibis.memtable(pa.table({"type": pa.array(wanted, pa.string())})), "type")
        if paths:
            self.paths = {path: f"_p{i}" for i, path in enumerate(paths)}
            rows = rows.select(*columns, _json=rows.properties.cast("json"))
            rows = rows.select(
                *columns, **{col: _at_path(rows._json, path) for path, col in self.paths.items()}
            )
        rows = self._with_consts(rows, consts, _constants(node))
        self.t = rows
        conditions = []
        for n in (node, node.then):
            cond = self._condition(rows, n, "occurred_at")
            if n.where is not None:
                cond = cond & ibis.coalesce(self.value(n.where), False)
            conditions.append(cond)
        self.paths = {}
        is_a, is_b = conditions
        a = rows.filter(is_a).select("customer_id", _t=rows.occurred_at, _k=ibis.literal(1, "int8"))
        b = rows.filter(is_b).select("customer_id", _t=rows.occurred_at, _k=ibis.literal(0, "int8"))
        both = a.union(b, distinct=False)
        order = ibis.window(group_by="customer_id", order_by=["_t", "_k"])
        running = ibis.cumulative_window(group_by="customer_id", order_by=["_t", "_k"])
        both = both.mutate(_last_a=ibis.ifelse(both._k == 1, both._t, None).max().over(running))
        both = both.mutate(_prev_a=both._last_a.lag().over(order))
        days = node.gap.amount * (7 if node.gap.unit == "w" else 1)
        hit = both.filter(
            (both._k == 0) & both._prev_a.notnull() & (both._t <= both._prev_a + ibis.interval(days=days))
        )
        return (
            hit.select("customer_id").distinct().mutate(**{self.aggregates[node]: ibis.literal(1, "int64")})
        )

    def edge_value(
        self, rows: ibis.Table, cond: ibis.Value, value: ibis.Value, col: str, *, first: bool
    ) -> ibis.Table:
        """``customer_id, col``: ``value`` on the customer's earliest (``first``) or latest matching
        event that has it; of events at that same time, the smallest (first) or largest value."""
        m = rows.filter(cond & value.notnull()).select("customer_id", _at=rows.occurred_at, _v=value)
        edge = m.group_by("customer_id").aggregate(_edge=m._at.min() if first else m._at.max())
        at_edge = m.join(edge, [m.customer_id == edge.customer_id, m._at == edge._edge]).select(
            "customer_id", "_v"
        )
        pick = at_edge._v.min() if first else at_edge._v.max()
        return at_edge.group_by("customer_id").aggregate(**{col: pick})

    def prop(self, path: tuple[str, ...], type_: str) -> ibis.Value:
        """An event property read as ``type_`` (a JSON value of another type is unknown)."""
        if path not in self.paths:
            raise RuleError(f"cannot read the event property {'.'.join(path)!r} here")
        value = self.t[self.paths[path]]
        if type_ == "number":
            return value.float
        if type_ == "string":
            return value.str
        if type_ == "boolean":
            return value.bool
        # any scalar (``is null``; ``count_distinct_of``): a string, a number or true/false
        return ibis.coalesce(value.str, value.float.cast("string"), value.bool.cast("string"))

    def order_aggregates(self, consts: ibis.Table | None) -> ibis.Table | None:
        nodes = [n for n in self.aggregates if isinstance(n, x.Aggregate) and n.source == "orders"]
        if not nodes:
            return None
        if self.sources.orders is None:
            return _zeros(self.sources.traits, [self.aggregates[n] for n in nodes])
        o = self._rows(self.sources.orders, "ordered_at", nodes)
        o = o.select(
            "customer_id",
            "ordered_at",
            "category",
            "channel",
            "product_id",
            "store_id",
            # a return line has no order key: it nets spend but is no order
            _key=ibis.ifelse(
                is_return_line(o),
                None,
                ibis.coalesce(o.order_id, "day:" + o.ordered_at.date().cast("string")),
            ),
            _net=net_amount(o),
        )
        rows = self._with_consts(o, consts, {v for n in nodes for v in _constants(n)})
        aggregates = {}
        for n in nodes:
            cond = self._condition(rows, n, "ordered_at")
            if n.measure == "spend":
                aggregates[self.aggregates[n]] = rows._net.sum(where=cond)
            elif n in self.exact:
                # COUNT(DISTINCT order) FILTER (…): in DuckDB 1.5 faster than a two-level
                # group-by (per order, then per customer) whatever the number of calls
                aggregates[self.aggregates[n]] = rows._key.nunique(where=cond)
            else:  # only ever tested for "any" / "none": matching lines say as much as orders
                aggregates[self.aggregates[n]] = rows._key.count(where=cond)
        return rows.group_by("customer_id").aggregate(**aggregates)

    def affinity_aggregates(self, consts: ibis.Table | None) -> ibis.Table | None:
        nodes = [n for n in self.aggregates if isinstance(n, x.AffinityOf)]
        if not nodes:
            return None
        if self.sources.affinities is None:
            return _zeros(self.sources.traits, [self.aggregates[n] for n in nodes], 0.0)
        a = self.sources.affinities.select("customer_id", "kind", "value", "strength")
        wanted = ibis.memtable(pa.table({"value": pa.array(sorted({n.value for n in nodes}), pa.string())}))
        # only rows with a value some rule asks for reach the group-by (most rows do not)
        used = {v for n in nodes for v in _constants(n)}
        rows = self._with_consts(a.semi_join(wanted, "value"), consts, used)

        def matches(n: x.AffinityOf) -> ibis.Value:
            cond = rows.value == rows[self.strings[n.value]]
            return cond & (rows.kind == rows[self.strings[n.kind]]) if n.kind else cond

        return rows.group_by("customer_id").aggregate(
            **{self.aggregates[n]: rows.strength.cast("float64").max(where=matches(n)) for n in nodes}
        )

    # -- pass 3: the boolean expressions ---------------------------------------------------------
    def segment(self, name: str) -> ibis.Value:
        """Membership: the rule where it is true, false where it is false or unknown."""
        if name not in self.inlined:
            self.inlined[name] = ibis.coalesce(self.value(self.library[name].expr), False)
        return self.inlined[name]

    def value(self, node: x.Value) -> ibis.Value:
        t = self.t
        if isinstance(node, x.Const):
            return self.const(node.value, node.type)
        if isinstance(node, x.Field):
            return t[node.name]
        if isinstance(node, x.Prop):
            return self.prop(node.path, node.type)
        if isinstance(node, x.Aggregate) and node.measure not in x.ZERO_WHEN_NONE:
            return t[self.aggregates[node]]  # no matching event: unknown
        if isinstance(node, x.Aggregate | x.AffinityOf):  # no matching rows: 0
            return t[self.aggregates[node]].fill_null(0)
        if isinstance(node, x.Lower):
            return self.value(node.operand).lower()
        if isinstance(node, x.TextTest):
            text, pattern = self.value(node.operand), self.t[self.strings[_pattern(node)]]
            if node.op == "starts_with":
                return text.startswith(pattern)
            if node.op == "ends_with":
                return text.endswith(pattern)
            if node.op == "contains":
                return text.contains(pattern)
            return text.re_search(pattern)
        if isinstance(node, x.Distance):
            place = self.sources.stores.get(node.store)
            if place is None:  # no such store, or it has no place: unknown
                return ibis.null("float64")
            lat, lon = (self.const(float(v), "number") for v in place)
            return haversine_expr(t.location_latitude, t.location_longitude, lat, lon)
        if isinstance(node, x.Consent):
            col = f"consent_{node.purpose}"
            return t[col].fill_null(False) if col in t.columns else ibis.literal(False)
        if isinstance(node, x.InSegment):
            return self.segment(node.name)
        if isinstance(node, x.DayOf):
            return self.value(node.operand).date()
        if isinstance(node, x.Compare):
            return _COMPARE[node.op](self.value(node.left), self.value(node.right))
        if isinstance(node, x.Between):
            v = self.value(node.operand)
            return (v >= self.value(node.low)) & (v <= self.value(node.high))
        if isinstance(node, x.InList):
            return self.value(node.operand).isin(
                [self.const(v, node.values.type) for v in node.values.values]
            )
        if isinstance(node, x.Contains):
            return self.value(node.container).contains(self.value(node.item))
        if isinstance(node, x.Overlaps):
            container = self.value(node.container)
            return reduce(
                lambda a, b: a | b, [container.contains(self.const(v, "string")) for v in node.values.values]
            )
        if isinstance(node, x.IsNull):
            return self.value(node.operand).isnull()
        if isinstance(node, x.Not):
            return ~self.value(node.operand)
        if isinstance(node, x.And):
            return reduce(lambda a, b: a & b, [self.value(o) for o in node.operands])
        if isinstance(node, x.Or):
            return reduce(lambda a, b: a | b, [self.value(o) for o in node.operands])
        raise TypeError(f"cannot compile {node!r}")

    def const(self, value: object, type_: str) -> ibis.Value:
        if isinstance(value, str):
            return self.t[self.strings[value]]
        if isinstance(value, bool):
            return ibis.literal(value, type="boolean")
        if isinstance(value, int):
            return ibis.literal(value, type="int64")
        if isinstance(value, float):
            return ibis.literal(value, type="float64")
        if isinstance(value, date):
            return (
                ibis.date(value.isoformat())
                if type_ == "date"
                else ibis.timestamp(f"{value.isoformat()} 00:00:00")
            )
        raise TypeError(f"unexpected constant {value!r}")


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _nan_as_null(col: ibis.Value) -> ibis.Value:
    """NaN counts as unknown, as in the real-time evaluator (done once per column)."""
    return ibis.ifelse(col.isnan(), ibis.null(col.type()), col) if col.type().is_floating() else col


def _counted_exactly(expr: x.Value) -> set[x.Aggregate]:
    """The order counts in ``expr`` used other than as a test for "at least one" or "none".

    ``orders(…) >= 1``, ``> 0``, ``== 0``, ``< 1`` … only ask whether a matching order exists,
    and a matching order exists exactly when a matching order line does: those counts can
    count lines, which spares the engine a COUNT(DISTINCT) — the same truth value, cheaper.
    """
    uses: Counter[x.Value | x.ConstList] = Counter()
    existence: Counter[x.Value] = Counter()
    for node in x.walk(expr):
        uses[node] += 1
        if isinstance(node, x.Compare):
            for agg, const, op in (
                (node.left, node.right, node.op),
                (node.right, node.left, _MIRROR[node.op]),
            ):
                if _is_order_count(agg) and isinstance(const, x.Const) and _existence_only(op, const.value):
                    existence[agg] += 1
    # exact as soon as one use needs the number itself
    return {n for n in uses if isinstance(n, x.Aggregate) and _is_order_count(n) and uses[n] > existence[n]}


def _is_order_count(node: object) -> bool:
    return isinstance(node, x.Aggregate) and node.source == "orders" and node.measure == "count"


def _existence_only(op: str, value: object) -> bool:
    """Whether ``n op value`` is the same for every count n >= 1 (so only n > 0 matters)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1000:
        return False
    compare = _COMPARE[op]
    outcomes = {bool(compare(n, value)) for n in range(1, int(abs(value)) + 3)}
    return len(outcomes) == 1


_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _constants(node: x.Value | x.ConstList) -> list[str]:
    """The string constants ``node`` itself brings (in rule order): a function call's filter
    values, an affinity's value and kind, a string or a list of strings. The one definition the
    constants table and each part's choice of its columns both read."""
    if isinstance(node, x.AffinityOf):
        return [node.value, *([node.kind] if node.kind else [])]
    if isinstance(node, x.Aggregate):
        inner = [v for n in x.event_nodes(node) for v in _constants(n)]
        then = [] if node.then is None else [v for _, values in node.then.filters for v in values]
        return [v for _, values in node.filters for v in values] + then + inner
    if isinstance(node, x.TextTest):
        return [_pattern(node)]
    if isinstance(node, x.Const) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, x.ConstList) and node.type == "string":
        return [str(v) for v in node.values]
    return []


def _at_path(props: ibis.Value, path: tuple[str, ...]) -> ibis.Value:
    """The JSON value at ``path`` (``None`` where there is none). The keys become part of the SQL
    (a JSON path), so only names the checker accepted may get here."""
    if not PROPERTY_PATH.match(".".join(path)):
        raise RuleError(f"{'.'.join(path)!r} is not a property name")
    value = props
    for key in path:
        value = value[key]
    return value


def _pattern(node: x.TextTest) -> str:
    """The text a text test compares with: as written, or a pattern in its portable spelling."""
    return compile_pattern(node.pattern).sql if node.op == "matches" else node.pattern


def _strings(expr: x.Value) -> set[str]:
    """The string constants ``expr`` compares to itself (not those inside function calls' filters,
    which the aggregate passes use, nor those of the segments it refers to)."""
    return {
        v
        for node in x.walk(expr)
        if not isinstance(node, x.Aggregate | x.AffinityOf)
        for v in _constants(node)
    }


def _fields(expr: x.Value) -> set[str]:
    """The ``traits`` columns ``expr`` itself reads (not through the segments it refers to)."""
    out: set[str] = set()
    for node in x.walk(expr):
        if isinstance(node, x.Field):
            out.add(node.name)
        elif isinstance(node, x.Distance):
            out.update(x.LOCATION_FIELDS)
        elif isinstance(node, x.Consent):
            out.add(f"consent_{node.purpose}")
    return out - {"customer_id"}


def _needs_calls(rules: Mapping[str, x.CheckedRule]) -> dict[str, bool]:
    """Whether each rule needs a function call's aggregate, itself or through a reference."""
    out: dict[str, bool] = {}

    def needs(name: str) -> bool:
        if name not in out:
            out[name] = False  # a cycle cannot make it true; _layers reports cycles
            nodes = list(x.walk(rules[name].expr))
            out[name] = any(isinstance(n, x.Aggregate | x.AffinityOf) for n in nodes) or any(
                needs(n.name) for n in nodes if isinstance(n, x.InSegment)
            )
        return out[name]

    for name in rules:
        needs(name)
    return out


def _layers(rules: Mapping[str, x.CheckedRule]) -> list[list[str]]:
    """The segments in dependency layers: each layer refers only to segments of earlier ones."""
    depth: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...] = ()) -> int:
        if name in path:
            raise RuleError(f"segments refer to each other in a cycle: {' → '.join([*path, name])}")
        if name not in depth:
            # a reference outside ``rules`` is a column decided before: it does not raise the layer
            refs = {n.name for n in x.walk(rules[name].expr) if isinstance(n, x.InSegment)} & set(rules)
            depth[name] = 1 + max((level(r, (*path, name)) for r in refs), default=-1)
        return depth[name]

    layers: list[list[str]] = []
    for name in sorted(rules, key=lambda n: (level(n), n)):
        if len(layers) <= depth[name]:
            layers.append([])
        layers[depth[name]].append(name)
    return layers


def _zeros(traits: ibis.Table, columns: list[str], fill: float | int = 0) -> ibis.Table:
    return traits.select("customer_id", **{c: ibis.literal(fill) for c in columns})
