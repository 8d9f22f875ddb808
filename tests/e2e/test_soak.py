"""Soak and fault test (issue 25.5): the service under a shop-like mix while a build, an ingest, a
segment change and an erasure happen, then SIGKILLed mid-traffic, restarted and checked.

The checks, after the restart:

* every message the server acknowledged (a 2xx) is stored exactly once (``events.event_id`` is
  the ``messageId``), except the erased person's, which are gone; no message is stored twice;
* the live memberships (the API's members pages and the ``live_memberships`` table) equal a
  batch evaluation of the same rules on the same data (the build's traits, the stored events and
  orders) as of today;
* none of the erased person's identifiers (user id, anonymous id, email, phone digits, name) is
  in any byte of any file of the database's folder (database, WAL, journal).

``PERSONAE_SOAK_SECONDS`` sets how long the traffic runs before the kill (default 60; ``make
bench`` runs ``benchmarks/bench_soak.py``, which runs this test for longer). The numbers (events,
reads, latencies) are printed as one JSON line and written to ``PERSONAE_SOAK_REPORT`` if set.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import SAMPLE, Server, personae

from personae.app import keys as keystore
from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.app.segments.library import install_templates, segment_library
from personae.app.segments.run import batch_sources
from personae.config import load_settings
from personae.segments.batch import compile_segments
from personae.segments.membership import long_members
from personae.store import DuckDBStore

SECONDS = float(os.environ.get("PERSONAE_SOAK_SECONDS", "60"))
SENDERS = 3
#: CDNOW's customer ids in the sample are 0001 … 2357
KNOWN = [f"{n:04d}" for n in range(1, 2358)]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.cdnow,
    pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/datasets/cdnow"),
]


def _prepare(db: Path) -> dict[str, str]:
    """The CDNOW sample, built once (live segments have traits), a template and keys."""
    with DuckDBStore.open(db) as store:
        ingest_file(
            store,
            "orders",
            SAMPLE,
            mapping={"amount": "dollars", "ordered_at": "date", "quantity": "cds"},
            date_format="%Y%m%d",
        )
        run_build(store, settings=load_settings(db=db), quiet=True)
        install_templates(store, ["Cart abandoners"])
        return {role: keystore.create_key(store, role)[1] for role in ("write", "read", "admin")}


class Victim:
    """The person erased mid-run: tracked first through the Segment library, then erased."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.user_id = f"soakvictim{tag}"
        self.anonymous_id = f"soakdevice{tag}"
        self.email = f"zebulon.quill.{tag}@example.org"
        self.phone_digits = "5550137" + str(random.randint(100, 999))
        self.phone = f"+1 (555) 013-7{self.phone_digits[-3:]}"
        self.last_name = "Quillfeather" + tag[:4].upper()
        self.message_ids: list[str] = []

    def needles(self) -> list[bytes]:
        return [
            s.encode()
            for s in (self.user_id, self.anonymous_id, self.email, self.phone_digits, self.last_name)
        ]

    def track_with_segment_library(self, url: str, write_key: str) -> None:
        from segment.analytics.client import Client

        errors: list[Any] = []
        client = Client(write_key, host=url, on_error=lambda e, batch: errors.append(e), max_retries=5)
        sent = [
            client.track(
                anonymous_id=self.anonymous_id, event="Product Viewed", properties={"product_id": "P7"}
            ),
            client.track(
                anonymous_id=self.anonymous_id,
                event="Product Added",
                properties={"product_id": "P7", "price": 19.0},
            ),
            client.identify(
                user_id=self.user_id,
                anonymous_id=self.anonymous_id,
                traits={"email": self.email, "phone": self.phone, "name": f"Zebulon {self.last_name}"},
            ),
            client.page(user_id=self.user_id, name="Cart", properties={"url": "https://shop.example/cart"}),
        ]
        client.flush()
        client.shutdown()
        assert errors == [], errors
        self.message_ids = [msg["messageId"] for _, msg in sent]


