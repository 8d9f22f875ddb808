"""Check a parsed rule: resolve names, validate calls, and type every value.

The checker is where a rule stops being text: unknown names get "did you mean" suggestions
from the trait registry and the function registry, type errors (a number compared with a
string, a window with an unknown unit, a filter a function does not take) are reported with
the position they come from, and the result is the typed tree of :mod:`personae.segments.expr`.

>>> check_rule('region in ["North", "South"] and age between 25 and 34').expr.operands[0]
InList(operand=Field(name='region', type='string'), values=ConstList(values=('North', 'South'), \
type='string'), type='boolean')
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from personae.errors import NotFoundError, RuleError
from personae.schema import CONSENT_PURPOSES
from personae.segments import expr as x
from personae.segments import language as s
from personae.segments.functions import (
    FUNCTIONS,
    GAP_UNITS,
    MAX_PERIODS,
    PROPERTY_AGGREGATES,
    SEQUENCE_TESTS,
    TEXT_TESTS,
    WINDOW_UNITS,
    Function,
    Parameter,
    Window,
    parse_window,
    split_affinity,
)
from personae.segments.patterns import compile_pattern
from personae.traits.registry import ALL

_TYPES = {
    "integer": "number",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "list": "list",
    "date": "date",
    "timestamp": "timestamp",
}

#: Every name a rule may use as a value: traits, profile attributes and ``customer_id``.
NAMES: dict[str, str] = {"customer_id": "string", **{t.name: _TYPES[t.type] for t in ALL.values()}}

_ARTICLE = {
    "number": "a number",
    "string": "a string",
    "boolean": "true/false",
    "list": "a list",
    "date": "a date",
    "timestamp": "a date and time",
}
_PLURAL = {
    "number": "numbers",
    "string": "strings",
    "boolean": "true/false values",
    "list": "lists",
    "date": "dates",
    "timestamp": "dates",
}
_ORDERED = ("number", "date", "timestamp")
#: A property path: names joined by dots, at most 8 deep (how the evaluators read nested JSON).
PROPERTY_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,7}$")
#: Types a property can be read as (JSON has no dates: a date is a string there).
_PROPERTY_TYPES = ("number", "string", "boolean")
_TIME = ("date", "timestamp")


def suggest(name: str, candidates: Collection[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The closest valid names to ``name`` (case-insensitive), best first.

    Example:
        >>> suggest("champion", ["Champions", "Loyal Customers", "staff"])
        ['Champions']
        >>> suggest("frequncy", NAMES)
        ['frequency', 'clv_frequency']
        >>> suggest("zzz", NAMES)
        []
    """
    lowered = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[m] for m in matches]


def snapshot_segments(names: Iterable[str], known: Collection[str]) -> list[str]:
    """``names`` in order without repeats, each checked against the segments in the snapshots.

    Raises:
        NotFoundError: a name that is not there, with the closest ones.
    """
    for n in names:
        if n not in known:
            close = suggest(n, known)
            raise NotFoundError(
                f"no segment named {n!r} in the snapshots",
                hint=f"did you mean {close[0]!r}?" if close else "see `personae segments list`",
            )
    return list(dict.fromkeys(names))


def check_rule(
    text: str,
    *,
    segments: Collection[str] = (),
    names: dict[str, str] | None = None,
    self_name: str | None = None,
    properties: Collection[str] | None = None,
    stores: Collection[str] | None = None,
) -> x.CheckedRule:
    """Parse and check ``text``; ``segments`` are the names ``in_segment`` may refer to.

    ``properties`` are the event property names the data has (dotted paths, see
    :func:`personae.segments.properties.property_names`): when given, a ``where`` or ``*_of``
    naming another property is an error with the closest names; when ``None`` any name passes
    (a rule may be written before the first event that carries it). ``stores`` are the store
    ids ``distance_km`` may name, likewise (``None``: any id; an unknown one is then unknown).

    Raises:
        RuleError: with the position of the problem and suggestions for unknown names.

    Example:
        >>> rule = check_rule('frequency >= 3 and in_segment("Champions")', segments={"Champions"})
        >>> rule.references
        frozenset({'Champions'})
        >>> check_rule("region == 3")
        Traceback (most recent call last):
            ...
        personae.errors.RuleError: cannot compare `region` (a string) with 3 (a number) (column 8)
        >>> check_rule("monetry > 100")
        Traceback (most recent call last):
            ...
        personae.errors.RuleError: unknown trait or attribute `monetry` (column 1) (did you mean \
`monetary` or `country`?)
    """
    tree = s.parse_rule(text)
    known = None if properties is None else frozenset(properties)
    checker = _Checker(text, set(segments), NAMES if names is None else names, self_name, known)
    checker.stores = None if stores is None else frozenset(stores)
    return x.CheckedRule(text, checker.condition(tree))


