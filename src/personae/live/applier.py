"""Applies journalled groups to the store, on a thread of its own, in order.

Why a thread: the writer acknowledges a group once it is in the journal
(:mod:`personae.store.journal`); writing it into DuckDB can then wait for DuckDB — its
checkpoints block every commit for about half a second — without any request waiting with
it. A backlog (the groups that arrived during a checkpoint) is applied as one transaction.

Each transaction also records the last sequence number it applied (``service_journal``), so
the store always knows exactly which journalled groups it holds.

Who waits for it:

* anything that reads the store and must see every acknowledged write waits for
  :meth:`wait_for` the journal's last sequence number (profile reads: read-your-writes);
* anything that writes the store by another way (admin calls, erasure, a failed group's
  reload) first :meth:`drain`\\ s it, so writes keep their order.

The backlog is bounded (``capacity`` groups): when DuckDB cannot keep up, :meth:`submit`
blocks the writer, its queue fills and requests get 429 — memory does not grow.
"""

from __future__ import annotations

import collections
import logging
import threading

from personae.errors import StoreError
from personae.store import Store
from personae.store.journal import Group, apply_groups

log = logging.getLogger("personae.service")


class Applier:
    """The thread that applies groups; :attr:`applied` is the last sequence number it committed."""

    def __init__(self, store: Store, applied: int, capacity: int = 256, batch_max: int = 64) -> None:
        self._store = store
        self._capacity = capacity
        self._batch_max = batch_max
        self._queue: collections.deque[Group] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        #: the batch being applied (still pending until its commit)
        self._inflight: list[Group] = []
        self.applied = applied
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="personae-applier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Apply what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def submit(self, group: Group) -> None:
        """Queue a journalled group; blocks while the backlog is full (back-pressure)."""
        with self._cond:
            self.check()
            while len(self._queue) >= self._capacity and self.error is None:
                self._cond.wait(1.0)
            self.check()
            self._queue.append(group)
            self._cond.notify_all()

    def pending(self) -> list[Group]:
        """The groups not yet committed to the store, oldest first (a snapshot)."""
        with self._cond:
            return [*self._inflight, *self._queue]

    def wait_for(self, seq: int, timeout: float = 60.0) -> None:
        """Wait until group ``seq`` and those before it are in the store."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.applied >= seq or self.error is not None, timeout):
                raise StoreError(
                    f"the store is {seq - self.applied} groups behind the journal after {timeout:.0f} s",
                    hint="the database is slow or stuck; see the server log",
                )
            self.check()

    def check(self) -> None:
        """Raise if a group could not be applied: from then on nothing more is acknowledged."""
        if self.error is not None:
            raise StoreError(
                f"acknowledged events could not be written to the database: {self.error}",
                hint="they are kept in the service journal and applied when the server restarts",
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = [self._queue.popleft() for _ in range(min(self._batch_max, len(self._queue)))]
                self._inflight = batch
                self._cond.notify_all()  # room in the backlog
            try:
                apply_groups(self._store, batch)
            except BaseException as exc:
                log.exception(
                    "could not apply journal groups %d-%d to the store", batch[0].seq, batch[-1].seq
                )
                with self._cond:
                    self.error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self.applied = batch[-1].seq
                self._inflight = []
                self._cond.notify_all()