class Mix:
    """Senders posting Segment-style batches (sign-ins, views, adds, orders, pages) and a reader
    of live members and profiles, each on its own thread, counting what was acknowledged."""

    def __init__(self, url: str, keys: dict[str, str], segments: list[str]) -> None:
        self.url, self.keys, self.segments = url, keys, segments
        self.acked: list[str] = []
        self.sent_not_acked: Counter[str] = Counter()  # why: a status code, or the error's class
        self.batch_latency: list[float] = []
        self.reads: Counter[int] = Counter()
        self.read_latency: list[float] = []
        self.read_errors: Counter[str] = Counter()
        self.stop = threading.Event()
        self.killed = threading.Event()  # from here on, failures are the kill's
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(k,)) for k in range(SENDERS)]
        self._threads.append(threading.Thread(target=self._read))

    def __enter__(self) -> Mix:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(120)

    def _messages(self, rng: random.Random, sender: int, n: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        out: list[dict[str, Any]] = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.6:
                user: dict[str, Any] = {"userId": rng.choice(KNOWN)}
            elif roll < 0.85:
                user = {"anonymousId": f"soak-dev-{sender}-{rng.randrange(400)}"}
            else:
                k = rng.randrange(300)
                user = {"userId": f"soak-new-{sender}-{k}", "anonymousId": f"soak-dev-{sender}-{k}"}
            base = {**user, "messageId": uuid.uuid4().hex, "timestamp": now}
            kind = rng.random()
            if kind < 0.08 and "userId" in user:
                out.append(
                    {**base, "type": "identify", "traits": {"email": f"{user['userId']}@shop.example"}}
                )
            elif kind < 0.15:
                out.append(
                    {**base, "type": "page", "name": "Home", "properties": {"url": "https://shop.example/"}}
                )
            elif kind < 0.55:
                p = f"P{rng.randrange(60)}"
                out.append(
                    {**base, "type": "track", "event": "Product Viewed", "properties": {"product_id": p}}
                )
            elif kind < 0.9:
                p = f"P{rng.randrange(60)}"
                props = {"product_id": p, "price": round(rng.uniform(5, 50), 2)}
                out.append({**base, "type": "track", "event": "Product Added", "properties": props})
            elif "userId" in user:
                price = round(rng.uniform(5, 80), 2)
                props = {
                    "order_id": f"soak-o-{uuid.uuid4().hex[:12]}",
                    "total": price,
                    "products": [{"product_id": f"P{rng.randrange(60)}", "price": price, "quantity": 1}],
                }
                out.append({**base, "type": "track", "event": "Order Completed", "properties": props})
        return out

    def _send(self, sender: int) -> None:
        rng = random.Random(sender)
        with httpx.Client(auth=(self.keys["write"], ""), timeout=60) as http:
            while not self.stop.is_set():
                batch = self._messages(rng, sender, 20)
                started = time.perf_counter()
                try:
                    r = http.post(f"{self.url}/v1/batch", json={"batch": batch})
                except httpx.HTTPError as exc:
                    assert self.killed.is_set(), f"{type(exc).__name__}: {exc}"
                    with self._lock:
                        self.sent_not_acked[type(exc).__name__] += len(batch)
                    time.sleep(0.2)
                    continue
                took = time.perf_counter() - started
                with self._lock:
                    if 200 <= r.status_code < 300:
                        body = r.json()
                        assert not body.get("rejected"), body  # every message of the mix is good
                        self.acked.extend(m["messageId"] for m in batch)
                        self.batch_latency.append(took)
                    else:
                        assert r.status_code in (429, 503), r.text  # back-pressure: SDKs retry
                        self.sent_not_acked[str(r.status_code)] += len(batch)
                if r.status_code >= 300:
                    time.sleep(0.2)

    def _read(self) -> None:
        rng = random.Random(99)
        with httpx.Client(headers={"Authorization": f"Bearer {self.keys['read']}"}, timeout=60) as http:
            while not self.stop.is_set():
                if rng.random() < 0.5:
                    path = f"/v1/segments/{rng.choice(self.segments)}/members"
                    params = {"limit": 20}
                else:
                    path, params = f"/v1/customers/{rng.choice(KNOWN)}", {}
                started = time.perf_counter()
                try:
                    r = http.get(self.url + path, params=params)
                except httpx.HTTPError as exc:
                    assert self.killed.is_set(), f"{type(exc).__name__}: {exc}"
                    self.read_errors[type(exc).__name__] += 1
                    time.sleep(0.2)
                    continue
                if not self.killed.is_set():
                    self.read_latency.append(time.perf_counter() - started)
                    self.reads[r.status_code] += 1
                time.sleep(0.02)


def _small_orders(path: Path, n: int = 200) -> list[str]:
    """A day's file of new orders by CDNOW customers (dated today)."""
    rng = random.Random(7)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    ids = [f"soak-file-{k}" for k in range(n)]
    lines = ["order_id,customer_id,ordered_at,product_id,amount"]
    lines += [f"{o},{rng.choice(KNOWN)},{today},P{rng.randrange(60)},{rng.uniform(5, 90):.2f}" for o in ids]
    path.write_text("\n".join(lines) + "\n")
    return ids


def _live_members(url: str, read_key: str) -> dict[str, set[str]]:
    """Every segment's live members, through the API's pages."""
    out: dict[str, set[str]] = {}
    with httpx.Client(headers={"Authorization": f"Bearer {read_key}"}, timeout=60) as http:
        for seg in http.get(f"{url}/v1/segments").json():
            if not seg["live"]:
                continue  # not evaluated live (said so in the listing)
            name, after, got = seg["name"], None, set()
            while True:
                params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
                page = http.get(f"{url}/v1/segments/{name}/members", params=params).json()
                got |= {m["customer_id"] for m in page["members"]}
                after = page.get("next")
                if not after:
                    break
            out[name] = got
    return out


def _batch_members(store: DuckDBStore, db: Path) -> tuple[dict[str, set[str]], set[str]]:
    """The same rules evaluated in batch (the build's evaluator) on the stored data, as of today;
    and whom batch evaluation decides on: the customers with a traits row."""
    today = datetime.now(UTC).date()
    _, checked, errors = segment_library(store, load_settings(db=db).traits)
    assert not errors, errors
    compiled = compile_segments(list(checked), checked, batch_sources(store, today))
    snapshot = long_members(store.to_arrow(compiled.table), compiled.columns, today).to_pylist()
    out: dict[str, set[str]] = {name: set() for name in checked}
    for row in snapshot:
        out[row["segment"]].add(row["customer_id"])
    universe = {r[0] for r in store.raw.execute("SELECT DISTINCT customer_id FROM traits").fetchall()}
    return out, universe


def _pct(values: list[float], q: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(q * len(values)))], 3) if values else 0.0


