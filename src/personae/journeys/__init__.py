"""Customer journey analytics: funnels, touches before buying, paths, drop-offs, charts.

Domain package (no I/O): Ibis expressions over the touch stream (events + orders, see
:mod:`~personae.journeys.touchpoints`) and plain-data summaries of their small results.
:mod:`personae.app.journeys` runs them through the store; ``personae journey`` is the CLI.

* :mod:`~personae.journeys.funnel` — step funnels (window, loose/strict order, time to next)
* :mod:`~personae.journeys.lifecycle` — awareness → … → advocacy, from the journey-stage trait
* :mod:`~personae.journeys.touches` — interactions and touchpoints before each order
* :mod:`~personae.journeys.paths` — paths to an outcome and where they diverge
* :mod:`~personae.journeys.dropoffs` — drop-off ranking, growing drop-offs, pain points
* :mod:`~personae.journeys.charts` — funnel chart and flow (Sankey) diagram
"""
