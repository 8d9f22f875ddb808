"""The HTTP API of ``personae serve`` (FastAPI): the app factory with the error mapping written once
(:mod:`.app`), keys and roles (:mod:`.auth`), and one router per resource: ``customers``,
``segments``, ``keys``, ``tracking`` (the Segment spec) and ``dashboard`` (the pages and the
JSON they read, from :mod:`personae.web`). See docs/service.md and docs/dashboard.md.
"""
