"""The writer thread: group commit, its optional linger, and back-pressure."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from personae.errors import Overloaded
from personae.live.commit import TrackJob
from personae.live.writer import Writer


def _job(n: int) -> TrackJob:
    return TrackJob(messages=[object()] * n, received_at=datetime.now(UTC), endpoint="/v1/batch", key_id="k")


class Recorder:
    """A commit function that records the size of each group, and can be held back."""

    def __init__(self) -> None:
        self.groups: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, jobs: list[TrackJob]) -> list[Any]:
        self.entered.set()
        self.gate.wait(5)
        self.groups.append(len(jobs))
        return [len(j.messages) for j in jobs]


def _writer(commit: Recorder, *, linger: float = 0.0, group_max: int = 100, capacity: int = 1000) -> Writer:
    return Writer(commit, capacity, group_max, lambda: None, 3600, lambda: None, linger_seconds=linger)


def test_each_request_is_answered_after_its_group_and_requests_waiting_share_one() -> None:
    commit = Recorder()
    commit.gate.clear()  # hold the first group so the next three queue up behind it
    w = _writer(commit)
    w.start()
    try:
        first = w.submit(_job(5))
        assert commit.entered.wait(5)  # the writer is committing the first group
        rest = [w.submit(_job(5)) for _ in range(3)]
        commit.gate.set()
        assert first.result(5) == 5 and [f.result(5) for f in rest] == [5, 5, 5]
    finally:
        w.stop()
    assert commit.groups == [1, 3]


def test_with_a_linger_requests_sent_close_together_share_a_commit() -> None:
    commit = Recorder()
    w = _writer(commit, linger=0.5)
    w.start()
    try:
        futures = [w.submit(_job(5))]
        time.sleep(0.1)  # without a linger the writer has committed the first alone by now
        futures += [w.submit(_job(5)) for _ in range(2)]
        assert [f.result(5) for f in futures] == [5, 5, 5]
    finally:
        w.stop()
    assert commit.groups == [3]


def test_without_a_linger_the_writer_does_not_wait() -> None:
    commit = Recorder()
    w = _writer(commit)
    w.start()
    try:
        futures = [w.submit(_job(5))]
        time.sleep(0.1)
        futures += [w.submit(_job(5)) for _ in range(2)]
        assert [f.result(5) for f in futures] == [5, 5, 5]
    finally:
        w.stop()
    assert commit.groups[0] == 1


def test_a_full_group_does_not_wait_for_the_linger() -> None:
    commit = Recorder()
    w = _writer(commit, linger=30.0, group_max=10)  # a linger the test would notice
    w.start()
    try:
        futures = [w.submit(_job(5)) for _ in range(2)]  # 10 messages: the group is full
        assert [f.result(5) for f in futures] == [5, 5]
    finally:
        w.stop()


def test_a_full_queue_refuses_at_once() -> None:
    commit = Recorder()
    commit.gate.clear()
    w = _writer(commit, capacity=10)
    w.start()
    try:
        w.submit(_job(6))
        with pytest.raises(Overloaded, match="queue is full"):
            w.submit(_job(6))
    finally:
        commit.gate.set()
        w.stop()


def test_the_chore_runs_between_groups_at_its_interval_and_its_failure_stops_nothing() -> None:
    commit = Recorder()
    runs: list[int] = []

    def chore() -> None:
        runs.append(len(commit.groups))
        if len(runs) == 1:
            raise RuntimeError("the first chore fails")

    w = Writer(commit, 1000, 100, lambda: None, 3600, lambda: None, chore=chore, chore_seconds=0.0)
    w.start()
    try:
        for _ in range(3):
            assert w.submit(_job(1)).result(5) == 1
    finally:
        w.stop()
    assert len(runs) >= 3 and runs[:3] == [1, 2, 3]  # after each group, not inside one
    slow = Writer(commit, 1000, 100, lambda: None, 3600, lambda: None, chore=chore, chore_seconds=3600)
    before = len(runs)
    slow.start()
    try:
        assert slow.submit(_job(1)).result(5) == 1
    finally:
        slow.stop()
    assert len(runs) == before  # not due yet


def test_a_tick_starts_the_steps_which_run_until_done_also_while_idle_and_between_groups() -> None:
    commit = Recorder()
    left = [5]
    ticks: list[float] = []

    def step() -> bool:
        left[0] -= 1
        return left[0] > 0

    w = Writer(commit, 1000, 100, lambda: ticks.append(time.monotonic()), 0.2, lambda: None, step=step)
    w.start()
    try:
        deadline = time.monotonic() + 5
        while left[0] > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert left[0] == 0 and ticks  # no request was sent: the steps ran on their own after a tick
        assert w.submit(_job(1)).result(5) == 1  # and the writer still answers
    finally:
        w.stop()
