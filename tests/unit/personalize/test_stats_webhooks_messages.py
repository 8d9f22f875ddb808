"""Impact statistics, webhook signing and backoff, message rendering, ranking metrics."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
import scipy.sparse as sp

from personae.errors import InputError
from personae.personalize import webhooks as wh
from personae.personalize.evaluation import metrics
from personae.personalize.impact import mean_difference, nps_points, proportion_difference, verdict
from personae.personalize.messages import incentive_offer, render
from personae.personalize.playbooks import Incentive, Playbook


def test_proportion_difference_wald_interval():
    e = proportion_difference(60, 200, 40, 200, "conversion")
    se = math.sqrt(0.3 * 0.7 / 200 + 0.2 * 0.8 / 200)
    assert e.difference == pytest.approx(0.1)
    assert e.low == pytest.approx(0.1 - 1.959964 * se, abs=1e-5)
    assert e.direction == "up"


def test_mean_difference_matches_welch():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 2, 50), rng.normal(9, 3, 80)
    e = mean_difference(a, b, "revenue_per_customer")
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert (e.low, e.high) == pytest.approx((ci.low, ci.high))


def test_nps_points_and_verdicts():
    assert nps_points([10, 9, 8, 7, 6, 0]).tolist() == [100, 100, 0, 0, -100, -100]
    money = proportion_difference(1, 1, 0, 1, "x")
    up = mean_difference([10, 11, 12, 13], [1, 2, 1, 2], "revenue_per_customer")
    down = mean_difference([1, 2, 1, 2], [8, 9, 8, 9], "trust")
    assert "at the cost of trust" in verdict([up, down])
    assert "no measured harm" in verdict([up])
    assert "costs money" in verdict([mean_difference([1, 2, 1, 2], [8, 9, 8, 9], "revenue_per_customer")])
    flat = mean_difference([1, 2, 3], [1, 2, 3], "revenue_per_customer")
    assert "No effect" in verdict([flat, money])


def test_signature_verifies_and_rejects_tampering_and_replays():
    body = wh.payload("id1", "VIP", "C1", "entered", date(2026, 6, 30))
    header = wh.sign("s3cret", body, 1_000_000)
    assert wh.verify("s3cret", body.encode(), header, now=1_000_100)
    assert not wh.verify("s3cret", body.encode() + b" ", header, now=1_000_100)
    assert not wh.verify("other", body.encode(), header, now=1_000_100)
    assert not wh.verify("s3cret", body.encode(), header, now=1_010_000)  # too old
    assert wh.message_id("s", "VIP", "C1", "entered", date(2026, 6, 30)) == wh.message_id(
        "s", "VIP", "C1", "entered", date(2026, 6, 30)
    )


def test_backoff_doubles_and_is_capped():
    assert [wh.backoff(n, 0.5, 3.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_render_message_strict_and_sandboxed():
    pb = Playbook(
        name="cart",
        audience="cart_abandoned",
        action="x",
        channels=["email"],
        incentive=Incentive(kind="percent_off", value=10, valid_days=7),
        templates={
            "email": {
                "subject": "Hi {{ first_name }}",
                "body": "{% for i in items %}{{ i.name }};{% endfor %}{{ incentive.code }}",
            }
        },
    )
    offer = incentive_offer(pb.incentive, "cart", "C1", date(2026, 6, 30))
    assert offer["valid_until"] == "2026-07-07" and offer["text"] == "10% off"
    assert offer == incentive_offer(pb.incentive, "cart", "C1", date(2026, 6, 30))
    msg = render(pb, "email", {"first_name": "Ann", "items": [{"name": "Shoe"}], "incentive": offer})
    assert msg["subject"] == "Hi Ann" and msg["body"] == f"Shoe;{offer['code']}"
    with pytest.raises(InputError, match="first_name"):
        render(pb, "email", {"items": [], "incentive": offer})
    evil = pb.model_copy(
        update={
            "templates": {
                "email": pb.templates["email"].model_copy(update={"body": "{{ ''.__class__.__mro__ }}"})
            }
        }
    )
    with pytest.raises(InputError):
        render(evil, "email", {"first_name": "A", "items": [], "incentive": offer})


def test_metrics_by_hand():
    rec = np.array([[0, 1, 2], [3, -1, -1]])
    test = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [0, 0, 0, 0, 1]], dtype=float))
    m = metrics(rec, test, n_items=5)
    assert m["precision"] == pytest.approx((1 / 3 + 0) / 2)
    assert m["recall"] == pytest.approx((1 / 2 + 0) / 2)
    ndcg0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg"] == pytest.approx(ndcg0 / 2)
    assert m["coverage"] == pytest.approx(4 / 5)
