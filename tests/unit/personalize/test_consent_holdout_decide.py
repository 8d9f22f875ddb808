"""The consent gate, stable holdouts and the next-best-action decision."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import ConsentError, InputError
from personae.personalize.decide import Sent, decide, quiet_period
from personae.personalize.holdout import holdout_mask, in_holdout
from personae.personalize.playbooks import parse_playbooks
from personae.privacy import consent

BOOK = """
rules:
  caps: {email: {max: 2, days: 7}}
  quiet_periods: [{name: Xmas, start: "12-24", end: "12-26"}]
playbooks:
  - name: cart
    audience: cart_abandoned
    action: remind
    channels: [email, push]
    priority: 1
    holdout: 0.0
    cooldown_days: 7
    templates: {email: {body: "hi"}, push: {body: "hi"}}
  - name: greet
    audience: "true"
    action: greet
    channels: [email]
    personal: false
    priority: 2
    holdout: 0.0
    templates: {email: {body: "hello {{ first_name }}"}}
"""
DAY = date(2026, 6, 30)
ALL = {f"consent_{p}": True for p in ("email", "sms", "push", "personalization")}


def book():
    return parse_playbooks(BOOK, "test")


@given(
    st.dictionaries(
        st.sampled_from(["consent_email", "consent_personalization", "x"]),
        st.sampled_from([True, False, None, 1, "true"]),
    )
)
def test_only_explicit_true_is_consent(traits):
    d = consent.check(traits, ["email", "personalization"])
    expected = traits.get("consent_email") is True and traits.get("consent_personalization") is True
    assert d.allowed is expected


def test_batch_and_single_consent_agree():
    rows = [
        {"customer_id": "a", "consent_email": True, "consent_personalization": True},
        {"customer_id": "b", "consent_email": True, "consent_personalization": None},
        {"customer_id": "c", "consent_email": False, "consent_personalization": True},
    ]
    t = ibis.memtable(pd.DataFrame(rows))
    got = ibis.duckdb.connect().execute(
        t.select("customer_id", ok=consent.allowed(t, ["email", "personalization"]))
    )
    single = {r["customer_id"]: consent.check(r, ["email", "personalization"]).allowed for r in rows}
    assert dict(zip(got.customer_id, got.ok, strict=True)) == single == {"a": True, "b": False, "c": False}


def test_require_raises_consent_error_and_unknown_purpose_is_refused():
    with pytest.raises(ConsentError, match="email"):
        consent.require({"customer_id": "x"}, ["email"], what="a message")
    with pytest.raises(InputError):
        consent.check({}, ["emial"])
    assert consent.purposes_for("sms", personal=True) == ("sms", "personalization")


def test_holdout_is_stable_seeded_and_close_to_its_share():
    ids = [f"C{i:06d}" for i in range(20_000)]
    a = holdout_mask(ids, "cart", 0.1)
    assert (a == holdout_mask(ids, "cart", 0.1)).all()  # stable
    assert 0.09 < a.mean() < 0.11
    assert (a != holdout_mask(ids, "other", 0.1)).any()  # independent per playbook
    assert (a != holdout_mask(ids, "cart", 0.1, salt="new")).any()
    assert not in_holdout("C1", "cart", 0.0)
    # growing the share only adds people: the 10% group is inside the 20% group
    assert (a <= holdout_mask(ids, "cart", 0.2)).all()


def test_consent_is_never_bypassed():
    no_email = {**ALL, "consent_email": False}
    d = decide(book(), "c1", no_email, {"cart", "greet"}, [], DAY)
    assert d.chosen is not None and d.chosen.playbook == "cart" and d.chosen.channel == "push"
    nothing = {**ALL, "consent_email": False, "consent_push": False}
    d = decide(book(), "c1", nothing, {"cart", "greet"}, [], DAY)
    assert d.chosen is None
    assert [s.status for s in d.steps] == ["suppressed", "suppressed"]
    assert "no consent for email" in d.steps[0].reason and "no consent for push" in d.steps[0].reason
    assert d.steps[0].cause == "without consent to email or push"  # what an audience summary counts
    # personal content needs personalization consent too; a non-personal greeting does not
    d = decide(book(), "c1", {**ALL, "consent_personalization": False}, {"cart", "greet"}, [], DAY)
    assert d.chosen is not None and d.chosen.playbook == "greet"


def test_caps_cooldown_quiet_and_priority():
    b = book()
    two_emails = [Sent("email", date(2026, 6, 25)), Sent("email", date(2026, 6, 29))]
    d = decide(b, "c1", ALL, {"cart", "greet"}, two_emails, DAY)
    assert d.chosen is not None and (d.chosen.playbook, d.chosen.channel) == ("cart", "push")
    assert next(s for s in d.steps if s.playbook == "greet").status == "outranked"
    d = decide(b, "c1", {**ALL, "consent_push": False}, {"greet"}, two_emails, DAY)
    assert d.chosen is None and "cap of 2 per 7 days reached" in d.steps[1].reason
    assert d.steps[1].cause == "at a channel's contact cap"
    # the window is 7 days including today: a message 7 days ago no longer counts
    old = [Sent("email", date(2026, 6, 23)), Sent("email", date(2026, 6, 29))]
    assert decide(b, "c1", ALL, {"greet"}, old, DAY).chosen is not None
    d = decide(b, "c1", ALL, {"cart"}, [Sent("push", date(2026, 6, 28), "cart")], DAY)
    assert d.chosen is None and "cooldown" in d.steps[0].reason
    assert d.steps[0].cause == "in the playbook's cooldown"
    d = decide(b, "c1", ALL, {"cart"}, [], date(2026, 12, 25))
    assert d.chosen is None and "quiet period Xmas" in d.steps[0].reason
    assert d.steps[0].cause == "in a quiet period"
    assert quiet_period(
        date(2027, 1, 2), [b.rules.quiet_periods[0].model_copy(update={"start": "12-30", "end": "01-03"})]
    )


def test_holdout_takes_the_slot():
    b = book()
    b.playbooks[0].holdout = 0.5
    ids = [f"C{i}" for i in range(200)]
    decisions = [decide(b, c, ALL, {"cart", "greet"}, [], DAY) for c in ids]
    held = [d for d in decisions if d.chosen is not None and d.chosen.status == "held_out"]
    assert held and all(d.steps[1].status == "outranked" for d in held)
    assert {d.customer_id for d in held} == {c for c in ids if in_holdout(c, "cart", 0.5)}


def test_a_hold_counts_toward_cooldowns_and_caps_like_a_send():
    # issue 28: held-out customers were held out again at every run (keeping the slot) while
    # treated ones in cooldown fell through to other playbooks; both groups must be alike
    b = book()
    b.playbooks[0].holdout = 0.5
    ids = [f"C{i}" for i in range(200)]
    held_id = next(c for c in ids if in_holdout(c, "cart", 0.5))
    treated_id = next(c for c in ids if not in_holdout(c, "cart", 0.5))
    yesterday = date(2026, 6, 29)
    after = {
        cid: decide(b, cid, ALL, {"cart", "greet"}, [Sent("email", yesterday, "cart", held_out=h)], DAY)
        for cid, h in ((held_id, True), (treated_id, False))
    }
    for d in after.values():  # both wait out the cooldown and get the next playbook
        assert d.steps[0].status == "suppressed" and d.steps[0].cause == "in the playbook's cooldown"
        assert d.chosen is not None and d.chosen.playbook == "greet"
    assert after[held_id].steps[0].reason.startswith("held out 2026-06-29")
    assert after[treated_id].steps[0].reason.startswith("sent 2026-06-29")
    # a hold on a channel uses up its contact cap as a send does
    holds = [Sent("email", date(2026, 6, 25), "cart", held_out=True), Sent("email", yesterday, None)]
    d = decide(b, treated_id, {**ALL, "consent_push": False}, {"greet"}, holds, DAY)
    assert d.chosen is None and d.steps[1].cause == "at a channel's contact cap"


def test_bad_playbooks_are_refused_with_a_message():
    with pytest.raises(InputError, match="channel"):
        parse_playbooks(BOOK.replace("[email, push]", "[fax]"), "x")
    with pytest.raises(InputError, match="template"):
        parse_playbooks(BOOK.replace('push: {body: "hi"}', ""), "x")