class _Checker:
    def __init__(
        self,
        rule: str,
        segments: set[str],
        names: dict[str, str],
        self_name: str | None,
        properties: frozenset[str] | None = None,
        event_scope: bool = False,
    ) -> None:
        self.rule = rule
        self.segments = segments
        self.names = names
        self.self_name = self_name
        self.properties = properties
        #: checking a ``where`` condition: names are the event's properties, not traits
        self.event_scope = event_scope
        #: the store ids ``distance_km`` may name (``None``: not known here, any passes)
        self.stores: frozenset[str] | None = None

    def fail(
        self, pos: int, message: str, suggestions: list[str] | None = None, hint: str | None = None
    ) -> RuleError:
        where = f" (column {s.column(self.rule, pos)})"
        return RuleError(message + where, rule=self.rule, position=pos, suggestions=suggestions, hint=hint)

    def source(self, node: s.Node) -> str:
        """A short rendering of ``node`` for messages."""
        if isinstance(node, s.Name):
            return f"`{node.name}`"
        if isinstance(node, s.Call):
            return f"`{node.name}(…)`"
        if isinstance(node, s.Literal):
            return _quoted(node.value)
        return "the expression"

    # -- conditions ------------------------------------------------------------------------------
    def condition(self, node: s.Node) -> x.Value:
        if isinstance(node, s.BoolOp):
            parts = tuple(self.condition(o) for o in node.operands)
            return x.And(parts) if node.op == "and" else x.Or(parts)
        if isinstance(node, s.Not):
            return x.Not(self.condition(node.operand))
        if isinstance(node, s.Comparison):
            return self.comparison(node)
        if isinstance(node, s.Between):
            return self.between(node)
        if isinstance(node, s.Membership):
            return self.membership(node)
        if isinstance(node, s.NullCheck):
            if isinstance(node.operand, s.Literal | s.ListLiteral):
                raise self.fail(node.pos, "`is null` needs a trait or function on its left, not a literal")
            check: x.Value = x.IsNull(_resolve(self.value(node.operand), "any"))
            return x.Not(check) if node.negated else check
        value = _resolve(self.value(node), "boolean")
        if value.type != "boolean":
            example = f"{self.source(node)} >= 1" if value.type == "number" else f'{self.source(node)} == "…"'
            raise self.fail(
                node.pos,
                f"{self.source(node)} is {_ARTICLE[value.type]}, not a condition",
                hint=f"compare it, e.g. {example.replace('`', '')}",
            )
        return value

    def comparison(self, node: s.Comparison) -> x.Value:
        for side in (node.left, node.right):
            if isinstance(side, s.Literal) and side.value is None:
                raise self.fail(
                    side.pos, "`null` cannot be compared", hint="write `is null` or `is not null`"
                )
        left, right = self.value(node.left), self.value(node.right)
        if _untyped(left) and _untyped(right):
            raise self.fail(
                node.pos,
                f"cannot compare {self.source(node.left)} with {self.source(node.right)}: "
                "neither says whether it is a number, a string or true/false",
                hint='compare a property with a value, e.g. revenue > 100 or plan == "pro"',
            )
        left, right = _resolve(left, right.type), _resolve(right, left.type)
        for side, value in ((node.left, left), (node.right, right)):
            if _untyped(value):
                raise self.fail(
                    side.pos,
                    f"an event property holds numbers, strings or true/false, not {_PLURAL[value.type]}",
                )
        left, right = self.time_constants(node.left, node.right, left, right)
        for side, value in ((node.left, left), (node.right, right)):
            if value.type == "list":
                raise self.fail(
                    side.pos,
                    f"{self.source(side)} is a list and cannot be compared with {node.op}",
                    hint=f'test membership instead, e.g. "outdoor" in {self.source(side).strip("`")}',
                )
        if left.type != right.type:
            raise self.fail(
                node.pos,
                f"cannot compare {self.source(node.left)} ({_ARTICLE[left.type]}) "
                f"with {self.source(node.right)} ({_ARTICLE[right.type]})",
                hint="a true/false test stands alone: write it without the comparison, or after `not`"
                if "boolean" in (left.type, right.type)
                else None,
            )
        if node.op not in ("==", "!=") and left.type not in _ORDERED:
            raise self.fail(
                node.pos,
                f"{_ARTICLE[left.type]} can only be compared with == or != (not {node.op})",
                hint="use `in [...]` for several values",
            )
        if left.type in _TIME and not (isinstance(left, x.Const) or isinstance(right, x.Const)):
            raise self.fail(node.pos, 'dates can only be compared with a date like "2025-01-31"')
        return x.Compare(node.op, left, right)

    def time_constants(
        self, left_src: s.Node, right_src: s.Node, left: x.Value, right: x.Value
    ) -> tuple[x.Value, x.Value]:
        """A string literal compared with a date/time trait is read as an ISO date.

        A timestamp compared with such a date is compared by its day (:class:`x.DayOf`), so
        ``==``, ``<=`` and ``between`` include the whole day, not only its midnight.
        """
        out = [left, right]
        for i, (this, other, src) in enumerate(((left, right, left_src), (right, left, right_src))):
            if other.type in _TIME and isinstance(this, x.Const) and this.type == "string":
                try:
                    day = date.fromisoformat(str(this.value))
                except ValueError:
                    raise self.fail(src.pos, f'{self.source(src)} is not a date like "2025-01-31"') from None
                out[i] = x.Const(day, "date")
                if other.type == "timestamp":
                    out[1 - i] = x.DayOf(other)
        return out[0], out[1]

    def between(self, node: s.Between) -> x.Value:
        operand = _resolve(self.value(node.operand), "number")
        if operand.type not in _ORDERED:
            raise self.fail(
                node.operand.pos,
                f"`between` needs a number or a date; {self.source(node.operand)} "
                f"is {_ARTICLE[operand.type]}",
            )
        bounds = []
        if operand.type == "timestamp" and any(
            isinstance(b, s.Literal) and isinstance(b.value, str) for b in (node.low, node.high)
        ):
            operand = x.DayOf(operand)  # compared with dates: by its day (see time_constants)
        for bound in (node.low, node.high):
            if isinstance(bound, s.Literal) and bound.value is None:
                raise self.fail(bound.pos, "`null` cannot be a bound of `between`")
            _, value = self.time_constants(node.operand, bound, operand, self.value(bound))
            if isinstance(operand, x.DayOf) and value.type == "timestamp":
                value = x.DayOf(value)
            if value.type != operand.type:
                raise self.fail(
                    bound.pos,
                    f"the bounds of `between` must be {_PLURAL[operand.type]}; "
                    f"{self.source(bound)} is {_ARTICLE[value.type]}",
                )
            bounds.append(value)
        check: x.Value = x.Between(operand, bounds[0], bounds[1])
        return x.Not(check) if node.negated else check

    def membership(self, node: s.Membership) -> x.Value:
        check: x.Value
        if isinstance(node.container, s.ListLiteral):
            values = self.const_list(node.container)
            item = _resolve(self.value(node.item), values.type)
            if item.type == "list":
                if values.type != "string":
                    raise self.fail(
                        node.container.pos,
                        f"{self.source(node.item)} holds strings; the list holds {_PLURAL[values.type]}",
                    )
                assert isinstance(item, x.Field)
                check = x.Overlaps(item, values)
            elif item.type != values.type:
                raise self.fail(
                    node.pos,
                    f"{self.source(node.item)} is {_ARTICLE[item.type]} but the list "
                    f"holds {_PLURAL[values.type]}",
                )
            else:
                check = x.InList(item, values)
        else:
            container = self.value(node.container)
            if container.type != "list":
                raise self.fail(
                    node.container.pos,
                    f"`in` needs a list after it; {self.source(node.container)} "
                    f"is {_ARTICLE[container.type]}",
                    hint='write a list like ["a", "b"] or a list trait such as interests',
                )
            if isinstance(node.item, s.Literal) and node.item.value is None:
                raise self.fail(node.item.pos, "`null` cannot be looked up in a list")
            item = _resolve(self.value(node.item), "string")
            if item.type != "string":
                raise self.fail(
                    node.item.pos,
                    f"{self.source(node.container)} holds strings; "
                    f"{self.source(node.item)} is {_ARTICLE[item.type]}",
                )
            assert isinstance(container, x.Field)
            check = x.Contains(container, item)
        return x.Not(check) if node.negated else check

    def const_list(self, node: s.ListLiteral) -> x.ConstList:
        if not node.items:
            raise self.fail(node.pos, "the list is empty")
        types = set()
        for item in node.items:
            if item.value is None:
                raise self.fail(item.pos, "a list cannot hold null", hint="test with `is null` instead")
            types.add(_literal_type(item.value))
        if len(types) > 1:
            raise self.fail(node.pos, "the list mixes " + " and ".join(sorted(_PLURAL[t] for t in types)))
        return x.ConstList(tuple(item.value for item in node.items), types.pop())  # type: ignore[misc]

    # -- values ----------------------------------------------------------------------------------
    def value(self, node: s.Node) -> x.Value:
        if isinstance(node, s.Literal):
            if node.value is None:
                raise self.fail(node.pos, "`null` can only be used in `is null` / `is not null`")
            return x.Const(node.value, _literal_type(node.value))
        if isinstance(node, s.ListLiteral):
            raise self.fail(node.pos, "a list can only follow `in`")
        if isinstance(node, s.Name):
            return self.name(node)
        if isinstance(node, s.Call):
            return self.call(node)
        return self.condition(node)

    def name(self, node: s.Name) -> x.Value:
        if self.event_scope:
            return x.Prop(self.property_path(node.name, node.pos), "property")
        if node.name in self.names:
            return x.Field(node.name, self.names[node.name])
        if node.name in FUNCTIONS:
            fn = FUNCTIONS[node.name]
            raise self.fail(
                node.pos, f"`{node.name}` is a function: call it with parentheses", hint=f"e.g. {fn.example}"
            )
        options = suggest(node.name, [*self.names, *FUNCTIONS])
        raise self.fail(
            node.pos,
            f"unknown trait or attribute `{node.name}`",
            suggestions=options or None,
            hint=None if options else "see `personae segments names` for every name",
        )

    def property_path(self, name: str, pos: int) -> tuple[str, ...]:
        """The path of an event property, checked against the names the data has (if known)."""
        if not PROPERTY_PATH.match(name):
            raise self.fail(pos, f"`{name}` is not a property name (names joined by dots, at most 8 deep)")
        if self.properties is not None and name not in self.properties:
            options = suggest(name, self.properties)
            raise self.fail(
                pos,
                f"no event has a property `{name}`",
                suggestions=options or None,
                hint=None if options else "see `personae segments names` for the properties the events carry",
            )
        return tuple(name.split("."))

    def call(self, node: s.Call) -> x.Value:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            if node.name in self.names:
                raise self.fail(
                    node.pos, f"`{node.name}` is a trait, not a function: write it without parentheses"
                )
            options = suggest(node.name, list(FUNCTIONS))
            raise self.fail(
                node.pos,
                f"unknown function `{node.name}`",
                suggestions=options or None,
                hint=None if options else "functions: " + ", ".join(FUNCTIONS),
            )
        if (
            fn.name == "distance_km"
            and len(node.args) == 2
            and isinstance(node.args[0].value, s.Name)
            and node.args[0].keyword is None
        ):
            raise self.fail(
                node.args[0].pos,
                "distance_km() takes only the store: the customer is the one the rule is about",
                hint='e.g. distance_km("S1") <= 10',
            )
        if fn.name == "stopped" and any(a.keyword == "within" for a in node.args):
            raise self.fail(
                node.pos,
                "stopped() takes after=, the quiet span ending on the as-of date, not within=",
                hint='e.g. stopped("app_open", after="30d")',
            )
        args = self.arguments(fn, node)
        for required in fn.required:
            if required not in args:
                raise self.fail(node.pos, f"{fn.name}() needs its {required}", hint=f"e.g. {fn.example}")
        if self.event_scope and fn.name not in (*TEXT_TESTS, "lower"):
            raise self.fail(
                node.pos,
                f"{fn.name}() cannot be used in a `where` condition, which reads one event's properties",
                hint='compare properties, e.g. revenue > 100 and starts_with(coupon, "XMAS")',
            )
        if fn.name in TEXT_TESTS or fn.name == "lower":
            return self.text_call(fn, node, args)
        if fn.name == "regularly" and args["periods"] > args["of"]:
            raise self.fail(
                node.pos,
                f"regularly() asks for {args['periods']} periods out of only {args['of']}",
                hint="periods= is at most of=, e.g. periods=4, of=6",
            )
        if (
            fn.name == "regularly"
            and args["period"].amount * args["of"] > WINDOW_UNITS[args["period"].unit][1]
        ):
            raise self.fail(
                node.pos,
                f"regularly() looks back {args['of']} × {args['period']}: longer than 100 years",
                hint='use a shorter period, e.g. period="1w"',
            )
        if fn.name == "returned":
            args["before"] = self.joined_window(node, args["within"], args["after"])
        if fn.name in SEQUENCE_TESTS:
            return _sequence(fn, args)
        if fn.name == "did":
            return self.did(node, args)
        if fn.name in ("events", "orders", "spend") or fn.name in PROPERTY_AGGREGATES:
            window = args.pop("within", None)
            where = args.pop("where", None)
            path = args.pop("property", None)
            filters = tuple(sorted((_param(fn, k).column or k, v) for k, v in args.items()))
            if fn.name in PROPERTY_AGGREGATES:
                measure, returns = PROPERTY_AGGREGATES[fn.name][:2]
                type_ = "property" if returns == "value" else "number"
                reads = "number" if measure in ("sum", "avg", "min", "max") else "property"
                prop = x.Prop(path, reads)
                return x.Aggregate("events", measure, filters, window, type_, where, prop)
            measure = "spend" if fn.name == "spend" else "count"
            return x.Aggregate(fn.source or "", measure, filters, window, where=where)
        return self.scalar_call(fn, node, args)

    def joined_window(self, node: s.Call, within: Window, after: Window) -> Window:
        """``returned``'s window of the return and the break before it, as one window ending on
        the as-of date (so the break is what it holds beyond ``within``): days and weeks add up
        in days, months and years in months; a mix has no exact length, so it is refused."""
        days = {"d": 1, "w": 7}
        months = {"m": 1, "y": 12}
        if within.unit == after.unit:
            joined = Window(within.amount + after.amount, within.unit)
        elif within.unit in days and after.unit in days:
            joined = Window(within.amount * days[within.unit] + after.amount * days[after.unit], "d")
        elif within.unit in months and after.unit in months:
            joined = Window(within.amount * months[within.unit] + after.amount * months[after.unit], "m")
        else:
            raise self.fail(
                node.pos,
                f'returned() cannot add after="{after}" to within="{within}": days/weeks and '
                "months/years have no common length",
                hint='write both in days or weeks, or both in months or years, e.g. after="30d", within="7d"',
            )
        limit = WINDOW_UNITS[joined.unit][1]
        if joined.amount > limit:
            raise self.fail(
                node.pos,
                f"returned() looks back {within} + {after}: longer than 100 years",
                hint='use shorter spans, e.g. after="30d", within="7d"',
            )
        return joined

    def did(self, node: s.Call, args: dict[str, Any]) -> x.Value:
        """``did(A, then=B, within=W)``: whether some A is followed by a B at most W later, as a
        ``followed`` aggregate (1 or 0) compared with 1, so it is never unknown.

        Example:
            >>> rule = check_rule('did("view", then="add_to_cart", within="1d", since="30d")')
            >>> print(rule.expr.left.describe())
            did(type=['view'], then=events(type=['add_to_cart']), within="1d", since="30d")
        """
        gap: Window = args.pop("within")
        if gap.unit not in GAP_UNITS:
            at = next(a.value.pos for a in node.args if a.keyword == "within")
            raise self.fail(
                at,
                f'did() measures within="{gap}" from the first event, and a month or a year has no '
                "fixed length",
                hint='write it in days or weeks, e.g. within="30d"',
            )
        then = x.Aggregate(
            "events", "count", (("type", args.pop("then")),), None, where=args.pop("then_where", None)
        )
        since = args.pop("since", None)
        where = args.pop("where", None)
        filters = tuple(sorted((_param(FUNCTIONS["did"], k).column or k, v) for k, v in args.items()))
        followed = x.Aggregate("events", "followed", filters, since, where=where, then=then, gap=gap)
        return x.Compare(">=", followed, x.Const(1, "number"))

    def text_call(self, fn: Function, node: s.Call, args: dict[str, Any]) -> x.Value:
        text_node = next(a.value for a in node.args if a.keyword in (None, "text"))
        operand = _resolve(args["text"], "string")
        if operand.type != "string":
            raise self.fail(
                text_node.pos,
                f"{fn.name}() reads a text; {self.source(text_node)} is {_ARTICLE[operand.type]}",
            )
        if fn.name == "lower":
            return x.Lower(operand)
        pattern = args["pattern"]
        if fn.name == "matches":
            try:
                compile_pattern(pattern)
            except ValueError as exc:
                at = next(
                    a.value.pos
                    for a in node.args
                    if a.keyword in (None, "pattern") and a.value is not text_node
                )
                raise self.fail(
                    at, f"the pattern of matches(): {exc}", hint="see Patterns in docs/segments.md"
                ) from None
        elif not pattern:
            raise self.fail(node.pos, f"{fn.name}() needs a non-empty string to look for")
        return x.TextTest(fn.name, operand, pattern)

    def scalar_call(self, fn: Function, node: s.Call, args: dict[str, Any]) -> x.Value:
        if fn.name == "distance_km":
            store = args["store"]
            if self.stores is not None and store not in self.stores:
                # store ids are short codes: "S9" is as close to "S1" as ids get
                options = suggest(store, self.stores, cutoff=0.5)
                known = ", ".join(sorted(self.stores)[:5]) + (" …" if len(self.stores) > 5 else "")
                raise self.fail(
                    node.args[0].pos,
                    f"no store {_quoted(store)} with a place (coordinates, or a known postcode)",
                    suggestions=options or None,
                    hint=None
                    if options
                    else (f"stores with a place: {known}" if self.stores else "no store has a place yet")
                    + " (personae ingest stores FILE: latitude/longitude or postcode + country)",
                )
            return x.Distance(store)
        if fn.name == "consent":
            purpose = args["purpose"]
            if purpose not in CONSENT_PURPOSES:
                options = suggest(purpose, CONSENT_PURPOSES)
                raise self.fail(
                    node.args[0].pos,
                    f"unknown consent purpose {_quoted(purpose)}",
                    suggestions=options or None,
                    hint=None if options else "purposes: " + ", ".join(CONSENT_PURPOSES),
                )
            return x.Consent(purpose)
        if fn.name == "in_segment":
            name = args["name"]
            if self.self_name is not None and name == self.self_name:
                raise self.fail(node.args[0].pos, f"segment {_quoted(name)} cannot contain itself (a cycle)")
            if name not in self.segments:
                options = suggest(name, self.segments)
                raise self.fail(
                    node.args[0].pos,
                    f"unknown segment {_quoted(name)}",
                    suggestions=options or None,
                    hint=None if options else "see `personae segments list`",
                )
            return x.InSegment(name)
        kind, value = split_affinity(args["value"])
        if not value.strip():
            raise self.fail(node.args[0].pos, 'affinity() needs a value, e.g. affinity("team:Lakers")')
        return x.AffinityOf(kind, value)

    def arguments(self, fn: Function, node: s.Call) -> dict[str, Any]:
        out: dict[str, Any] = {}
        positional = list(fn.positional)
        if fn.name in PROPERTY_AGGREGATES and sum(a.keyword is None for a in node.args) == 1:
            positional = ["property"]  # sum_of("revenue"): of every event that has it
        for arg in node.args:
            if arg.keyword is None:
                if out and any(a.keyword for a in node.args[: node.args.index(arg)]):
                    raise self.fail(arg.pos, "positional arguments must come before named ones")
                if not positional:
                    what = f"at most {len(fn.positional)}" if fn.positional else "no"
                    raise self.fail(
                        arg.pos,
                        f"{fn.name}() takes {what} unnamed argument(s); name the others",
                        hint=f"e.g. {fn.example}",
                    )
                name = positional.pop(0)
            else:
                name = arg.keyword
                param = fn.param(name)
                if param is None:
                    options = suggest(name, [p.name for p in fn.params])
                    raise self.fail(
                        arg.pos,
                        f"unknown filter `{name}` for {fn.name}()",
                        suggestions=options or None,
                        hint=None
                        if options
                        else f"{fn.name}() takes " + ", ".join(p.name for p in fn.params),
                    )
                if name in positional:
                    positional.remove(name)
            if name in out:
                raise self.fail(arg.pos, f"`{name}` is given twice in {fn.name}()")
            out[name] = self.argument(fn, _param(fn, name), arg.value)
        return out

    def argument(self, fn: Function, param: Parameter, node: s.Node) -> Any:
        label = f"`{param.name}` of {fn.name}()"
        if param.kind == "value":
            return self.value(node)
        if param.kind == "condition":
            if not (isinstance(node, s.Literal) and isinstance(node.value, str)):
                raise self.fail(
                    node.pos,
                    f"{label} takes a condition in quotes, not {self.source(node)}",
                    hint="e.g. where='coupon == \"XMAS\" and revenue > 100'",
                )
            return self.where(node, param.name)
        if param.name == "property":
            if not (isinstance(node, s.Literal) and isinstance(node.value, str)):
                raise self.fail(node.pos, f'{label} takes a property name in quotes, e.g. "revenue"')
            return self.property_path(node.value, node.pos)
        if param.kind == "count":
            if not (
                isinstance(node, s.Literal)
                and isinstance(node.value, int)
                and not isinstance(node.value, bool)
            ) or not (1 <= node.value <= MAX_PERIODS):
                raise self.fail(
                    node.pos,
                    f"{label} takes a whole number from 1 to {MAX_PERIODS}, not {self.source(node)}",
                    hint=f"e.g. {fn.example}",
                )
            return node.value
        if param.kind == "window":
            if not (isinstance(node, s.Literal) and isinstance(node.value, str)):
                raise self.fail(
                    node.pos,
                    f'{label} takes a text like "30d", not {self.source(node)}',
                    hint='write it in quotes with a unit: "30d", "12w", "6m" or "1y"',
                )
            try:
                return parse_window(node.value)
            except ValueError as exc:
                raise self.fail(node.pos, str(exc)) from None
        if param.kind == "strings" and isinstance(node, s.ListLiteral):
            values = self.const_list(node)
            if values.type != "string":
                raise self.fail(node.pos, f"{label} takes strings; the list holds {_PLURAL[values.type]}")
            return tuple(sorted({str(v) for v in values.values}))
        if isinstance(node, s.Literal) and isinstance(node.value, str):
            return (node.value,) if param.kind == "strings" else node.value
        if isinstance(node, s.Name):
            raise self.fail(node.pos, f'{label} takes a string in quotes: "{node.name}"')
        kind = "a string or a list of strings" if param.kind == "strings" else "a string"
        raise self.fail(node.pos, f"{label} takes {kind}, not {self.source(node)}")

    def where(self, node: s.Literal, keyword: str = "where") -> x.Value:
        """Check a ``where`` condition: the same language, over one event's properties."""
        text = str(node.value)
        inner = _Checker(text, set(), {}, None, self.properties, event_scope=True)
        try:
            return inner.condition(s.parse_rule(text))
        except RuleError as exc:
            # point into the outer rule: the string starts one quote after the literal (columns
            # in the message too; exact unless the where text has escapes or line breaks)
            offset = node.pos + 1 + (exc.position or 0)
            shift = s.column(self.rule, node.pos + 1) - 1
            message = re.sub(r"column (\d+)", lambda m: f"column {int(m.group(1)) + shift}", exc.message)
            raise RuleError(
                f"in {keyword}={_quoted(text)}: {message}",
                rule=self.rule,
                position=min(offset, len(self.rule)),
                suggestions=exc.suggestions,
                hint=exc.hint,
            ) from None


