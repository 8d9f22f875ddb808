"""Property: batch (Ibis on DuckDB) and real time (pure Python) choose the same members.

Random rules (numeric, string, list and boolean traits; events/orders/spend with random
filters and windows; affinity; consent; and/or/not, between, in, null checks; references to
earlier rules; ``where`` conditions on event properties, ``sum_of`` … ``last_of``, text tests
and patterns; ``first_time``, ``stopped``, ``regularly``, ``did``, ``returned``; ``distance_km``
to located, unplaced and unknown stores) are evaluated over random customer histories — with
missing values, NaN, events after the as-of date, rows exactly on window boundaries, and events
whose random nested properties hold values of every JSON type (or none) — by both evaluators. A
second property runs only the sequence tests over longer histories, where ``did``'s pairs and
``returned``'s breaks are common.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personae.segments.batch import BatchSources, compile_segments
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from segment_events import EVENTS_SCHEMA

AS_OF = date(2025, 6, 30)
MIDNIGHT = datetime(2025, 6, 30)

NUMBERS = ["recency_days", "frequency", "monetary", "age", "p_alive"]
STRINGS = {
    "region": ["North", "South", "East"],
    "gender": ["female", "male"],
    "rfm_segment": ["Champions", "Lost", "At Risk"],
}
TAGS = ["outdoor", "fitness", "cooking"]
EVENT_TYPES = ["add_to_cart", "product_view", "email_open"]
CATEGORIES = ["shoes", "home", "toys"]
CHANNELS = ["web", "app", "store"]
WINDOWS = ["1d", "7d", "14d", "30d", "12w", "6m", "1y"]
AFFINITY_VALUES = ["team:Lakers", "shoes", "eco"]
#: Stores with a place (Paris, London); "S9" has none, so distance_km("S9") is unknown.
STORES = {"S1": (48.8566, 2.3522), "S2": (51.5074, -0.1278)}

TRAITS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("recency_days", pa.int64()),
        ("frequency", pa.int64()),
        ("monetary", pa.float64()),
        ("age", pa.int64()),
        ("p_alive", pa.float64()),
        ("region", pa.string()),
        ("gender", pa.string()),
        ("rfm_segment", pa.string()),
        ("interests", pa.list_(pa.string())),
        ("cart_abandoned", pa.bool_()),
        ("consent_email", pa.bool_()),
        ("location_latitude", pa.float64()),
        ("location_longitude", pa.float64()),
    ]
)
ORDERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("order_id", pa.string()),
        ("ordered_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("store_id", pa.string()),
        ("product_id", pa.string()),
        ("category", pa.string()),
        ("amount", pa.float64()),
        ("returned", pa.bool_()),
    ]
)
AFFINITY_SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("strength", pa.float64())]
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


quarters = st.integers(0, 800).map(lambda n: n / 4)  # exact in binary: sums agree exactly
moments = st.builds(
    lambda d, h: MIDNIGHT + timedelta(days=-d, hours=h), st.integers(-2, 400), st.sampled_from([0, 12, 23])
)


#: Property values: every JSON type, strings that look like numbers or other case, nesting.
TEXTS = ["XMAS", "xmas10", "XMAS-24", "SUMMER", "pro", "Pro", "free", "42", "", "Éclair", "a.b"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    quarters,
    st.sampled_from(TEXTS),
)
json_values = st.one_of(json_scalars, st.lists(json_scalars, max_size=2))
PROPERTY_KEYS = ["revenue", "coupon", "plan", "is_first", "items"]


@st.composite
def event_properties(draw: st.DrawFn) -> str | None:
    """A JSON object text: known keys with values of any type, sometimes nested context."""
    if draw(st.integers(0, 9)) == 0:
        return None
    props: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(PROPERTY_KEYS), unique=True, max_size=5)):
        props[key] = draw(json_values)
    if draw(st.booleans()):
        source = draw(st.one_of(json_scalars, st.sampled_from(["newsletter", "ads"])))
        props["context"] = draw(st.sampled_from([{"campaign": {"source": source}}, {"campaign": source}]))
    return json.dumps(props)


@st.composite
def customer(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    traits = {
        "customer_id": cid,
        "recency_days": draw(maybe(st.integers(0, 400))),
        "frequency": draw(maybe(st.integers(0, 10))),
        "monetary": draw(maybe(quarters)),
        "age": draw(maybe(st.integers(18, 80))),
        "p_alive": draw(
            st.one_of(st.none(), st.just(float("nan")), st.integers(0, 20).map(lambda n: n / 20))
        ),
        "region": draw(maybe(st.sampled_from(STRINGS["region"]))),
        "gender": draw(maybe(st.sampled_from(STRINGS["gender"]))),
        "rfm_segment": draw(maybe(st.sampled_from(STRINGS["rfm_segment"]))),
        "interests": draw(maybe(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))),
        "cart_abandoned": draw(maybe(st.booleans())),
        "consent_email": draw(maybe(st.booleans())),
        # a place near the stores or far away, unknown, half-known or NaN
        "location_latitude": draw(
            st.one_of(st.none(), st.just(float("nan")), st.integers(-800, 800).map(lambda n: n / 10))
        ),
        "location_longitude": draw(maybe(st.integers(-1800, 1800).map(lambda n: n / 10))),
    }
    events = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "customer_id": st.just(cid),
                    "occurred_at": moments,
                    "type": st.sampled_from(EVENT_TYPES),
                    "category": maybe(st.sampled_from(CATEGORIES)),
                    "channel": maybe(st.sampled_from(CHANNELS)),
                    "product_id": maybe(st.sampled_from(["P1", "P2"])),
                    "properties": event_properties(),
                }
            ),
            max_size=6,
        )
    )
    orders = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "customer_id": st.just(cid),
                    "order_id": maybe(st.sampled_from(["O1", "O2", "O3"])),
                    "ordered_at": moments,
                    "channel": maybe(st.sampled_from(CHANNELS)),
                    "store_id": maybe(st.sampled_from(["S1", "S2"])),
                    "product_id": maybe(st.sampled_from(["P1", "P2"])),
                    "category": maybe(st.sampled_from(CATEGORIES)),
                    "amount": quarters,
                    "returned": maybe(st.booleans()),
                }
            ),
            max_size=6,
        )
    )
    affinities = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "customer_id": st.just(cid),
                    "kind": st.sampled_from(["category", "brand", "tag"]),
                    "value": st.sampled_from(AFFINITY_VALUES),
                    "strength": st.integers(0, 20).map(lambda n: n / 20),
                }
            ),
            max_size=3,
        )
    )
    return {"traits": traits, "events": events, "orders": orders, "affinities": affinities}


def q(value: str) -> str:
    return f'"{value}"'


def strings(options: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(options), min_size=1, max_size=2, unique=True).map(
        lambda vs: q(vs[0]) if len(vs) == 1 else "[" + ", ".join(map(q, vs)) + "]"
    )


def call(name: str) -> st.SearchStrategy[str]:
    filters: dict[str, st.SearchStrategy[str]] = {
        "category": strings(CATEGORIES),
        "channel": strings(CHANNELS),
    }
    if name == "events":
        filters["type"] = strings(EVENT_TYPES)
        filters["product"] = strings(["P1", "P2"])
    else:
        filters["store"] = strings(["S1", "S2"])
        filters["product"] = strings(["P1", "P2"])
    filters["within"] = st.sampled_from(WINDOWS).map(q)
    args = st.dictionaries(st.sampled_from(sorted(filters)), st.just(""), max_size=3).flatmap(
        lambda keys: st.tuples(*[filters[k].map(lambda v, k=k: f"{k}={v}") for k in keys])
    )
    return args.map(lambda parts: f"{name}({', '.join(parts)})")


OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
#: Text tests on a string (``{}`` is the text), with patterns of the dialect.
TEXT_TESTS = st.sampled_from(
    [
        'starts_with({}, "XM")',
        'starts_with(lower({}), "xm")',
        'ends_with({}, "o")',
        'contains({}, "MAS")',
        'contains(lower({}), "eclair")',
        'matches({}, "^X[A-Z]+[0-9]*$")',
        'matches({}, "[0-9]")',
        'matches({}, "^(pro|free)$")'.replace("(pro|free)", "pro$|^free"),
        'matches({}, "a.b|^$")',
        'matches(lower({}), "^.{{3}}$")',
        'lower({}) == "pro"',
    ]
)


def where_atoms() -> st.SearchStrategy[str]:
    """Conditions on one event's properties (written with double quotes: they go in '…')."""
    return st.one_of(
        st.builds("revenue {} {}".format, OPS, st.integers(0, 40).map(lambda n: n * 5)),
        st.builds("items {} {}".format, OPS, st.integers(0, 4)),
        st.builds(
            "{} {} {}".format,
            st.sampled_from(["coupon", "plan"]),
            st.sampled_from(["==", "!="]),
            st.sampled_from(TEXTS).map(q),
        ),
        st.builds(
            "plan {}in [{}]".format,
            st.sampled_from(["", "not "]),
            st.lists(st.sampled_from(TEXTS).map(q), min_size=1, max_size=2).map(", ".join),
        ),
        st.sampled_from(["coupon", "plan", "context.campaign.source"]).flatmap(
            lambda p: TEXT_TESTS.map(lambda t: t.format(p))
        ),
        st.sampled_from(["is_first", "is_first == false", "not is_first"]),
        st.builds(
            "{} is {}null".format,
            st.sampled_from([*PROPERTY_KEYS, "context.campaign"]),
            st.sampled_from(["", "not "]),
        ),
        st.builds('context.campaign.source == "{}"'.format, st.sampled_from(["newsletter", "ads"])),
        st.builds("revenue between {} and {}".format, st.integers(0, 50), st.integers(50, 200)),
    )


