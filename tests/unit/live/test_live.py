"""The live state keeps, for an event or order line added by the service, exactly what it keeps
for rows loaded at start: the types the rules count and the columns they can read."""

from __future__ import annotations

from datetime import datetime

from personae.live.segments import EVENT_COLUMNS, ORDER_COLUMNS, LiveSegments
from personae.segments.check import check_rule

NOW = datetime(2026, 3, 2, 10, 0, 0)


def test_added_rows_keep_only_what_rules_can_read_and_membership_follows() -> None:
    live = LiveSegments(
        {
            "Cart abandoners": check_rule(
                'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0'
            )
        }
    )
    event = {
        "type": "add_to_cart",
        "occurred_at": NOW,
        "product_id": "P1",
        "properties": '{"big": "payload"}',
        "_row_key": "k",
        "anonymous_id": "d1",
    }
    live.add("anonymous_id:d1", [event, {**event, "type": "page_view"}])
    state = live.states["anonymous_id:d1"]
    assert [set(e) for e in state.events] == [set(EVENT_COLUMNS)]  # page_view is read by no rule
    assert state.events[0]["product_id"] == "P1" and state.events[0]["occurred_at"] == NOW
    changes = live.reevaluate("anonymous_id:d1", NOW, "m1")
    assert [(c.segment, c.change) for c in changes] == [("Cart abandoners", "entered")]
    line = {"order_id": "O1", "ordered_at": NOW, "amount": 5.0, "email": "a@b.c", "_row_hash": "h"}
    live.add("anonymous_id:d1", orders=[line])
    assert set(live.states["anonymous_id:d1"].orders[0]) >= set(ORDER_COLUMNS)
    assert "email" not in live.states["anonymous_id:d1"].orders[0]
    assert [(c.segment, c.change) for c in live.reevaluate("anonymous_id:d1", NOW, "m2")] == [
        ("Cart abandoners", "exited")
    ]
    live.add("anonymous_id:d1", [{**event, "type": "page_view"}])  # nothing kept: the state stays
    assert len(live.states["anonymous_id:d1"].events) == 1


