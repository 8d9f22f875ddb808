"""Rule-based segments: one language, two evaluators, memberships with history.

Domain (no store, no I/O):

* :mod:`~personae.segments.language` — tokens, parser, syntax tree (the grammar);
* :mod:`~personae.segments.functions` — the function registry, filters and time windows;
* :mod:`~personae.segments.check` — names, types, "did you mean", → the typed tree of
  :mod:`~personae.segments.expr`;
* :mod:`~personae.segments.batch` — typed tree → one Ibis query over all customers;
* :mod:`~personae.segments.realtime` — typed tree → Python closures over one customer's state;
* :mod:`~personae.segments.definitions`, :mod:`~personae.segments.dependencies`,
  :mod:`~personae.segments.builtin` — named segments, their order, the built-in ones;
* :mod:`~personae.segments.membership`, :mod:`~personae.segments.analysis` — snapshots,
  entries/exits, overlap and migration as expressions;
* :mod:`~personae.segments.reference` — every name, for ``segments names`` and the docs.

Application (reads and writes the store): :mod:`~personae.app.segments.library` (definitions,
templates), :mod:`~personae.app.segments.run` (the ``segments`` build step),
:mod:`~personae.app.segments.reports` (members, changes, overlap, migration).

See docs/segments.md.
"""