wheres = st.recursive(
    where_atoms(),
    lambda inner: st.one_of(
        st.builds("{} and {}".format, inner, inner),
        st.builds("{} or {}".format, inner, inner),
        inner.map(lambda r: f"not ({r})"),
    ),
    max_leaves=3,
)


def property_call(name: str, prop: str) -> st.SearchStrategy[str]:
    """``name(type?, "prop", where=…?, within=…?)``."""
    parts = st.tuples(
        st.one_of(st.just(""), strings(EVENT_TYPES).map(lambda v: v + ", ")),
        st.one_of(st.just(""), wheres.map(lambda w: f", where='{w}'")),
        st.one_of(st.just(""), st.sampled_from(WINDOWS).map(lambda w: f', within="{w}"')),
    )
    return parts.map(lambda p: f'{name}({p[0]}"{prop}"{p[1]}{p[2]})')


def property_atoms() -> list[st.SearchStrategy[str]]:
    numbers = st.one_of(
        st.integers(0, 40).map(lambda n: n * 5), st.integers(0, 40).map(lambda n: n * 5 + 0.5)
    )
    return [
        st.builds(
            "{} {} {}".format,
            st.builds(
                lambda c, w: c[:-1] + ("" if c.endswith("()") else ", ") + f"where='{w}')",
                call("events"),
                wheres,
            ),
            OPS,
            small,
        ),
        st.builds(
            "{} {} {}".format,
            st.sampled_from(["sum_of", "avg_of", "min_of", "max_of"]).flatmap(
                lambda f: st.sampled_from(["revenue", "items"]).flatmap(lambda p: property_call(f, p))
            ),
            OPS,
            numbers,
        ),
        st.builds(
            "{} is {}null".format,
            st.sampled_from(["avg_of", "min_of", "first_of", "last_of"]).flatmap(
                lambda f: property_call(f, "revenue")
            ),
            st.sampled_from(["", "not "]),
        ),
        st.builds(
            "{} {} {}".format,
            st.sampled_from(["coupon", "plan", "revenue"]).flatmap(
                lambda p: property_call("count_distinct_of", p)
            ),
            OPS,
            st.integers(0, 3),
        ),
        st.builds(
            "{} {} {}".format,
            st.sampled_from(["first_of", "last_of"]).flatmap(lambda f: property_call(f, "plan")),
            st.sampled_from(["==", "!="]),
            st.sampled_from(TEXTS).map(q),
        ),
        st.builds(
            "{} {} {}".format,
            st.sampled_from(["first_of", "last_of"]).flatmap(lambda f: property_call(f, "revenue")),
            OPS,
            numbers,
        ),
        st.sampled_from(["first_of", "last_of"]).flatmap(lambda f: property_call(f, "is_first")),
        st.builds(
            lambda f, t: t.format(f),
            st.sampled_from(["first_of", "last_of"]).flatmap(lambda f: property_call(f, "coupon")),
            TEXT_TESTS,
        ),
        st.builds(lambda f, t: t.format(f), st.sampled_from(list(STRINGS)), TEXT_TESTS),
    ]