def _sequence(fn: Function, args: dict[str, Any]) -> x.Value:
    """``first_time``/``stopped`` as comparisons of event counts over windows ending on the as-of
    date: both evaluators (and every batch backend) already agree on those to the second.

    ``first_time(T, within=W)``: ``events(T, within=W) >= 1 and events(T) == events(T, within=W)``
    (nothing before the window). ``stopped(T, after=W)``: ``events(T) >= 1 and
    events(T, within=W) == 0``. Counts are never unknown, so neither is the result.
    """
    if fn.name == "regularly":
        return _regularly(fn, args)
    if fn.name == "returned":
        return _returned(fn, args)
    window = args.pop("within", None) or args.pop("after")
    where = args.pop("where", None)
    filters = tuple(sorted((_param(fn, k).column or k, v) for k, v in args.items()))
    recent = x.Aggregate("events", "count", filters, window, where=where)
    ever = x.Aggregate("events", "count", filters, None, where=where)
    one, zero = x.Const(1, "number"), x.Const(0, "number")
    if fn.name == "first_time":
        return x.And((x.Compare(">=", recent, one), x.Compare("==", ever, recent)))
    return x.And((x.Compare(">=", ever, one), x.Compare("==", recent, zero)))


def _returned(fn: Function, args: dict[str, Any]) -> x.Value:
    """``returned(T, after=G, within=W)`` as counts over windows ending on the as-of date, with
    ``B`` the window of ``W`` and ``G`` together (:meth:`_Checker.joined_window`):
    ``events(T, within=W) >= 1 and events(T, within=B) == events(T, within=W) and
    events(T) > events(T, within=B)`` — back in the last W, nothing in the G before it, and
    something before that (a first-ever event is no return).
    """
    recent_window, before_window = args.pop("within"), args.pop("before")
    args.pop("after")
    where = args.pop("where", None)
    filters = tuple(sorted((_param(fn, k).column or k, v) for k, v in args.items()))
    recent = x.Aggregate("events", "count", filters, recent_window, where=where)
    before = x.Aggregate("events", "count", filters, before_window, where=where)
    ever = x.Aggregate("events", "count", filters, None, where=where)
    return x.And(
        (
            x.Compare(">=", recent, x.Const(1, "number")),
            x.Compare("==", before, recent),
            x.Compare(">", ever, before),
        )
    )