def test_soak_build_ingest_segment_erasure_then_sigkill(tmp_path: Path) -> None:
    folder = tmp_path / "db"  # the database's folder: every byte of it is searched at the end
    folder.mkdir()
    db = folder / "shop.duckdb"
    keys = _prepare(db)
    server = Server(db, tmp_path)
    server.start()
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    segments = ["Champions", "Cart abandoners", "At Risk"]
    victim = Victim()
    ops: dict[str, Any] = {}
    timeline = {"build": 0.1, "ingest": 0.3, "segment": 0.45, "erase": 0.6}
    started = time.monotonic()

    def at(fraction: float) -> None:
        time.sleep(max(0.0, started + fraction * SECONDS - time.monotonic()))

    try:
        with Mix(server.url, keys, segments) as mix:
            victim.track_with_segment_library(server.url, keys["write"])
            got = httpx.get(f"{server.url}/v1/customers/{victim.user_id}", headers=admin, timeout=30).json()
            assert "Cart abandoners" in {s["name"] for s in got["segments"]}, got

            at(timeline["build"])
            t = time.monotonic()
            res = personae(db, "build", "--json", cwd=tmp_path)
            assert res.returncode == 0, res.stderr
            ops["build_s"] = round(time.monotonic() - t, 1)

            at(timeline["ingest"])
            file_orders = _small_orders(tmp_path / "today_orders.csv")
            res = personae(db, "ingest", "orders", str(tmp_path / "today_orders.csv"), "--json", cwd=tmp_path)
            assert res.returncode == 0, res.stderr
            assert json.loads(res.stdout)["accepted"] == len(file_orders), res.stdout

            at(timeline["segment"])
            rule = 'events("product_view", within="7d") >= 3'
            res = personae(db, "segments", "add", "--name", "Soak browsers", "--rule", rule, cwd=tmp_path)
            assert res.returncode == 0, res.stderr
            mix.segments.append("Soak browsers")

            at(timeline["erase"])
            t = time.monotonic()
            while True:  # refused (with a retry message) while another operation runs
                r = httpx.delete(
                    f"{server.url}/v1/customers/{victim.user_id}",
                    headers=admin,
                    params={"reason": "soak test request 1"},
                    timeout=600,
                )
                if r.status_code not in (409, 429, 503) or time.monotonic() - t > 300:
                    break
                time.sleep(1)
            assert r.status_code == 200, r.text
            ops["erase_s"] = round(time.monotonic() - t, 1)

            at(1.0)
            mix.killed.set()
            server.stop(signal.SIGKILL)  # mid-traffic: the senders are posting
            time.sleep(1)
        restart_s = server.start()

        # after the restart: the erased person is unknown, the live members are what they are
        r = httpx.get(f"{server.url}/v1/customers/{victim.email}", headers=admin, timeout=30)
        assert r.status_code == 404, r.text
        live_restarted = _live_members(server.url, keys["read"])
        # a build on the recovered data (handed to the server): the batch evaluation below then
        # reads the same traits as the live state, and both know everyone tracked until now
        res = personae(db, "build", "--json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        live_api = _live_members(server.url, keys["read"])
        server.stop()  # cleanly: the journal is applied, the file is free to read
    finally:
        server.stop(signal.SIGKILL)

    erased = set(victim.message_ids)
    with DuckDBStore.open(db) as store:
        con = store.raw
        counts = dict(
            con.execute(
                "SELECT event_id, count(*) FROM events WHERE event_id IN (SELECT unnest(?)) GROUP BY 1",
                [mix.acked + victim.message_ids],
            ).fetchall()
        )
        doubled = con.execute(
            "SELECT count(*) FROM (SELECT event_id FROM events WHERE event_id IS NOT NULL "
            "GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()
        stored_file_orders = con.execute(
            "SELECT count(DISTINCT order_id) FROM orders WHERE order_id LIKE 'soak-file-%'"
        ).fetchone()
        live_table: dict[str, set[str]] = {}
        for seg, cid in con.execute("SELECT segment, customer_id FROM live_memberships").fetchall():
            live_table.setdefault(seg, set()).add(cid)
        batch, universe = _batch_members(store, db)

    missing = [m for m in mix.acked if counts.get(m, 0) == 0]
    twice = [m for m in mix.acked if counts.get(m, 0) > 1]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert not twice and doubled == (0,), f"{len(twice)} acknowledged events stored twice"
    assert not erased & set(counts), "the erased person's events survived"
    assert stored_file_orders == (len(file_orders),)

    names = set(live_api)  # the segments evaluated live
    # Live segments also hold anonymous visitors (prospects: identifiers that never met a customer
    # id); batch evaluation decides on the customers with a traits row, which leaves them out
    # (docs/traits.md "Who gets a row"). So the two are compared on the customers both know,
    # and the prospects are counted and checked to be only that.
    table_vs_api = sorted(n for n in names if live_table.get(n, set()) != live_api[n])
    prospects = {n: live_api[n] - universe for n in names}
    assert all(c.startswith("anonymous_id:") for ids in prospects.values() for c in ids), prospects
    live_api = {n: live_api[n] & universe for n in names}
    mismatches = {
        n: {
            "live_only": sorted(live_api.get(n, set()) - batch.get(n, set()))[:5],
            "batch_only": sorted(batch.get(n, set()) - live_api.get(n, set()))[:5],
            "live": len(live_api.get(n, set())),
            "batch": len(batch.get(n, set())),
        }
        for n in sorted(names)
        if live_api.get(n, set()) != batch.get(n, set())
    }

    found: dict[str, list[str]] = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            hits = [n.decode() for n in victim.needles() if n in data]
            if hits:
                found[f.name] = hits

    report = {
        "seconds": SECONDS,
        "acknowledged_events": len(mix.acked),
        "acknowledged_batches": len(mix.batch_latency),
        "events_per_s": round(len(mix.acked) / SECONDS, 1),
        "not_acknowledged": dict(mix.sent_not_acked),
        "batch_latency_s": {
            "p50": _pct(mix.batch_latency, 0.5),
            "p99": _pct(mix.batch_latency, 0.99),
            "max": _pct(mix.batch_latency, 1.0),
        },
        "reads": dict(mix.reads),
        "read_latency_s": {
            "p50": _pct(mix.read_latency, 0.5),
            "p99": _pct(mix.read_latency, 0.99),
            "max": _pct(mix.read_latency, 1.0),
        },
        "operations": ops,
        "restart_s": round(restart_s, 1),
        "segments_compared": len(names),
        "live_members_at_restart": sum(len(v) for v in live_restarted.values()),
        "live_members_after_build": sum(len(v) for v in live_api.values()),
        "live_prospects_not_in_batch": {n: len(v) for n, v in prospects.items() if v},
        "live_vs_batch_mismatches": mismatches,
        "erased_bytes_found": found,
    }
    print(json.dumps(report))
    if os.environ.get("PERSONAE_SOAK_REPORT"):
        Path(os.environ["PERSONAE_SOAK_REPORT"]).write_text(json.dumps(report, indent=2) + "\n")

    assert set(mix.reads) == {200}, mix.reads  # live reads answered throughout
    assert not table_vs_api, f"live_memberships and the API differ for {table_vs_api}"
    assert not mismatches, f"live and batch memberships differ: {mismatches}"
    assert not found, f"the erased person's identifiers are still in {found}"