small = st.one_of(st.integers(0, 4), st.integers(0, 8).map(lambda n: n / 2))


def sequence_filters() -> st.SearchStrategy[str]:
    """Optional extra filters of a sequence test: ``, channel=…`` and/or ``, where='…'``."""
    return st.tuples(
        st.one_of(st.just(""), strings(CHANNELS).map(lambda v: f", channel={v}")),
        st.one_of(st.just(""), wheres.map(lambda w: f", where='{w}'")),
    ).map("".join)


#: Periods of ``regularly``: days to months, short enough for random histories to fill.
PERIODS = ["1d", "3d", "1w", "2w", "1m"]
#: How soon after the first event ``did(…, then=…)`` wants the second: the hours of ``moments``
#: (0, 12, 23) put pairs both exactly on and just past these.
GAPS = ["1d", "2d", "1w", "3w"]


def sequence_atoms() -> list[st.SearchStrategy[str]]:
    """``first_time``, ``stopped``, ``regularly``, ``did``, ``returned`` with random types,
    filters and windows."""
    return [
        st.builds(
            'first_time({}{}, within="{}")'.format,
            strings(EVENT_TYPES),
            sequence_filters(),
            st.sampled_from(WINDOWS),
        ),
        st.builds(
            'stopped({}{}, after="{}")'.format,
            strings(EVENT_TYPES),
            sequence_filters(),
            st.sampled_from(WINDOWS),
        ),
        st.builds(
            'did({}{}, then={}{}, within="{}"{})'.format,
            strings(EVENT_TYPES),
            sequence_filters(),
            strings(EVENT_TYPES),
            st.one_of(st.just(""), wheres.map(lambda w: f", then_where='{w}'")),
            st.sampled_from(GAPS),
            st.one_of(st.just(""), st.sampled_from(WINDOWS).map(lambda w: f', since="{w}"')),
        ),
        st.builds(
            'returned({}{}, after="{}", within="{}")'.format,
            strings(EVENT_TYPES),
            sequence_filters(),
            st.sampled_from(["1d", "3d", "2w", "30d"]),
            st.sampled_from(["1d", "7d", "2w", "30d"]),
        ),
        st.builds(
            'returned({}{}, after="{}", within="{}")'.format,
            strings(EVENT_TYPES),
            sequence_filters(),
            st.sampled_from(["1m", "3m"]),
            st.sampled_from(["1m", "1y"]),
        ),
        st.integers(1, 4).flatmap(
            lambda n: st.builds(
                'regularly({}{}, periods={}, of={}, period="{}")'.format,
                strings(EVENT_TYPES),
                sequence_filters(),
                st.integers(1, n),
                st.just(n),
                st.sampled_from(PERIODS),
            )
        ),
    ]


