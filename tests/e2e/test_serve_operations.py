"""Operations while ``personae serve`` runs, for real: the server in a subprocess, the commands in
others, events tracked through the API all along (docs/service.md, "Operations").

``personae build``, ``ingest``, ``segments list`` and ``report`` on the served database are
run by the server; tracking goes on (every acknowledged event stored exactly once) and live
segment reads keep answering 200 meanwhile. ``service.build_schedule`` runs builds on its own.
A second server, and any command on a file another process holds, end in one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import BIN, SAMPLE, Server, free_port, personae

from personae.app import keys as keystore
from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.app.segments.library import install_templates
from personae.config import load_settings
from personae.store import DuckDBStore

ORDERS_MAP = ["--map", "amount=dollars", "--map", "ordered_at=date", "--map", "quantity=cds"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.cdnow,
    pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/datasets/cdnow"),
]


def _prepare(db: Path) -> dict[str, str]:
    """The CDNOW sample, built once (so live segments have traits), a template and keys."""
    settings = load_settings(db=db)
    with DuckDBStore.open(db) as store:
        ingest_file(
            store,
            "orders",
            SAMPLE,
            mapping={"amount": "dollars", "ordered_at": "date", "quantity": "cds"},
            date_format="%Y%m%d",
        )
        run_build(store, settings=settings, quiet=True)
        install_templates(store, ["Cart abandoners"])
        return {role: keystore.create_key(store, role)[1] for role in ("write", "read")}


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    db = tmp_path / "shop.duckdb"
    keys = _prepare(db)
    server = Server(db, tmp_path)
    server.start()
    yield server, keys
    server.stop(signal.SIGKILL)


class Traffic:
    """Events tracked (and live segments read) on threads of their own, counting what happened."""

    def __init__(self, server: Server, keys: dict[str, str]) -> None:
        self.server, self.keys = server, keys
        self.acked: list[str] = []
        self.reads: dict[int, int] = {}
        self.read_times: list[float] = []
        self.refused = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send), threading.Thread(target=self._read)]

    def __enter__(self) -> Traffic:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.acked) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acked) >= n

    def _send(self) -> None:
        with httpx.Client(auth=(self.keys["write"], ""), timeout=120) as http:
            i = 0
            while not self._stop.is_set():
                ids = [uuid.uuid4().hex for _ in range(10)]
                batch = [
                    {
                        "type": "track",
                        "userId": f"{(i + k) % 3000 + 1:05d}",  # CDNOW ids, and new ones
                        "event": "Product Added",
                        "messageId": m,
                        "properties": {"product_id": "P1", "price": 9.5},
                    }
                    for k, m in enumerate(ids)
                ]
                i += len(ids)
                r = http.post(f"{self.server.url}/v1/batch", json={"batch": batch})
                if r.status_code == 200:
                    self.acked.extend(ids)
                else:
                    assert r.status_code == 429, r.text  # back-pressure: SDKs retry these
                    self.refused += 1
                    time.sleep(0.2)

    def _read(self) -> None:
        read = {"Authorization": f"Bearer {self.keys['read']}"}
        with httpx.Client(headers=read, timeout=60) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                r = http.get(f"{self.server.url}/v1/segments/Champions/members", params={"limit": 5})
                self.read_times.append(time.perf_counter() - started)
                self.reads[r.status_code] = self.reads.get(r.status_code, 0) + 1
                time.sleep(0.02)


def test_commands_run_inside_the_server_while_it_tracks(
    served: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    server, keys = served
    db = server.db
    with Traffic(server, keys) as traffic:
        traffic.wait_for(200)  # before
        res = personae(db, "build", "--as-of", "1998-06-30", "--json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        summary = json.loads(res.stdout)
        assert summary["customers"] >= 2357  # CDNOW's, and who was tracked before it
        assert list(summary["steps"]) and summary["as_of"] == "1998-06-30"
        during_build = len(traffic.acked)

        res = personae(db, "build", cwd=tmp_path)  # the people's output: a line per step
        assert res.returncode == 0, res.stderr
        assert "traits, rfm and lifecycle:" in res.stdout
        res = personae(
            db,
            "ingest",
            "orders",
            str(SAMPLE),
            *ORDERS_MAP,
            "--date-format",
            "%Y%m%d",
            "--json",
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stderr
        ingested = json.loads(res.stdout)
        assert ingested["read"] == 6919 and ingested["duplicates"] == 6919  # all stored already

        res = personae(db, "segments", "list", "--json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        listed = {r["name"]: r for r in json.loads(res.stdout)}
        assert listed["Champions"]["members"] > 0 and "Cart abandoners" in listed

        res = personae(
            db, "segments", "add", "--name", "Big spenders", "--rule", "monetary > 100", cwd=tmp_path
        )
        assert res.returncode == 0, res.stderr
        assert "created segment Big spenders" in res.stdout
        res = personae(db, "segments", "check", "monetery > 1", cwd=tmp_path)
        assert res.returncode == 2 and res.stderr.startswith("error: unknown"), res.stderr
        assert "^" in res.stderr  # the caret under the problem, as without a server

        out = tmp_path / "report"
        res = personae(db, "report", "--out", str(out), "--json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert (out / "report.html").stat().st_size > 10_000
        traffic.wait_for(len(traffic.acked) + 200)  # after
    # the new segment is live at once
    read = {"Authorization": f"Bearer {keys['read']}"}
    members = httpx.get(f"{server.url}/v1/segments/Big spenders/members", headers=read, timeout=10).json()
    assert members["total"] > 0
    status = httpx.get(f"{server.url}/v1/admin/status", headers=server.admin(), timeout=10).json()
    assert status["last_build"]["ok"] and status["last_build"]["cause"] == "request"
    # nobody without the local token runs anything
    assert httpx.post(f"{server.url}/v1/admin/build", headers=read, timeout=10).status_code == 401
    server.stop()
    assert not Path(f"{db.resolve()}.serve.json").exists()  # a clean stop removes it

    assert set(traffic.reads) == {200}, traffic.reads  # live segments answered throughout
    assert during_build > 200
    with DuckDBStore.open(db) as store:
        stored = store.raw.execute(
            "SELECT event_id, count(*) FROM events WHERE event_id IN (SELECT unnest(?)) GROUP BY 1",
            [traffic.acked],
        ).fetchall()
    assert len(stored) == len(set(traffic.acked)) and all(n == 1 for _, n in stored)
    print(
        json.dumps(
            {
                "acknowledged": len(traffic.acked),
                "refused_429": traffic.refused,
                "live_reads": traffic.reads,
                "slowest_read_s": round(max(traffic.read_times), 3),
            }
        )
    )


def test_a_scheduled_build_runs_on_its_own(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    _prepare(db)
    server = Server(db, tmp_path, {"PERSONAE_SERVICE__BUILD_SCHEDULE": "@every 3s"})
    server.start()
    try:
        deadline = time.monotonic() + 120
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/v1/admin/status", headers=server.admin(), timeout=10).json()
            if status["last_build"]:
                break
            time.sleep(0.5)
        assert status["build_schedule"] == "@every 3s"
        assert status["last_build"]["cause"] == "schedule" and status["last_build"]["ok"], status
        assert status["last_build"]["customers"] == 2357
    finally:
        server.stop()
    assert "build (schedule) as of 1998-06-30: 2357 customers" in server.log.read_text()


def test_a_bad_schedule_stops_the_start_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    env = {**os.environ, "PERSONAE_SERVICE__BUILD_SCHEDULE": "0 25 * * *"}
    res = subprocess.run(
        [str(BIN / "personae"), "--db", str(db), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "error: service.build_schedule '0 25 * * *': the hour field '25' is outside 0-23 "
        "(write a cron expression such as '0 3 * * *' (03:00 UTC daily), '@daily' or '@every 6h')"
    ]


def test_a_second_server_and_a_foreign_lock_are_one_line(
    served: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    server, _ = served
    res = personae(server.db, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert res.returncode == 1
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and "already served by `personae serve`" in line
    assert f"pid {server.proc.pid if server.proc else ''}" in line and line.endswith(")")
    # a command the server does not run for you: says who holds the file
    res = personae(server.db, "traits", "show", "00001", cwd=tmp_path)
    (line,) = res.stderr.strip().splitlines()
    assert res.returncode == 1 and "held by `personae serve`" in line and "stop the server" in line
    server.stop()

    # the file held by something else: a plain DuckDB connection in another process
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(server.db)!r}); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for args in (("serve", "--port", str(free_port())), ("build",), ("segments", "list")):
            res = personae(server.db, *args, cwd=tmp_path)
            assert res.returncode == 1, (args, res.stderr)
            (line,) = res.stderr.strip().splitlines()
            assert line.startswith("error: ") and f"locked by process {holder.pid}" in line, line
            assert "Traceback" not in res.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_file_left_by_a_killed_server_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    _prepare(db)
    server = Server(db, tmp_path)
    server.start()
    server.stop(signal.SIGKILL)
    left = Path(f"{db.resolve()}.serve.json")
    assert left.exists() and oct(left.stat().st_mode & 0o777) == "0o600"
    res = personae(db, "segments", "list", "--json", cwd=tmp_path)  # runs on the file itself
    assert res.returncode == 0, res.stderr
    assert any(r["name"] == "Champions" for r in json.loads(res.stdout))
