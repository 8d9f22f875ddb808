"""Where the service's writes go: the journal first (durable, acknowledged), the store after.

:class:`CommitLog` is the one door the writer thread writes through:

* :meth:`write` — a group's deletes and appends: journalled and ``fdatasync``\\ ed (from here
  the group survives a crash and the request may be acknowledged), then queued for the
  :class:`~personae.live.applier.Applier`;
* :meth:`barrier` — wait until the store holds every acknowledged group (before reading the
  store on the writer thread, or writing it another way); empties the journal when it can;
* :meth:`visible` — the same wait, for readers on other threads (read-your-writes);
* :meth:`open` — replays what a crash left in the journal before the service loads its state.

Without a journal (``service.journal: false``, or an in-memory database) :meth:`write`
writes the store directly and waits for its commit, as before the journal existed.
"""

from __future__ import annotations

import pyarrow as pa

from personae.live.applier import Applier
from personae.store import Store
from personae.store.journal import Group, Journal, Rows, applied_seq, journal_path, replay


class CommitLog:
    """The journal and its applier for one store (see the module's docstring)."""

    def __init__(
        self,
        store: Store,
        journal: Journal | None,
        *,
        backlog: int = 256,
        truncate_bytes: int = 64 << 20,
    ) -> None:
        self.store = store
        self.journal = journal
        self._truncate_bytes = truncate_bytes
        #: the last sequence number journalled (acknowledged); only a journal numbers groups
        self.seq = applied_seq(store) if journal else 0
        self.applier: Applier | None = Applier(store, self.seq, capacity=backlog) if journal else None

    @classmethod
    def open(cls, store: Store, *, enabled: bool = True, backlog: int = 256) -> CommitLog:
        """The commit log of ``store``, after replaying any group a crash left unapplied.

        The replay happens whenever a journal file is there — also with the journal turned off
        since the crash: those groups were acknowledged.
        """
        if store.path == ":memory:":
            return cls(store, None)
        path = journal_path(store.path)
        if not enabled and not path.exists():
            return cls(store, None)
        journal = Journal(path)  # locked from here until the server stops
        replay(store, journal)  # normally nothing left: Store.open replayed it already
        if not enabled:
            journal.close()
            path.unlink()
            return cls(store, None)
        return cls(store, journal, backlog=backlog)

    def start(self) -> None:
        if self.applier is not None:
            self.applier.start()

    def close(self) -> None:
        """Apply what is queued, then close the journal (emptied once all of it is applied)."""
        if self.applier is not None:
            self.applier.stop()
        if self.journal is not None:
            if self.applier is not None and self.applier.error is None and self.applier.applied >= self.seq:
                self.journal.truncate()
            self.journal.close()

    # -- the writer thread ------------------------------------------------------------------------
    def write(self, deletes: Rows, appends: Rows) -> None:
        """Make a group durable: on return it may be acknowledged."""
        if not any(t.num_rows for _, t in (*deletes, *appends)):
            return
        if self.journal is None or self.applier is None:
            self.store.write_many(deletes, appends)
            return
        self.applier.check()  # a store that failed takes nothing more: no acknowledgement
        size = self.journal.size
        if size > self._truncate_bytes and self.applier.applied >= self.seq:
            self.journal.truncate()  # every group in it is in the store
        elif size > 4 * self._truncate_bytes:
            self.barrier()  # the applier never caught up between groups: wait for it once
        self.seq += 1
        self.journal.append(self.seq, deletes, appends)
        self.applier.submit(Group(self.seq, list(deletes), list(appends)))

    def barrier(self, timeout: float = 60.0) -> None:
        """Wait until the store holds every acknowledged group; empty the journal then.

        Call on the writer thread before reading the store for a decision, or writing it
        another way (admin calls, erasure): either must see, or come after, every group.
        """
        if self.journal is None:
            return
        self.visible(timeout)
        if self.journal.size:
            self.journal.truncate()

    def pending(self, table: str) -> list[pa.Table]:
        """The rows appended to ``table`` by groups acknowledged but not yet in the store.

        A decision that reads the store (is this order line stored already? what does this
        profile hold?) reads these too, without waiting for the applier. Take them *before*
        reading the store: a group applied in between is then in both (harmless) rather than
        in neither.
        """
        if self.applier is None:
            return []
        return [rows for g in self.applier.pending() for name, rows in g.appends if name == table]

    # -- readers ------------------------------------------------------------------------------------
    def visible(self, timeout: float = 60.0) -> None:
        """Wait until every group acknowledged so far is readable in the store."""
        if self.applier is not None:
            self.applier.wait_for(self.seq, timeout)