def atoms(references: list[str]) -> st.SearchStrategy[str]:
    options = [
        st.builds(
            "{} {} {}".format,
            st.sampled_from(NUMBERS),
            OPS,
            st.one_of(st.integers(0, 100), st.integers(0, 40).map(lambda n: n / 4)),
        ),
        st.builds(
            "{} between {} and {}".format, st.sampled_from(NUMBERS), st.integers(0, 50), st.integers(0, 400)
        ),
        st.builds("{} in [{}, {}]".format, st.sampled_from(NUMBERS), st.integers(0, 10), st.integers(20, 60)),
        st.builds(
            "{} is {}null".format,
            st.sampled_from([*NUMBERS, *STRINGS, "interests", "cart_abandoned"]),
            st.sampled_from(["", "not "]),
        ),
        st.sampled_from(list(STRINGS)).flatmap(
            lambda f: st.builds(
                "{} {} {}".format,
                st.just(f),
                st.sampled_from(["==", "!="]),
                st.sampled_from(STRINGS[f]).map(q),
            )
        ),
        st.sampled_from(list(STRINGS)).flatmap(
            lambda f: st.builds(
                "{} {}in [{}]".format,
                st.just(f),
                st.sampled_from(["", "not "]),
                st.lists(st.sampled_from(STRINGS[f]).map(q), min_size=1, max_size=3).map(", ".join),
            )
        ),
        st.builds('"{}" {}in interests'.format, st.sampled_from(TAGS), st.sampled_from(["", "not "])),
        st.builds(
            "interests in [{}]".format,
            st.lists(st.sampled_from(TAGS).map(q), min_size=1, max_size=2).map(", ".join),
        ),
        st.sampled_from(
            [
                "cart_abandoned",
                "cart_abandoned == true",
                "cart_abandoned != false",
                'consent("email")',
                'consent("sms")',
            ]
        ),
        st.builds(
            'distance_km("{}") {} {}'.format,
            st.sampled_from(["S1", "S2", "S9"]),
            OPS,
            st.one_of(st.integers(0, 40).map(lambda n: n * 250), st.just(0)),
        ),
        st.builds(
            'distance_km("{}") is {}null'.format, st.sampled_from(["S1", "S9"]), st.sampled_from(["", "not "])
        ),
        st.builds("{} {} {}".format, call("events"), OPS, small),
        st.builds("{} {} {}".format, call("orders"), OPS, small),
        st.builds("{} {} {}".format, call("spend"), OPS, st.integers(0, 80).map(lambda n: n * 2.5)),
        st.builds(
            'affinity("{}{}") {} {}'.format,
            st.sampled_from(["", "tag:", "category:"]),
            st.sampled_from(AFFINITY_VALUES),
            OPS,
            st.integers(0, 20).map(lambda n: n / 20),
        ),
    ]
    options.extend(property_atoms())
    options.extend(sequence_atoms())
    if references:
        options.append(st.sampled_from(references).map(lambda r: f'in_segment("{r}")'))
    return st.one_of(*options)


