"""Activation with holdouts, webhooks against a real local HTTP receiver, impact on injected outcomes."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pyarrow as pa
import pytest

from personae.app import actions
from personae.app import impact as impact_report
from personae.app import webhooks as webhook_delivery
from personae.config.personalize import PersonalizeSettings, WebhookSettings, WebhookSubscription
from personae.personalize import webhooks as wh
from personae.personalize.holdout import in_holdout
from personae.privacy import consent


def test_activate_exports_treated_records_holdout_and_respects_consent(shop, tmp_path):
    settings = PersonalizeSettings()
    out = tmp_path / "audience.jsonl"
    result = actions.activate(shop, settings, "try_other_channel", out)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert result["exported"] == len(lines) > 0 and result["held_out"] > 0
    rec = shop.execute(shop.table("activations"))
    assert set(rec["group"]) == {"treatment", "holdout"}
    traits = shop.execute(shop.table("traits")).set_index("customer_id")
    for row in lines:
        t = traits.loc[row["customer_id"]].to_dict()
        assert consent.check(t, consent.purposes_for(row["channel"])).allowed
        assert not in_holdout(row["customer_id"], "try_other_channel", 0.2)
        assert row["body"] and "free shipping" in row["body"]
    held = rec[rec["group"] == "holdout"]["customer_id"]
    assert all(in_holdout(c, "try_other_channel", 0.2) for c in held)
    assert not set(held) & {r["customer_id"] for r in lines}
    # caps/cooldown: activating again the same day sends nobody twice
    again = actions.activate(shop, settings, "try_other_channel", tmp_path / "again.csv")
    assert again["exported"] == 0
    # … and holds nobody twice: a hold counts toward the cooldown like a send (issue 28)
    assert again["held_out"] == 0
    sent = actions.recent_messages(shop, date.fromisoformat(result["as_of"]), 30, list(held))
    assert all(any(m.held_out and m.playbook == "try_other_channel" for m in sent[c]) for c in held)
    # who the first run left out adds up: the audience = exported + held out + suppressed + outranked
    left = result["left_out"]
    assert left["used"] == result["exported"]
    assert left["reasons"]["held out as the control group (measured, not contacted)"] == result["held_out"]
    suppressed = sum(n for why, n in left["reasons"].items() if why.startswith(("without", "at a", "in ")))
    assert suppressed == result["suppressed"]
    # the second run leaves everyone out, and says the cooldown is why
    assert again["left_out"]["used"] == 0
    assert again["left_out"]["reasons"].get("in the playbook's cooldown", 0) > 0


class _Receiver(BaseHTTPRequestHandler):
    fail_first = 0
    received: list = []  # noqa: RUF012
    calls = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        if type(self).calls <= type(self).fail_first:
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.calls, _Receiver.fail_first = [], 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _settings(url: str, attempts: int = 4) -> WebhookSettings:
    return WebhookSettings(
        subscriptions=[WebhookSubscription(name="crm", url=url, segments=["Champions"])],
        max_attempts=attempts,
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
    )


def _changes(store, n=3):
    rows = [
        {
            "segment": "Champions",
            "customer_id": c,
            "change": "entered",
            "as_of": date(2026, 6, 30),
            "previous_as_of": date(2026, 3, 31),
            "recorded_at": datetime(2026, 6, 30),
        }
        for c in n
    ]
    store.append("segment_changes", pa.Table.from_pylist(rows))


def test_webhooks_retry_sign_and_deliver_once(shop, receiver, monkeypatch):
    monkeypatch.setenv("PERSONAE_WEBHOOK_SECRET", "s3cret")
    traits = shop.execute(shop.table("traits"))
    ok = traits[traits["consent_personalization"] == True]["customer_id"].tolist()[:3]  # noqa: E712
    no = traits[traits["consent_personalization"] != True]["customer_id"].tolist()[:1]  # noqa: E712
    shop.raw.execute("DELETE FROM segment_changes")
    _changes(shop, ok + no)
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    _Receiver.fail_first = 2
    settings = _settings(url)
    assert webhook_delivery.enqueue(shop, settings) == {"queued": 3, "skipped_no_consent": 1}
    assert webhook_delivery.enqueue(shop, settings)["queued"] == 0  # idempotent
    waits = []
    assert webhook_delivery.deliver(shop, settings, sleep=waits.append) == {"delivered": 3, "dead": 0}
    assert waits == [0.01, 0.02]  # two failures, exponential backoff
    assert len(_Receiver.received) == 3
    for headers, body in _Receiver.received:
        assert wh.verify("s3cret", body, headers[wh.SIGNATURE_HEADER], now=int(datetime.now().timestamp()))
        assert json.loads(body)["customer_id"] in ok
    assert webhook_delivery.deliver(shop, settings) == {"delivered": 0, "dead": 0}
    assert webhook_delivery.status(shop)["messages"] == {"delivered": 3}


def test_receiver_down_dead_letters_then_redrive_loses_nothing(shop, receiver, monkeypatch):
    monkeypatch.setenv("PERSONAE_WEBHOOK_SECRET", "s3cret")
    traits = shop.execute(shop.table("traits"))
    ok = traits[traits["consent_personalization"] == True]["customer_id"].tolist()[:2]  # noqa: E712
    shop.raw.execute("DELETE FROM segment_changes")
    _changes(shop, ok)
    port = receiver.server_port
    receiver.shutdown()
    receiver.server_close()  # nobody listens: connection refused
    settings = _settings(f"http://127.0.0.1:{port}/hook", attempts=3)
    webhook_delivery.enqueue(shop, settings)
    assert webhook_delivery.deliver(shop, settings, sleep=lambda s: None) == {"delivered": 0, "dead": 2}
    dead = shop.execute(shop.table("webhook_dead_letters"))
    assert len(dead) == 2 and (dead["attempts"] == 3).all() and dead["last_error"].str.contains("Error").all()
    # the receiver comes back on the same port: redrive delivers everything
    from http.server import ThreadingHTTPServer as S

    server = S(("127.0.0.1", port), _Receiver)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        assert webhook_delivery.redrive(shop) == 2
        assert webhook_delivery.deliver(shop, settings, sleep=lambda s: None) == {"delivered": 2, "dead": 0}
    finally:
        server.shutdown()
        server.server_close()


def test_impact_on_injected_outcomes(shop):
    """20 treated buy 100 each and trust 4; 20 controls buy nothing and trust 8."""
    shop.raw.execute("DELETE FROM activations")
    people = [f"Z{i:03d}" for i in range(40)]
    acts = [
        {
            "run_id": "r",
            "playbook": "p",
            "customer_id": c,
            "group": "treatment" if i < 20 else "holdout",
            "channel": "email",
            "as_of": date(2026, 1, 31),
            "activated_at": datetime(2026, 1, 31),
            "content": None,
        }
        for i, c in enumerate(people)
    ]
    shop.append("activations", pa.Table.from_pylist(acts))
    import pathlib
    import tempfile

    from personae.app.ingest import ingest_file  # through the real ingest path

    d = pathlib.Path(tempfile.mkdtemp())
    pd.DataFrame(
        [
            {"order_id": f"OZ{i}", "customer_id": c, "ordered_at": "2026-02-10", "amount": 100 + i % 3}
            for i, c in enumerate(people[:20])
        ]
        + [{"order_id": "OZlate", "customer_id": people[25], "ordered_at": "2026-04-10", "amount": 500}]
    ).to_csv(d / "o.csv", index=False)
    pd.DataFrame(
        [
            {
                "response_id": f"RZ{i}",
                "customer_id": c,
                "answered_at": "2026-02-15",
                "kind": "trust",
                "score": (4 + i % 2) if i < 20 else 2 * (8 + i % 2),
                # the controls were asked 0-20: their answers count as 8 and 9 out of 10
                "scale_max": 10 if i < 20 else 20,
            }
            for i, c in enumerate(people)
        ]
        # a second answer of each treated customer in the window: one answer per customer counts
        + [
            {
                "response_id": f"RZB{i}",
                "customer_id": c,
                "answered_at": "2026-02-20",
                "kind": "trust",
                "score": 10,
                "scale_max": 10,
            }
            for i, c in enumerate(people[:20])
        ]
    ).to_csv(d / "s.csv", index=False)
    ingest_file(shop, "orders", d / "o.csv")
    ingest_file(shop, "surveys", d / "s.csv")
    r = impact_report.impact(shop, "p", window_days=30)
    eff = {e["metric"]: e for e in r["effects"]}
    assert (r["treated"], r["held_out"]) == (20, 20)
    assert eff["conversion"]["difference"] == pytest.approx(1.0)  # the April order is outside the window
    assert eff["revenue_per_customer"]["treatment"] == pytest.approx((7 * 100 + 7 * 101 + 6 * 102) / 20)
    assert eff["revenue_per_customer"]["control"] == 0
    assert eff["trust"]["difference"] == pytest.approx(-4.0) and eff["trust"]["direction"] == "down"
    assert (eff["trust"]["n_treatment"], eff["trust"]["n_control"]) == (20, 20)
    assert r["answers"]["given"] == 60 and r["answers"]["used"] == 40
    assert eff["conversion"]["method"] == "newcombe"
    # every control converted none: there is no baseline to size the holdout by, and it says so
    assert r["power"]["needed"] is None and "no power calculation" in r["power"]["warning"]
    assert "at the cost of trust" in r["verdict"]
    impact_report.impact_chart(r)
