"""The dashboard's content: what its pages read (:mod:`.data`), its templates and its one script and
stylesheet (``templates/``, ``static/``). :mod:`personae.api.dashboard` serves them. See
docs/dashboard.md.
"""
