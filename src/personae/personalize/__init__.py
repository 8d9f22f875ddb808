"""Personalization: recommendations, next best actions, messages, holdouts and impact.

Domain package (no I/O): NumPy/SciPy computations over arrays the application layer loads
from the store, and pure decisions over one customer's context. The application modules
(:mod:`personae.app.recommend`, :mod:`personae.app.actions`, :mod:`personae.app.webhooks`,
:mod:`personae.app.impact`) read and write the store, send HTTP and call these.
"""
