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
from personae.personalize.impact import (
    bootstrap_mean_difference,
    detectable_lift,
    holdout_needed,
    mean_difference,
    nps_points,
    proportion_difference,
    skewed,
    verdict,
    wilson,
)
from personae.personalize.messages import incentive_offer, render
from personae.personalize.playbooks import Incentive, Playbook


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score)
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((6, 7, 2, 7), 0.0582, 0.8062),
        ((5, 56, 0, 29), -0.0381, 0.1926),
        ((0, 10, 0, 20), -0.1611, 0.2775),
        ((0, 10, 0, 10), -0.2775, 0.2775),
    ],
)
def test_proportion_difference_is_newcombes_hybrid_score_interval(counts, low, high):
    e = proportion_difference(*counts, "conversion")
    assert e.method == "newcombe"
    assert e.difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(e.low, 4), round(e.high, 4)) == (low, high)


def test_wilson_matches_scipy():
    from scipy import stats

    ci = stats.binomtest(56, 70).proportion_ci(0.95, method="wilson")
    assert wilson(56, 70) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_holdout_needed_matches_the_two_proportion_formula():
    # equal groups, 10 % vs 15 %, 95 % / 80 %: (z_a sqrt(2 pq) + z_b sqrt(p1q1 + p2q2))^2 / d^2
    za, zb = 1.959964, 0.841621
    n = (za * math.sqrt(2 * 0.125 * 0.875) + zb * math.sqrt(0.09 + 0.1275)) ** 2 / 0.05**2
    assert math.ceil(n) == 686
    assert holdout_needed(0.10, 0.05, treated=686) == 686
    # a larger treated group needs a smaller holdout, never below half the equal-groups size
    needed = holdout_needed(0.10, 0.05, treated=10_000)
    assert needed is not None and 343 < needed < 686
    # the treated group alone is too small: no holdout is enough
    assert holdout_needed(0.10, 0.01, treated=50) is None
    # detectable_lift inverts holdout_needed
    assert detectable_lift(0.10, 10_000, needed) == pytest.approx(0.05, abs=5e-4)


def test_bootstrap_mean_difference_is_seeded_and_agrees_with_welch_on_symmetric_data():
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 2, 400), rng.normal(9, 2, 400)
    boot = bootstrap_mean_difference(a, b, "revenue")
    welch = mean_difference(a, b, "revenue")
    assert boot.method == "bootstrap" and welch.method == "welch"
    assert boot.low == pytest.approx(welch.low, abs=0.05)
    assert boot.high == pytest.approx(welch.high, abs=0.05)
    assert bootstrap_mean_difference(a, b, "revenue") == boot
    # by hand: the same resamples drawn directly
    gen = np.random.default_rng(0)
    m1 = a[gen.integers(0, 400, size=(2000, 400))].mean(axis=1)
    m0 = b[gen.integers(0, 400, size=(2000, 400))].mean(axis=1)
    assert (boot.low, boot.high) == pytest.approx(tuple(np.percentile(m1 - m0, [2.5, 97.5])))


def test_skewed_revenue_is_recognised():
    spend = [0.0] * 90 + [20.0] * 8 + [900.0, 2500.0]
    assert skewed(spend)
    assert not skewed(np.random.default_rng(0).normal(50, 5, 200))


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
