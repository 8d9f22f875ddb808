"""The functions of the segment language, their filters, and time windows.

A registry (like :mod:`personae.traits.registry`) rather than code spread over the parser and
the evaluators: the checker validates calls against it, both evaluators read the filter →
column mapping from it, and docs/segments.md lists it. Adding a filter is one line here.

Windows (``within="90d"``) always end on the build's as-of date, inclusive, and start on the
day after the same date one span earlier: ``"7d"`` is the as-of day and the 6 days before it
(the convention of the ``cart_abandoned`` trait), ``"1m"`` runs from the day after the same
day-of-month a month earlier (clamped to the month's end). Both evaluators call
:meth:`Window.start` so they agree to the second.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from personae.schema import CONSENT_PURPOSES
from personae.traits.affinities import AFFINITY_KINDS as TRAIT_AFFINITY_KINDS

#: Units a window may use, with their meaning and the largest amount allowed (100 years).
WINDOW_UNITS: dict[str, tuple[str, int]] = {
    "d": ("days", 36_500),
    "w": ("weeks", 5_200),
    "m": ("months", 1_200),
    "y": ("years", 100),
}
_WINDOW = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Window:
    """A look-back span ending on the as-of date, e.g. ``Window(90, "d")``."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def start(self, as_of: date) -> date:
        """The first day inside the window (inclusive).

        Example:
            >>> Window(7, "d").start(date(2024, 3, 31))
            datetime.date(2024, 3, 25)
            >>> Window(1, "m").start(date(2024, 3, 31))
            datetime.date(2024, 3, 1)
        """
        return _window_start(self, as_of)

    def start_at(self, as_of: date) -> datetime:
        """Midnight of :meth:`start`: rows stamped at or after it are inside."""
        return datetime.combine(self.start(as_of), datetime.min.time())


