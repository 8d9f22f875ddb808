"""The single writer thread: a bounded queue, group commit, and the schedule.

Why one thread: DuckDB serialises writers anyway, and one owner of the write connection makes
every commit a clean unit (rows + identities + memberships). Requests wait on a future that is
resolved only after their group's transaction committed — that is the acknowledgement.

Back-pressure: the queue is bounded in *messages*; a request that would overflow it is refused
at once (:class:`~personae.errors.Overloaded` → HTTP 429 with ``Retry-After``) instead of
memory growing.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from personae.errors import Overloaded
from personae.live.commit import TrackJob

log = logging.getLogger("personae.service")


class Writer:
    """Runs tracking groups, admin calls and the periodic task on one thread.

    Args:
        commit: processes a group of tracking jobs; returns one result per job.
        capacity: most messages waiting at once.
        group_max: most messages per group (one transaction).
        tick: the periodic task (exits of time-window rules), run every ``tick_seconds``.
        on_failure: called after a failed group (the runtime reloads its state from the store).
        chore: a short task run between groups every ``chore_seconds`` while there is work
            (the runtime's garbage-collector housekeeping).
        step: one small piece of background work (the day change's re-evaluation, in steps);
            returns ``True`` while more remains. Started by each tick, it then runs between
            groups, and back to back while no request waits.
    """

    def __init__(
        self,
        commit: Callable[[list[TrackJob]], list[Any]],
        capacity: int,
        group_max: int,
        tick: Callable[[], None],
        tick_seconds: float,
        on_failure: Callable[[], None],
        linger_seconds: float = 0.0,
        before_call: Callable[[], None] | None = None,
        chore: Callable[[], None] | None = None,
        chore_seconds: float = 2.0,
        step: Callable[[], bool] | None = None,
    ) -> None:
        self._step = step
        self._stepping = False
        self._chore = chore
        self._chore_seconds = chore_seconds
        self._commit = commit
        #: run before each call (the commit log's barrier: a call sees every acknowledged group)
        self._before_call = before_call
        self._linger = linger_seconds
        self._capacity = capacity
        self._group_max = group_max
        self._tick = tick
        self._tick_seconds = tick_seconds
        self._on_failure = on_failure
        self._queue: collections.deque[tuple[str, Any, Future[Any]]] = collections.deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="personae-writer", daemon=True)

    @property
    def pending(self) -> int:
        return self._pending

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def submit(self, job: TrackJob) -> Future[Any]:
        n = max(len(job.messages), 1)
        future: Future[Any] = Future()
        with self._cond:
            if self._stopping:
                raise Overloaded("the server is shutting down", hint="retry against the restarted server")
            if self._pending + n > self._capacity:
                raise Overloaded(
                    f"the write queue is full ({self._pending} messages waiting)", hint="retry after a second"
                )
            self._pending += n
            self._queue.append(("track", job, future))
            self._cond.notify()
        return future

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the writer thread (admin writes), between groups."""
        future: Future[Any] = Future()
        with self._cond:
            self._queue.append(("call", fn, future))
            self._cond.notify()
        return future

    def _run(self) -> None:
        last_tick = last_chore = time.monotonic()
        while True:
            with self._cond:
                while not self._queue and not self._stopping and not self._stepping:
                    wait = self._tick_seconds - (time.monotonic() - last_tick)
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping and not self._queue:
                    return
                self._linger_for_more()
                items = self._take()
            if items:
                self._process(items)
            if self._stepping:
                self._stepping = self._run_step()
            if self._chore is not None and time.monotonic() - last_chore >= self._chore_seconds:
                last_chore = time.monotonic()
                try:
                    self._chore()
                except Exception:
                    log.exception("housekeeping failed")
            if time.monotonic() - last_tick >= self._tick_seconds:
                last_tick = time.monotonic()
                try:
                    self._tick()
                except Exception:
                    log.exception("scheduled re-evaluation failed")
                    self._on_failure()
                self._stepping = self._step is not None

    def _run_step(self) -> bool:
        assert self._step is not None
        try:
            return self._step()
        except Exception:
            log.exception("scheduled re-evaluation failed")
            self._on_failure()
            return False

    def _linger_for_more(self) -> None:
        """With tracking at the head of the queue and room in the group, wait up to the linger
        time for more requests to share the commit (called holding the condition)."""
        if self._linger <= 0 or not self._queue or self._queue[0][0] != "track":
            return
        deadline = time.monotonic() + self._linger
        while not self._stopping and self._pending < self._group_max:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _take(self) -> list[tuple[str, Any, Future[Any]]]:
        if not self._queue:
            return []
        first = self._queue.popleft()
        if first[0] != "track":
            return [first]
        items, count = [first], len(first[1].messages)
        while self._queue and self._queue[0][0] == "track" and count < self._group_max:
            item = self._queue.popleft()
            items.append(item)
            count += len(item[1].messages)
        return items

    def _process(self, items: list[tuple[str, Any, Future[Any]]]) -> None:
        if items[0][0] == "call":
            _, fn, future = items[0]
            try:
                if self._before_call is not None:
                    self._before_call()
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
            return
        jobs = [item[1] for item in items]
        n = sum(max(len(j.messages), 1) for j in jobs)
        try:
            results = self._commit(jobs)
        except BaseException as exc:
            log.exception("group commit failed; %d requests get an error", len(jobs))
            for _, _, future in items:
                future.set_exception(exc)
            self._on_failure()
        else:
            for (_, _, future), result in zip(items, results, strict=True):
                future.set_result(result)
        finally:
            with self._cond:
                self._pending -= n
