"""The application layer: one module of use cases per feature, named like its domain package and
its CLI command (``clusters``, ``clv``, ``segments``, ``experience``, ``voice``, ``journeys``,
``recommend``, ``actions``, ``webhooks``, ``impact``, ``privacy``, ``customers``, ``ingest``,
``build``, ``demo``, ``export``, ``keys``, ``traits``, ``report``, ``audit``, ``tombstones``).

A use case reads the store, calls the pure domain and writes results back; the CLI, the API,
the dashboard and the report are thin shells over these functions. Reads every feature shares
are written once in :mod:`personae.app.reads`; the steps of ``personae build`` are listed once
in :data:`personae.app.build.BUILD_STEPS`. See docs/architecture.md.
"""
