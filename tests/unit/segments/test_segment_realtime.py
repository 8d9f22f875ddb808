"""The real-time evaluator on hand-made customer states: meaning, missing values, speed."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from personae.app.segments.library import load_templates
from personae.errors import RuleError
from personae.segments.builtin import builtin_segments
from personae.segments.check import check_rule
from personae.segments.definitions import check_definitions
from personae.segments.realtime import CustomerState, ProfileEvaluator, plain, timestamp

AS_OF = date(2025, 6, 30)
EMPTY = ProfileEvaluator({})


def at(days_ago: int, hour: int = 12) -> datetime:
    return datetime(2025, 6, 30, hour) - timedelta(days=days_ago)


def result(rule: str, state: CustomerState, segments: set[str] | None = None) -> bool | None:
    return EMPTY.evaluate(check_rule(rule, segments=segments or set()), state, AS_OF)


ANN = CustomerState.of(
    "ANN",
    {
        "recency_days": 5,
        "frequency": 4,
        "region": "North",
        "age": 30,
        "interests": ["outdoor", "fitness"],
        "days_until_birthday": 10,
        "consent_email": True,
        "value_tier": "top10",
        "p_alive": 0.4,
        "days_since_first_order": 300,
        "cart_abandoned": None,
        "first_order_at": "2024-09-03T10:00:00",
    },
    events=[
        {"type": "add_to_cart", "occurred_at": at(2), "category": "shoes"},
        {"type": "product_view", "occurred_at": at(3), "category": "shoes"},
        {"type": "product_view", "occurred_at": at(13), "category": "shoes"},
        {"type": "product_view", "occurred_at": at(14), "category": "shoes"},  # 15 days: outside 14d
        {"type": "product_view", "occurred_at": at(-1), "category": "shoes"},  # after the as-of day
    ],
    orders=[
        {"order_id": "O1", "ordered_at": at(100), "channel": "web", "category": "shoes", "amount": 60.0},
        {"order_id": "O1", "ordered_at": at(100), "channel": "web", "category": "socks", "amount": 5.0},
        {
            "order_id": "O2",
            "ordered_at": at(20),
            "channel": "web",
            "category": "shoes",
            "amount": 80.0,
            "returned": True,
        },
        {"order_id": None, "ordered_at": at(40, 9), "channel": "web", "category": "shoes", "amount": 30.0},
        {"order_id": None, "ordered_at": at(40, 17), "channel": "web", "category": "hats", "amount": 10.0},
    ],
    affinities=[
        {"kind": "tag", "value": "team:Lakers", "strength": 0.6},
        {"kind": "category", "value": "shoes", "strength": 0.8},
        {"kind": "brand", "value": "shoes", "strength": 0.3},
    ],
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("recency_days <= 30 and frequency >= 3", True),
        ('events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0', True),
        ('events("product_view", category="shoes", within="14d") >= 2', True),
        ('events("product_view", category="shoes", within="14d") >= 3', False),  # one too old, one too late
        ('events("product_view") == 3', True),
        ('orders(category="shoes", within="14d") == 0', True),
        ('region in ["North", "South"] and age between 25 and 34', True),
        ('"outdoor" in interests', True),
        ('interests in ["cooking", "fitness"]', True),
        ('orders(channel="web", within="365d") == 3', True),  # O1, O2 and one day without order id
        ('orders(channel="store", within="365d") == 0', True),
        ('orders() == 3 and orders(within="30d") == 1', True),
        ('days_until_birthday <= 14 and consent("email")', True),
        ('consent("sms")', False),
        ('affinity("team:Lakers") >= 0.5', True),
        ('affinity("shoes") == 0.8 and affinity("brand:shoes") == 0.3', True),
        ('affinity("team:Celtics") == 0', True),
        ('value_tier == "top10" and p_alive < 0.5', True),
        ('spend(category="shoes", within="90d") == 30', True),  # the returned pair of shoes counts 0
        ("spend() == 105", True),
        ('first_order_at < "2024-09-04" and first_order_at >= "2024-09-03"', True),
        # a timestamp compared with a date is compared by its day (first order: 3 Sep, 10:00)
        ('first_order_at == "2024-09-03"', True),
        ('first_order_at <= "2024-09-03"', True),
        ('first_order_at > "2024-09-03"', False),
        ('first_order_at != "2024-09-03"', False),
        ('first_order_at between "2024-09-01" and "2024-09-03"', True),
        ('first_order_at not between "2024-09-01" and "2024-09-03"', False),
        ('orders(category=["hats", "socks"]) == 2', True),
    ],
)
def test_rules_on_one_customer(rule: str, expected: bool) -> None:
    assert result(rule, ANN) is expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("age < 30", None),
        ("not (age < 30)", None),
        ("age < 30 or frequency > 1", True),
        ("age < 30 and frequency > 1", None),
        ("age < 30 and frequency > 9", False),
        ("age is null", True),
        ("age is not null", False),
        ("age between 1 and 99", None),
        ('region in ["North"]', None),
        ('region not in ["North"]', None),
        ('"x" in interests', None),
        ("cart_abandoned", None),
        ("not cart_abandoned", None),
        ("not cart_abandoned or cart_abandoned is null", True),
        ('consent("email")', False),  # no record = no, never unknown
        ('events("add_to_cart") == 0', True),
        ('affinity("x") == 0', True),
    ],
)
def test_missing_values_follow_three_valued_logic(rule: str, expected: bool | None) -> None:
    nobody = CustomerState.of("X", {"frequency": 2, "age": None, "region": float("nan"), "interests": None})
    assert result(rule, nobody) is expected


def test_membership_and_segment_references() -> None:
    defs = {**builtin_segments(), **{t.name: t for t in load_templates()}}
    checked, _ = check_definitions(defs)
    evaluator = ProfileEvaluator(checked)
    state = CustomerState.of(
        "C1",
        {**ANN.traits, "rfm_segment": "Champions", "customer_id": "C1"},
        events=ANN.events,
        orders=ANN.orders,
        affinities=ANN.affinities,
    )
    members = evaluator.members(state, AS_OF)
    assert "Champions" in members and "Champions not staff" in members and "staff" not in members
    assert "Cart abandoners" in members and "Lakers fans" in members and "High value at risk" in members
    staff = CustomerState.of("STAFF-0001", {"rfm_segment": "Champions", "customer_id": "STAFF-0001"})
    assert evaluator.is_member("staff", staff, AS_OF)
    assert not evaluator.is_member("Champions not staff", staff, AS_OF)


def test_unknown_segments_come_from_the_state() -> None:
    rule = check_rule('in_segment("external")', segments={"external"})
    evaluator = ProfileEvaluator({"uses external": rule})
    assert evaluator.members(CustomerState.of("C", {}, segments=["external"]), AS_OF) == ["uses external"]
    assert evaluator.members(CustomerState.of("C", {}), AS_OF) == []


def test_cycles_are_refused() -> None:
    a = check_rule('in_segment("b")', segments={"b"})
    b = check_rule('in_segment("a")', segments={"a"})
    with pytest.raises(RuleError, match="cycle"):
        ProfileEvaluator({"a": a, "b": b})


def test_events_arriving_change_membership() -> None:
    rule = check_rule('events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0')
    evaluator = ProfileEvaluator({"cart": rule})
    state = CustomerState.of("C", {})
    assert evaluator.members(state, AS_OF) == []
    state = state.with_event({"type": "add_to_cart", "occurred_at": "2025-06-29T10:00:00+02:00"})
    assert evaluator.members(state, AS_OF) == ["cart"]
    state = state.with_order_lines([{"order_id": "O9", "ordered_at": "2025-06-30T08:00:00Z", "amount": 5}])
    assert evaluator.members(state, AS_OF) == []


def test_state_normalisation() -> None:
    assert timestamp("2025-06-29T10:00:00+02:00") == datetime(2025, 6, 29, 8)
    assert timestamp(datetime(2025, 6, 29, 10, tzinfo=timezone(timedelta(hours=-1)))) == datetime(
        2025, 6, 29, 11
    )
    assert timestamp(date(2025, 1, 2)) == datetime(2025, 1, 2)
    assert timestamp(None) is None
    assert plain(float("nan")) is None and plain(["a", "b"]) == ("a", "b")
    np = pytest.importorskip("numpy")
    assert plain(np.int64(3)) == 3 and plain(np.array(["a"])) == ("a",) and plain(np.bool_(True)) is True
    assert math.isclose(plain(np.float64(0.5)), 0.5)
    pd = pytest.importorskip("pandas")
    assert plain(pd.NA) is None and plain(pd.NaT) is None
    state = CustomerState.of(
        "C", events=[{"type": "x", "occurred_at": pd.Timestamp("2025-01-01", tz="UTC"), "product_id": 7}]
    )
    assert state.events[0]["occurred_at"] == datetime(2025, 1, 1) and state.events[0]["product_id"] == "7"
    assert datetime.now(UTC)  # (UTC import used)


def test_all_templates_and_builtins_evaluate_for_one_customer() -> None:
    """Every shipped rule runs in real time, repeatably (speed: benchmarks/bench_segments.py)."""
    checked, _ = check_definitions({**builtin_segments(), **{t.name: t for t in load_templates()}})
    evaluator = ProfileEvaluator(checked)
    events = [
        {"type": t, "occurred_at": at(i % 60), "category": "shoes", "channel": "web"}
        for i, t in enumerate(["product_view", "add_to_cart", "email_open", "page_view"] * 50)
    ]
    orders = [
        {"order_id": f"O{i}", "ordered_at": at(i * 9), "channel": "web", "category": "shoes", "amount": 20}
        for i in range(30)
    ]
    state = CustomerState.of(
        "C",
        {**ANN.traits, "rfm_segment": "Champions"},
        events=events,
        orders=orders,
        affinities=ANN.affinities,
    )
    first = evaluator.members(state, AS_OF)
    assert {"Champions", "Recent repeat buyers", "Outdoor enthusiasts", "Lakers fans"} <= set(first)
    assert "Cart abandoners" not in first  # orders in the last 7 days
    assert evaluator.members(state, AS_OF) == first  # no state leaks between evaluations


def test_static_segment_results_are_remembered_by_content_and_never_go_stale() -> None:
    """Segments that read no events/orders are remembered by the traits/affinities/segments they
    read (and the day): the memo must give exactly what a fresh evaluation gives, for any state."""
    library: dict = {}
    for name, text in {
        "emailable": 'consent("email")',
        "north": 'region == "North"',
        "north emailable": 'in_segment("north") and in_segment("emailable")',
        "outdoor": 'affinity("outdoor") > 0.5',
        "carts": 'events("add_to_cart", within="7d") >= 1',
        "north carts": 'in_segment("north") and in_segment("carts")',
        "external": 'in_segment("vip")',
    }.items():
        library[name] = check_rule(text, segments={*library, "vip"})
    evaluator = ProfileEvaluator(library)
    assert evaluator.static == {"emailable", "north", "north emailable", "outdoor", "external"}
    evaluator.STATIC_MEMO_SIZE = 5  # starts over while the states below are evaluated
    cart = [{"type": "add_to_cart", "occurred_at": at(1)}]
    states = [
        CustomerState.of("A", {"consent_email": True, "region": "North"}),
        CustomerState.of("B", {"consent_email": 1, "region": "North"}),  # 1 == True, but no consent
        CustomerState.of("C", {"consent_email": True, "region": "South"}, events=cart),
        CustomerState.of("D", {"region": "North"}, events=cart),
        CustomerState.of("E", {}, affinities=[{"kind": "category", "value": "outdoor", "strength": 0.9}]),
        CustomerState.of("F", {}, affinities=[{"kind": "category", "value": "outdoor", "strength": 0.1}]),
        CustomerState.of("G", {}, segments=["vip"]),
        CustomerState.of("H", {}),
        CustomerState.of("I", {"region": ["North"]}),  # a list trait: hashable once normalised
    ]
    for _ in range(2):  # the second round reads the memo
        for state in states:
            for day in (AS_OF, AS_OF + timedelta(days=30)):
                expected = [n for n in evaluator.names if ProfileEvaluator(library).is_member(n, state, day)]
                assert evaluator.members(state, day) == expected, state.customer_id
    assert evaluator.members(states[0], AS_OF) == ["emailable", "north", "north emailable"]
    assert evaluator.members(states[1], AS_OF) == ["north"]
    assert evaluator.members(states[3], AS_OF) == ["north", "carts", "north carts"]
    assert evaluator.members(states[3], AS_OF + timedelta(days=30)) == ["north"]
    assert len(evaluator._memo) <= 5


@pytest.mark.parametrize("n", [3, CustomerState.INDEX_FROM - 1, CustomerState.INDEX_FROM, 100])
def test_events_of_a_type_scanned_or_indexed_alike(n: int) -> None:
    """Small states are scanned, big ones indexed by type once: both give the rows in order."""
    kinds = ["add_to_cart", "product_view", "add_to_cart", "email_open"]
    state = CustomerState.of("C", events=[{"type": kinds[i % 4], "occurred_at": at(i % 9)} for i in range(n)])
    for kind in (*kinds, "nothing"):
        assert list(state.events_of_type(kind)) == [e for e in state.events if e["type"] == kind]
        assert list(state.events_of_type(kind)) == [e for e in state.events if e["type"] == kind]  # cached