def _regularly(fn: Function, args: dict[str, Any]) -> x.Value:
    """``regularly(T, periods=k, of=n, period=P)`` as "at least k of n periods hold an event".

    Period ``i`` (1 = the latest) is what the window of ``i`` periods holds beyond the window of
    ``i - 1``: ``events(T, within=i·P) > events(T, within=(i-1)·P)``, so periods are exactly
    consecutive and the latest ends on the as-of day, like every window. "At least k of these"
    is unrolled as ``(p_i and at least k-1 of the rest) or at least k of the rest``.
    """
    k, n, period = args.pop("periods"), args.pop("of"), args.pop("period")
    where = args.pop("where", None)
    filters = tuple(sorted((_param(fn, a).column or a, v) for a, v in args.items()))

    def count(i: int) -> x.Value:
        if i == 0:
            return x.Const(0, "number")
        return x.Aggregate("events", "count", filters, Window(period.amount * i, period.unit), where=where)

    held = [x.Compare(">", count(i), count(i - 1)) for i in range(1, n + 1)]

    def at_least(j: int, i: int) -> x.Value:
        if j == 0:
            return x.Const(True, "boolean")
        if n - i == j:
            return x.And(tuple(held[i:])) if j > 1 else held[i]
        with_i = held[i] if j == 1 else x.And((held[i], at_least(j - 1, i + 1)))
        return x.Or((with_i, at_least(j, i + 1)))

    return at_least(k, 0)


def _untyped(value: x.Value) -> bool:
    return value.type in ("property", "any")


def _resolve(value: x.Value, type_: str) -> x.Value:
    """A property (or ``first_of``/``last_of``) read as ``type_`` when its type is still open."""
    if value.type != "property" or (type_ not in _PROPERTY_TYPES and type_ != "any"):
        return value
    if isinstance(value, x.Prop):
        return x.Prop(value.path, type_)
    if isinstance(value, x.Aggregate):
        assert value.prop is not None
        return dataclasses.replace(value, type=type_, prop=x.Prop(value.prop.path, type_))
    return value


def _quoted(value: object) -> str:
    """A value as it would be written in a rule (double-quoted strings)."""
    return json.dumps(value, ensure_ascii=False)


def _param(fn: Function, name: str) -> Parameter:
    param = fn.param(name)
    assert param is not None
    return param


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"