def test_scheduled_refresh_reevaluates_only_when_the_day_moves_on(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Membership is a function of the state and the calendar day, and every state change
    re-evaluates its customer: a scheduled tick on an evaluated day has nothing to do (it used
    to re-evaluate everyone every minute, stalling the writer), the next day it must."""
    from datetime import timedelta

    live = LiveSegments(
        {
            "Cart abandoners": check_rule(
                'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0'
            )
        }
    )
    live.add("anonymous_id:d1", [{"type": "add_to_cart", "occurred_at": NOW}])
    assert [c.change for c in live.reevaluate("anonymous_id:d1", NOW, "m1")] == ["entered"]
    calls: list[str] = []
    original = live.reevaluate

    def counting(cid: str, now: datetime, cause: str):  # type: ignore[no-untyped-def]
        calls.append(cid)
        return original(cid, now, cause)

    monkeypatch.setattr(live, "reevaluate", counting)
    assert live.refresh(NOW, "schedule") == [] and calls == ["anonymous_id:d1"]  # first tick: everyone
    assert live.refresh(NOW + timedelta(hours=5), "schedule") == [] and len(calls) == 1  # same day
    live.refresh(NOW + timedelta(hours=6), "rules")  # new rules: everyone, whatever the day
    assert len(calls) == 2
    live.refresh(NOW + timedelta(days=6), "schedule")  # day 7 of the window: still in
    assert len(calls) == 3 and "Cart abandoners" in live.memberships("anonymous_id:d1")
    changes = live.refresh(NOW + timedelta(days=7), "schedule")  # day 8: out, found by the tick
    assert [(c.change, c.cause) for c in changes] == [("exited", "schedule")]


def _carts(n: int) -> LiveSegments:
    live = LiveSegments(
        {
            "Cart abandoners": check_rule(
                'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0'
            )
        }
    )
    for i in range(n):
        day = NOW - __import__("datetime").timedelta(days=i % 3)  # carts of three different days
        live.add(f"anonymous_id:d{i}", [{"type": "add_to_cart", "occurred_at": day}])
        live.reevaluate(f"anonymous_id:d{i}", NOW, "m")
    return live


def test_the_day_change_in_steps_ends_where_one_refresh_ends() -> None:
    """The scheduled refresh in steps of ``limit`` customers: the same exits as one refresh,
    each customer once, ``True`` only when everyone was reached; same day again: nothing."""
    from datetime import timedelta

    day8 = NOW + timedelta(days=7)  # the carts of NOW expire; those of the two days before too
    whole, stepped = _carts(7), _carts(7)
    expected = sorted((c.customer_id, c.change) for c in whole.refresh(day8, "schedule"))
    got, done, steps = [], False, 0
    while not done:
        changes, done = stepped.refresh_some(day8, limit=3)
        got += changes
        steps += 1
    assert steps == 3 and sorted((c.customer_id, c.change) for c in got) == expected
    assert expected and {c.cause for c in got} == {"schedule"}
    assert stepped.members == whole.members
    assert stepped.refresh_some(day8 + timedelta(hours=1), limit=3) == ([], True)


def test_a_new_day_in_the_middle_of_the_steps_starts_over_for_that_day() -> None:
    from datetime import timedelta

    live = _carts(6)
    first, done = live.refresh_some(NOW + timedelta(days=6), limit=2)  # day 7: two customers done
    assert not done
    calls: list[str] = []
    original = live.reevaluate

    def counting(cid: str, now: datetime, cause: str):  # type: ignore[no-untyped-def]
        calls.append(cid)
        return original(cid, now, cause)

    live.reevaluate = counting  # type: ignore[method-assign]
    rest, done = live.refresh_some(NOW + timedelta(days=9), limit=100)  # day 10: everyone again
    assert done and live.members == {} and len(calls) == 6
    assert sorted(c.customer_id for c in first + rest) == sorted(f"anonymous_id:d{i}" for i in range(6))


def test_a_customer_first_met_live_gets_the_consent_policy_of_nobodys_decision() -> None:
    """As a build would: analytics/profiling/personalization by default, no marketing contact."""
    from personae.config.traits import TraitSettings
    from personae.traits.consent import default_flags

    rules = {
        "Profiled browsers": check_rule('consent("profiling") and events("product_view", within="7d") >= 1'),
        "Emailable browsers": check_rule('consent("email") and events("product_view", within="7d") >= 1'),
    }
    event = {"type": "product_view", "occurred_at": NOW, "product_id": "P1", "anonymous_id": "d2"}
    live = LiveSegments(rules, new_traits=default_flags(TraitSettings().consent_defaults))
    live.add("anonymous_id:d2", [event])
    assert [(c.segment, c.change) for c in live.reevaluate("anonymous_id:d2", NOW, "m1")] == [
        ("Profiled browsers", "entered")
    ]
    strict = LiveSegments(rules, new_traits=default_flags({"*": {"profiling": "opt-in"}}))
    strict.add("anonymous_id:d2", [event])
    assert strict.reevaluate("anonymous_id:d2", NOW, "m1") == []


def test_properties_are_kept_only_when_a_rule_reads_them_and_decide_membership() -> None:
    rule = check_rule(
        'events("order_completed", where=\'coupon == "XMAS" and revenue > 100\', within="7d") >= 1'
    )
    live = LiveSegments({"Christmas big spenders": rule})
    assert live.needs.properties and live.needs.event_columns == (*EVENT_COLUMNS, "properties")
    event = {"type": "order_completed", "occurred_at": NOW, "properties": '{"coupon": "XMAS", "revenue": 80}'}
    live.add("C1", [event])
    assert live.states["C1"].events[0]["properties"] == {"coupon": "XMAS", "revenue": 80}  # parsed once
    assert live.reevaluate("C1", NOW, "m1") == []
    live.add("C1", [{**event, "properties": '{"coupon": "XMAS", "revenue": 120}'}])
    assert [(c.segment, c.change) for c in live.reevaluate("C1", NOW, "m2")] == [
        ("Christmas big spenders", "entered")
    ]
    plain = LiveSegments({"Buyers": check_rule('events("order_completed") >= 1')})
    assert not plain.needs.properties
    plain.add("C1", [event])
    assert "properties" not in plain.states["C1"].events[0]
