"""The real-time engine behind ``personae serve``: tracking, identity, live segments, durable writes.

* :mod:`~personae.live.payloads`, :mod:`~personae.live.tracking` — the Segment spec's
  messages and how they map to canonical rows (pure);
* :mod:`~personae.live.identity`, :mod:`~personae.live.segments`, :mod:`~personae.live.rowcheck`
  — incremental identity stitching, live memberships, row-wise validation/keys from the same
  ``TableSpec`` rules as file ingest (pure);
* :mod:`~personae.live.commit`, :mod:`~personae.live.writer`, :mod:`~personae.live.commit_log`,
  :mod:`~personae.live.applier`, :mod:`~personae.live.loading`, :mod:`~personae.live.runtime` —
  group commit, the writer thread, the journal and its applier, store I/O (keys go through
  :mod:`personae.app.keys`, webhooks through :mod:`personae.app.webhooks`, recommendations and
  next best actions through :mod:`personae.app.recommend` and :mod:`personae.app.actions`).

The HTTP routes that drive it are in :mod:`personae.api`.

See docs/service.md.
"""
