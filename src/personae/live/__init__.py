"""The real-time service (``personae serve``): Segment-compatible tracking, profiles, live segments.

* :mod:`~personae.live.payloads`, :mod:`~personae.live.tracking` — the Segment spec's
  messages and how they map to canonical rows (pure);
* :mod:`~personae.live.identity`, :mod:`~personae.live.segments`, :mod:`~personae.privacy.keys`,
  :mod:`~personae.live.rowcheck` — incremental identity stitching, live memberships, key
  roles, row-wise validation/keys from the same ``TableSpec`` rules as file ingest (pure);
* :mod:`~personae.live.commit`, :mod:`~personae.live.writer`, :mod:`~personae.live.loading`,
  :mod:`~personae.app.keys`, :mod:`~personae.live.runtime` — group commit, the
  writer thread, store I/O (webhooks go through :mod:`personae.app.webhooks`, recommendations
  and next best actions through :mod:`personae.app.recommend` and :mod:`personae.app.actions`);
* :mod:`~personae.api.app`, :mod:`~personae.api.auth`, ``routes_*`` — the FastAPI app.

See docs/service.md.
"""