def rules(references: list[str]) -> st.SearchStrategy[str]:
    return st.recursive(
        atoms(references),
        lambda inner: st.one_of(
            st.builds("{} and {}".format, inner, inner),
            st.builds("{} or {}".format, inner, inner),
            inner.map(lambda r: f"not ({r})"),
            inner.map(lambda r: f"({r})"),
        ),
        max_leaves=6,
    )


@st.composite
def rule_sets(draw: st.DrawFn) -> list[str]:
    texts: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        texts.append(draw(rules([f"r{j}" for j in range(i)])))
    return texts


def tables(customers: list[dict[str, Any]]) -> dict[str, pa.Table]:
    return {
        "traits": pa.Table.from_pylist([c["traits"] for c in customers], schema=TRAITS_SCHEMA),
        "events": pa.Table.from_pylist([e for c in customers for e in c["events"]], schema=EVENTS_SCHEMA),
        "orders": pa.Table.from_pylist([o for c in customers for o in c["orders"]], schema=ORDERS_SCHEMA),
        "affinities": pa.Table.from_pylist(
            [a for c in customers for a in c["affinities"]], schema=AFFINITY_SCHEMA
        ),
    }


CON = ibis.duckdb.connect()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=rule_sets(),
    customers=st.integers(1, 6).flatmap(lambda n: st.tuples(*[customer(f"C{i}") for i in range(n)])),
)
def test_batch_and_real_time_agree(texts: list[str], customers: tuple[dict[str, Any], ...]) -> None:
    assert_agree(texts, customers)


def dense_sequence_atoms() -> list[st.SearchStrategy[str]]:
    """``did`` and ``returned`` for :func:`dense_customer`: half without filters, and breaks
    short enough for 90 days of history to hold returns."""
    filters = st.one_of(st.just(""), sequence_filters())
    return [
        st.builds(
            'did({}{}, then={}{}, within="{}"{})'.format,
            st.sampled_from(EVENT_TYPES).map(q),
            filters,
            strings(EVENT_TYPES),
            st.one_of(st.just(""), st.just(""), wheres.map(lambda w: f", then_where='{w}'")),
            st.sampled_from(GAPS),
            st.one_of(st.just(""), st.sampled_from(WINDOWS).map(lambda w: f', since="{w}"')),
        ),
        st.builds(
            'returned({}{}, after="{}", within="{}")'.format,
            st.sampled_from(EVENT_TYPES).map(q),
            filters,
            st.sampled_from(["1d", "3d", "1w", "2w"]),
            st.sampled_from(["1d", "3d", "1w", "2w", "30d"]),
        ),
    ]


@st.composite
def dense_customer(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    """Up to 16 events in 90 days (hours 0, 12, 23: ties and exact gaps)."""
    near = st.builds(
        lambda d, h: MIDNIGHT + timedelta(days=-d, hours=h), st.integers(-1, 90), st.sampled_from([0, 12, 23])
    )
    events = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "customer_id": st.just(cid),
                    "occurred_at": near,
                    "type": st.sampled_from(EVENT_TYPES),
                    "category": st.none(),
                    "channel": maybe(st.sampled_from(CHANNELS[:2])),
                    "product_id": st.none(),
                    "properties": event_properties(),
                }
            ),
            min_size=3,
            max_size=16,
        )
    )
    return {"traits": {"customer_id": cid}, "events": events, "orders": [], "affinities": []}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(
        st.one_of(
            st.one_of(*dense_sequence_atoms()),
            st.one_of(*dense_sequence_atoms()).map(lambda r: f"not ({r})"),
            st.builds(
                "{} and {}".format, st.one_of(*dense_sequence_atoms()), st.one_of(*dense_sequence_atoms())
            ),
        ),
        min_size=1,
        max_size=3,
    ),
    customers=st.integers(1, 8).flatmap(lambda n: st.tuples(*[dense_customer(f"C{i}") for i in range(n)])),
)
def test_sequences_agree_on_dense_histories(texts: list[str], customers: tuple[dict[str, Any], ...]) -> None:
    """``did`` and ``returned`` (alone, negated, two together) on longer, denser histories."""
    assert_agree(texts, customers)