@lru_cache(maxsize=4096)
def _window_start(window: Window, as_of: date) -> date:
    if window.unit == "d":
        return as_of - timedelta(days=window.amount - 1)
    if window.unit == "w":
        return as_of - timedelta(days=7 * window.amount - 1)
    months = window.amount * (12 if window.unit == "y" else 1)
    return add_months(as_of, -months) + timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of shorter months.

    Example:
        >>> add_months(date(2024, 1, 31), 1)
        datetime.date(2024, 2, 29)
        >>> add_months(date(2024, 3, 15), -14)
        datetime.date(2023, 1, 15)
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def end_of_day(as_of: date) -> datetime:
    """The exclusive end of the as-of day: nothing stamped at or after it is read."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time())


def parse_window(text: str) -> Window:
    """``"90d"`` → ``Window(90, "d")``; raises ``ValueError`` with a message a user can act on.

    Example:
        >>> parse_window("90d")
        Window(amount=90, unit='d')
        >>> str(parse_window(" 2 W "))
        '2w'
        >>> parse_window("3q")
        Traceback (most recent call last):
            ...
        ValueError: unknown window unit `q` in "3q": use d (days), w (weeks), m (months), y (years)
    """
    m = _WINDOW.match(text)
    units = ", ".join(f"{u} ({name})" for u, (name, _) in WINDOW_UNITS.items())
    if not m:
        raise ValueError(f'window "{text}" is not a number followed by a unit, e.g. "30d"; units: {units}')
    amount, unit = int(m.group(1)), m.group(2).lower()
    if unit not in WINDOW_UNITS:
        raise ValueError(f'unknown window unit `{m.group(2)}` in "{text}": use {units}')
    name, limit = WINDOW_UNITS[unit]
    if not 1 <= amount <= limit:
        raise ValueError(f'window "{text}" must be between 1 and {limit} {name}')
    return Window(amount, unit)


@dataclass(frozen=True)
class Parameter:
    """One argument a function accepts.

    Attributes:
        name: keyword name (``category``); positional arguments map to names too.
        kind: ``strings`` (a string or a list of strings), ``string``, ``window``, ``count`` (a
            whole number from 1), ``condition``
            (a ``where`` condition over event properties, in quotes) or ``value`` (any value
            of the rule: a trait, a property, a call).
        column: for filters, the column of the source table it compares with.
        doc: one line for the docs.
    """

    name: str
    kind: str
    column: str | None
    doc: str


@dataclass(frozen=True)
class Function:
    """A function of the segment language.

    Attributes:
        name: as written in rules.
        returns: ``number``, ``boolean``, ``string`` or ``value`` (``first_of``/``last_of``: the
            type the rule reads the property as).
        source: the table it aggregates (``events``, ``orders``, ``affinities``) or ``None``.
        positional: parameter names that may be given without a keyword, in order.
        required: parameters that must be given.
        params: every accepted parameter.
        doc: what it means, for the docs.
        example: a rule using it.
    """

    name: str
    returns: str
    source: str | None
    positional: tuple[str, ...]
    required: tuple[str, ...]
    params: tuple[Parameter, ...]
    doc: str
    example: str

    def param(self, name: str) -> Parameter | None:
        return next((p for p in self.params if p.name == name), None)


_WITHIN = Parameter(
    "within", "window", None, 'Only the last N days/weeks/months/years: "7d", "12w", "6m", "1y".'
)
_ORDER_FILTERS = (
    Parameter("category", "strings", "category", 'Order line category, e.g. "shoes".'),
    Parameter("channel", "strings", "channel", "Purchase channel: web, app, store, phone, marketplace."),
    Parameter("product", "strings", "product_id", "Product id."),
    Parameter("store", "strings", "store_id", "Store id."),
    _WITHIN,
)
_WHERE = Parameter(
    "where",
    "condition",
    None,
    "A condition on the event's properties, in quotes, in the rule language: "
    "'coupon == \"XMAS\" and revenue > 100'; nested keys with dots (context.campaign.source).",
)
_EVENT_FILTERS = (
    Parameter("type", "strings", "type", 'Event type, e.g. "add_to_cart" (first argument).'),
    Parameter("category", "strings", "category", "Event category."),
    Parameter("channel", "strings", "channel", 'Event channel, e.g. "web", "email".'),
    Parameter("product", "strings", "product_id", "Product id."),
    _WHERE,
    _WITHIN,
)
_PROPERTY = Parameter(
    "property",
    "string",
    None,
    'The event property, e.g. "revenue" or "context.campaign.source" (second argument).',
)
#: ``sum_of`` … : the measure of :class:`personae.segments.expr.Aggregate` each computes, what it
#: returns, and what it means.
PROPERTY_AGGREGATES: dict[str, tuple[str, str, str, str]] = {
    "sum_of": (
        "sum",
        "number",
        "Sum of the numeric property over the matching events; 0 when none.",
        'sum_of("order_completed", "revenue", within="90d") > 500',
    ),
    "avg_of": (
        "avg",
        "number",
        "Average of the numeric property over the matching events that have it; unknown when none.",
        'avg_of("order_completed", "revenue") >= 80',
    ),
    "min_of": (
        "min",
        "number",
        "Smallest value of the numeric property; unknown when none.",
        'min_of("order_completed", "revenue", within="1y") < 10',
    ),
    "max_of": (
        "max",
        "number",
        "Largest value of the numeric property; unknown when none.",
        'max_of("checkout_started", "items") >= 5',
    ),
    "count_distinct_of": (
        "count_distinct",
        "number",
        "Number of different values (strings and numbers) of the property; 0 when none.",
        'count_distinct_of("search", "query", within="30d") >= 3',
    ),
    "first_of": (
        "first",
        "value",
        "The property's value on the earliest matching event that has it "
        "(ties: the smallest value); unknown when none.",
        'first_of("signed_up", "plan") == "free"',
    ),
    "last_of": (
        "last",
        "value",
        "The property's value on the latest matching event that has it "
        "(ties: the largest value); unknown when none.",
        'last_of("signed_up", "plan") == "pro"',
    ),
}
#: Sequences and rhythms over one customer's history of an event, written as event counts by the
#: checker (so every evaluator computes them the same way): ``first_time`` …
SEQUENCE_TESTS = ("first_time", "regularly", "stopped", "returned")
#: Window units ``did(…, then=…, within=…)`` accepts for the time between the two events: a
#: fixed length (a month is not), so "B at most W after A" means the same on every engine.
GAP_UNITS = ("d", "w")
#: The most periods ``regularly(…, of=N)`` may look back over (the rule grows with N choose k).
MAX_PERIODS = 8
#: Text tests: ``starts_with(x, "94")`` …
TEXT_TESTS = ("starts_with", "ends_with", "contains", "matches")

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "events",
            "number",
            "events",
            ("type",),
            (),
            _EVENT_FILTERS,
            "Number of events matching every filter (all events when no filter is given); "
            "``where`` keeps only events whose properties meet the condition.",
            'events("order_completed", where=\'coupon == "XMAS" and revenue > 100\', within="30d") >= 1',
        ),
        Function(
            "orders",
            "number",
            "orders",
            (),
            (),
            _ORDER_FILTERS,
            "Number of distinct orders with at least one line matching every filter "
            "(returned lines count: the order was placed; a return line — negative quantity or "
            "amount — is no order).",
            'orders(channel="web", within="365d") >= 1',
        ),
        Function(
            "spend",
            "number",
            "orders",
            (),
            (),
            _ORDER_FILTERS,
            "Net spend (refunded lines count 0, return lines their negative value) of the order "
            "lines matching every filter; 0 when none.",
            'spend(category="shoes", within="90d") > 100',
        ),
        Function(
            "affinity",
            "number",
            "affinities",
            ("value",),
            ("value",),
            (
                Parameter(
                    "value",
                    "string",
                    None,
                    'An affinity value ("team:Lakers", "shoes") or kind:value ("category:shoes", '
                    '"price_band:premium", "channel:app", "daypart:evening").',
                ),
            ),
            "Strength (0–1) of the customer's strongest affinity with that value (any kind, or the kind "
            "given as a category:/brand:/tag: prefix); 0 when the customer has none.",
            'affinity("team:Lakers") >= 0.5',
        ),
        Function(
            "consent",
            "boolean",
            None,
            ("purpose",),
            ("purpose",),
            (Parameter("purpose", "string", None, "One of " + ", ".join(CONSENT_PURPOSES) + "."),),
            "The customer's latest consent decision for the purpose (no record = no). Never unknown.",
            'consent("email")',
        ),
        Function(
            "in_segment",
            "boolean",
            None,
            ("name",),
            ("name",),
            (Parameter("name", "string", None, "A defined or built-in segment name."),),
            "Whether the customer is a member of another segment (evaluated first; cycles are refused). "
            "Never unknown.",
            'in_segment("Champions") and not in_segment("staff")',
        ),
        *(
            Function(
                name,
                returns,
                "events",
                ("type", "property"),
                ("property",),
                (*_EVENT_FILTERS[:1], _PROPERTY, *_EVENT_FILTERS[1:]),
                doc,
                example,
            )
            for name, (_, returns, doc, example) in PROPERTY_AGGREGATES.items()
        ),
        *(
            Function(
                name,
                "boolean",
                None,
                ("text", "pattern"),
                ("text", "pattern"),
                (
                    Parameter(
                        "text", "value", None, "A text: a trait, an event property, lower(…), last_of(…)."
                    ),
                    Parameter("pattern", "string", None, doc),
                ),
                f"Whether the text {verb}; unknown when the text is.",
                example,
            )
            for name, verb, doc, example in (
                (
                    "starts_with",
                    "begins with the string",
                    'The beginning, e.g. "94".',
                    'starts_with(postcode, "94")',
                ),
                (
                    "ends_with",
                    "ends with the string",
                    'The end, e.g. "@acme.com".',
                    'ends_with(lower(email), "@acme.com")',
                ),
                (
                    "contains",
                    "holds the string anywhere",
                    "The string looked for.",
                    'contains(lower(city), "york")',
                ),
                (
                    "matches",
                    'matches the pattern somewhere (see "Patterns" in docs/segments.md)',
                    'A pattern of the safe dialect, e.g. "^94[0-9]{3}$".',
                    'matches(postcode, "^9[0-4][0-9]{3}$")',
                ),
            )
        ),
        Function(
            "first_time",
            "boolean",
            "events",
            ("type",),
            ("type", "within"),
            (*_EVENT_FILTERS[:-1], _WITHIN),
            "Whether the customer's first-ever matching event falls in the window: at least one "
            "inside it and none before it. Never unknown.",
            'first_time("order_completed", within="7d")',
        ),
        Function(
            "regularly",
            "boolean",
            "events",
            ("type",),
            ("type", "periods", "of", "period"),
            (
                *_EVENT_FILTERS[:-1],
                Parameter("periods", "count", None, "How many periods must have an event, e.g. 4."),
                Parameter(
                    "of",
                    "count",
                    None,
                    f"Out of how many whole periods back from the as-of date (at most {MAX_PERIODS}).",
                ),
                Parameter(
                    "period",
                    "window",
                    None,
                    'The length of one period, e.g. "1w": the last one ends on the as-of date.',
                ),
            ),
            "Whether at least ``periods`` of the last ``of`` whole periods (consecutive spans of "
            "``period``, the latest ending on the as-of day) each hold a matching event. Never unknown.",
            'regularly("app_open", periods=4, of=6, period="1w")',
        ),
        Function(
            "stopped",
            "boolean",
            "events",
            ("type",),
            ("type", "after"),
            (
                *_EVENT_FILTERS[:-1],
                Parameter(
                    "after",
                    "window",
                    None,
                    'The quiet span ending on the as-of date, e.g. "30d": no matching event in it.',
                ),
            ),
            "Whether the customer did it before but not in the last span: at least one matching "
            "event up to the as-of date and none in the ``after`` window. Never unknown.",
            'stopped("app_open", after="30d")',
        ),
        Function(
            "returned",
            "boolean",
            "events",
            ("type",),
            ("type", "after", "within"),
            (
                *_EVENT_FILTERS[:-1],
                Parameter(
                    "after",
                    "window",
                    None,
                    'The break: how long before the ``within`` window nothing happened, e.g. "30d".',
                ),
                Parameter(
                    "within",
                    "window",
                    None,
                    'The return: the span ending on the as-of date that holds an event, e.g. "7d".',
                ),
            ),
            "Whether the customer came back after a break: at least one matching event in the "
            "``within`` window, none in the ``after`` span just before it, and at least one before "
            "that. Never unknown.",
            'returned("order_completed", after="30d", within="7d")',
        ),
        Function(
            "did",
            "boolean",
            "events",
            ("type",),
            ("type", "then", "within"),
            (
                *_EVENT_FILTERS[:-1],
                Parameter(
                    "then",
                    "strings",
                    "type",
                    'The type of the event that must follow, e.g. "add_to_cart".',
                ),
                Parameter(
                    "then_where",
                    "condition",
                    None,
                    "A condition on the properties of the following event, as ``where`` is on the first.",
                ),
                Parameter(
                    "within",
                    "window",
                    None,
                    'How soon after the first event the following one comes, in days or weeks: "1d", "2w".',
                ),
                Parameter(
                    "since",
                    "window",
                    None,
                    'Only first events of the last N days/weeks/months/years: "30d" (default: all).',
                ),
            ),
            "Whether a matching event was followed by a ``then`` event strictly later and at most "
            "``within`` after it (``since`` bounds the first event). Never unknown.",
            'did("product_view", then="add_to_cart", within="1d", since="30d")',
        ),
        Function(
            "lower",
            "string",
            None,
            ("text",),
            ("text",),
            (Parameter("text", "value", None, "A text value."),),
            "The text in lower case (unknown stays unknown): compare case-insensitively.",
            'lower(city) == "paris"',
        ),
        Function(
            "distance_km",
            "number",
            None,
            ("store",),
            ("store",),
            (Parameter("store", "string", None, 'A store id of the stores table, e.g. "S1".'),),
            "Great-circle distance in km from the customer's place (their coordinates, else their "
            "postcode's centroid) to the store's; unknown when either place is.",
            'distance_km("S1") <= 10',
        ),
    )
}

#: Kinds an ``affinity("kind:value")`` prefix may name (rows of the ``affinities`` table):
#: category, brand, tag, price_band, channel, daypart — one list, kept by the traits.
AFFINITY_KINDS = TRAIT_AFFINITY_KINDS


def split_affinity(value: str) -> tuple[str | None, str]:
    """Split an affinity's ``kind:`` prefix off its value, if the kind is a known one.

    Example:
        >>> split_affinity("category:shoes")
        ('category', 'shoes')
        >>> split_affinity("team:Lakers")
        (None, 'team:Lakers')
    """
    kind, sep, rest = value.partition(":")
    if sep and kind in AFFINITY_KINDS and rest:
        return kind, rest
    return None, value
