"""Load benchmark of the real-time service: events/s through /v1/batch and event-to-membership latency.

Bounded and loopback only: a fresh database with the "Cart abandoners" segment, ``personae serve``
on 127.0.0.1, ``--senders`` threads posting batches of ``--batch`` "Product Added" events for
``--seconds``. A request is answered only after its events, the identity links and the resulting
segment entries are committed, so the request latency *is* the event-to-membership latency;
after the run, the segment's member count is checked against the devices that sent events.

    python benchmarks/bench_service.py [--seconds 15] [--senders 4] [--batch 50] [--rate 2000]

Two ways to load it:

* closed loop (the default, ``--rate 0``): each sender posts its next batch as soon as the last
  is answered — the most the server can take; the latency then includes queueing behind the
  other senders (by Little's law about ``senders × batch / throughput``);
* open loop (``--rate N``): the senders together offer N events/s on a fixed schedule, and the
  latency of a batch is measured from the moment it was *due*, not from when it was sent, so a
  slow server cannot hide its backlog (no coordinated omission). This is the latency at a
  given throughput, which is what the target states.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from personae.segments.service import install_templates
from personae.service import keystore
from personae.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=0.0, help="offered events/s in total (0: closed loop)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    db = tmp / "bench.duckdb"
    with Store.open(db) as store:
        install_templates(store, ["Cart abandoners"])
        write = keystore.create_key(store, "write")[1]
        read = keystore.create_key(store, "read")[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PERSONAE_DB": str(db), "PERSONAE_SERVICE__RATE_LIMIT_PER_SECOND": "100000"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "personae"),
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=tmp,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        latencies: list[float] = []
        sent = [0]
        refused = [0]
        devices: set[str] = set()
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def sender(n: int) -> None:
            with httpx.Client(auth=(write, ""), timeout=30) as http:
                i = 0
                interval = args.batch * args.senders / args.rate if args.rate > 0 else 0.0
                due = time.perf_counter() + interval * n / max(args.senders, 1)
                while time.monotonic() < stop:
                    if interval:
                        wait = due - time.perf_counter()
                        if wait > 0:
                            time.sleep(wait)
                    batch = []
                    for _ in range(args.batch):
                        device = f"dev-{(n * 7919 + i) % args.devices}"
                        i += 1
                        batch.append(
                            {
                                "type": "track",
                                "anonymousId": device,
                                "event": "Product Added",
                                "messageId": uuid.uuid4().hex,
                                "properties": {"product_id": "P1"},
                            }
                        )
                    t = due if interval else time.perf_counter()
                    r = http.post(url + "/v1/batch", json={"batch": batch})
                    took = time.perf_counter() - t
                    due += interval
                    with lock:
                        if r.status_code == 200:
                            latencies.append(took)
                            sent[0] += len(batch)
                            devices.update(m["anonymousId"] for m in batch)
                        else:
                            refused[0] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=sender, args=(n,)) for n in range(args.senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        members = httpx.get(
            f"{url}/v1/segments/Cart abandoners/members?limit=1",
            headers={"Authorization": f"Bearer {read}"},
            timeout=30,
        ).json()["total"]
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        print(
            f"service: {sent[0]} events acknowledged in {elapsed:.1f}s = {sent[0] / elapsed:,.0f} events/s "
            f"({args.senders} senders, batches of {args.batch}, "
            f"{f'offered {args.rate:,.0f} events/s' if args.rate else 'closed loop'}; "
            f"{refused[0]} requests refused with 429)"
        )
        print(
            f"event-to-membership latency (request round trip, committed): "
            f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms"
        )
        print(f"live members of 'Cart abandoners': {members} (devices that sent events: {len(devices)})")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


if __name__ == "__main__":
    main()