def assert_agree(texts: list[str], customers: tuple[dict[str, Any], ...]) -> dict[str, set[str]]:
    """Batch (DuckDB) and real-time members of each rule, asserted equal; the members by rule."""
    library = {}
    for i, text in enumerate(texts):
        library[f"r{i}"] = check_rule(text, segments=set(library))
    data = tables(list(customers))
    for name, table in data.items():
        CON.create_table(name, table, overwrite=True)
    sources = BatchSources(
        AS_OF,
        CON.table("traits"),
        CON.table("events"),
        CON.table("orders"),
        CON.table("affinities"),
        stores=STORES,
    )
    compiled = compile_segments(list(library), library, sources)
    batch = CON.to_pyarrow(compiled.table).to_pylist()
    batch_members = {
        name: {row["customer_id"] for row in batch if row[col]} for name, col in compiled.columns.items()
    }

    evaluator = ProfileEvaluator(library, STORES)
    real_members: dict[str, set[str]] = {name: set() for name in library}
    for c in customers:
        state = CustomerState.of(
            c["traits"]["customer_id"],
            c["traits"],
            events=c["events"],
            orders=c["orders"],
            affinities=c["affinities"],
        )
        for name in evaluator.members(state, AS_OF):
            real_members[name].add(state.customer_id)
    for name, text in zip(library, texts, strict=True):
        assert batch_members[name] == real_members[name], f"{name}: {text}"
    return batch_members


DAY_RULES = {
    'first_order_at == "2024-09-03"': {"T10", "T00"},
    'first_order_at <= "2024-09-03"': {"T10", "T00", "EARLY"},
    'first_order_at > "2024-09-03"': {"LATE"},
    'first_order_at < "2024-09-03"': {"EARLY"},
    'first_order_at >= "2024-09-03"': {"T10", "T00", "LATE"},
    'first_order_at != "2024-09-03"': {"EARLY", "LATE"},
    'first_order_at between "2024-09-01" and "2024-09-03"': {"T10", "T00", "EARLY"},
    'first_order_at not between "2024-09-03" and "2024-09-03"': {"EARLY", "LATE"},
    'birth_date == "1990-05-01"': {"T10"},
}


def test_timestamps_compare_with_dates_by_day_in_both_evaluators() -> None:
    """``first_order_at == "2024-09-03"`` is any time that day, not only midnight."""
    traits = pa.table(
        {
            "customer_id": ["T10", "T00", "EARLY", "LATE", "NONE"],
            "first_order_at": pa.array(
                [
                    datetime(2024, 9, 3, 10),
                    datetime(2024, 9, 3),
                    datetime(2024, 9, 2, 23, 59),
                    datetime(2024, 9, 4),
                    None,
                ],
                pa.timestamp("us"),
            ),
            "birth_date": pa.array([date(1990, 5, 1), None, None, None, None], pa.date32()),
        }
    )
    con = ibis.duckdb.connect()
    con.create_table("traits", traits)
    library = {f"r{i}": check_rule(rule) for i, rule in enumerate(DAY_RULES)}
    compiled = compile_segments(list(library), library, BatchSources(AS_OF, con.table("traits")))
    batch = con.to_pyarrow(compiled.table).to_pylist()
    evaluator = ProfileEvaluator(library)
    states = [CustomerState.of(row["customer_id"], row) for row in traits.to_pylist()]
    for (name, col), (rule, expected) in zip(compiled.columns.items(), DAY_RULES.items(), strict=True):
        assert {r["customer_id"] for r in batch if r[col]} == expected, f"batch: {rule}"
        real = {s.customer_id for s in states if evaluator.is_member(name, s, AS_OF)}
        assert real == expected, f"real time: {rule}"
